//! Images and containers as tars: `GET /images/get` and
//! `/images/{name}/get` (save), `POST /images/load`, `POST /commit`, and
//! `GET /containers/{id}/export`.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use super::off_runtime;
use crate::api::body::{channel, BodyReader, Sender};
use crate::api::{error, full, json, Call, Reply};
use crate::daemon::{CommitRequest, Daemon};
use crate::error::EngineError;

/// Saves `names` (one from the path, or `names=` repeated): every name
/// is resolved before the first byte goes out, so a missing one is a 404.
pub(super) async fn save(d: Arc<Daemon>, call: &Call, name: Option<&str>) -> Reply {
    let names = match name {
        Some(n) => vec![n.to_string()],
        None => call.all("names"),
    };
    if names.is_empty() {
        return error(&EngineError::InvalidParameter(
            "names: give at least one image".into(),
        ));
    }
    let d2 = d.clone();
    let images = match off_runtime(move || d2.images_to_save(&names)).await {
        Ok(i) => i,
        Err(e) => return error(&e),
    };
    let (tx, body) = channel();
    std::thread::spawn(move || {
        let mut out = std::io::BufWriter::with_capacity(256 << 10, ChannelWriter(tx));
        if let Err(e) = d.images.save(&images, &mut out) {
            // The client sees a cut archive; the log says why.
            tracing::error!(error = %e, "saving images");
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/x-tar")
        .body(body.boxed())
        .expect("a valid response")
}

/// Loads the archive in the request body; answers Docker's lines.
/// (`quiet` leaves out progress bars, and there are none.)
pub(super) async fn load(d: Arc<Daemon>, req: Request<Incoming>) -> Reply {
    let reader = BodyReader::new(req.into_body());
    let loaded = match off_runtime(move || d.load_images(reader)).await {
        Ok(l) => l,
        Err(e) => return error(&e),
    };
    let mut lines = String::new();
    for l in loaded {
        let said = match l.tags.is_empty() {
            true => vec![format!("Loaded image ID: {}\n", l.id)],
            false => l
                .tags
                .iter()
                .map(|t| format!("Loaded image: {t}\n"))
                .collect(),
        };
        for s in said {
            lines.push_str(&format!("{}\n", json!({"stream": s})));
        }
    }
    full(StatusCode::OK, "application/json", lines)
}

/// The response body as `std::io::Write` (buffered by its user).
pub(super) struct ChannelWriter(pub(super) Sender);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.send(bytes::Bytes::copy_from_slice(buf)) {
            true => Ok(buf.len()),
            false => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client has gone",
            )),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`,
/// the body a run config whose members override the container's.
pub(super) async fn commit(d: Arc<Daemon>, call: &Call, req: Request<Incoming>) -> Reply {
    let Some(container) = call.q("container").filter(|c| !c.is_empty()) else {
        return error(&EngineError::InvalidParameter(
            "container: give the container to commit".into(),
        ));
    };
    let reference = match (call.q("repo").filter(|r| !r.is_empty()), call.q("tag")) {
        (Some(r), Some(t)) if !t.is_empty() => Some(format!("{r}:{t}")),
        (Some(r), _) => Some(r.to_string()),
        (None, Some(t)) if !t.is_empty() => {
            return error(&EngineError::InvalidParameter(format!(
                "tag: {t:?} given without a repository"
            )))
        }
        _ => None,
    };
    let config = match super::read_value(req).await {
        Ok(v) if v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) => None,
        Ok(v) => match super::typed(v) {
            Ok(c) => Some(c),
            Err(e) => return error(&e),
        },
        // No body at all: nothing overrides.
        Err(_) => None,
    };
    let r = CommitRequest {
        container: container.to_string(),
        reference,
        comment: call.q("comment").unwrap_or_default().to_string(),
        author: call.q("author").unwrap_or_default().to_string(),
        pause: call.q("pause").is_none() || call.flag("pause"),
        changes: call.all("changes"),
        config,
    };
    match off_runtime(move || d.commit(r)).await {
        Ok(id) => json(StatusCode::CREATED, &json!({"Id": id})),
        Err(e) => error(&e),
    }
}

/// `GET /containers/{id}/export`: the container's filesystem as a tar.
pub(super) async fn export(d: Arc<Daemon>, name: &str) -> Reply {
    let (d2, name) = (d.clone(), name.to_string());
    let dirs = match off_runtime(move || d2.export_layers(&name)).await {
        Ok(dirs) => dirs,
        Err(e) => return error(&e),
    };
    let (tx, body) = channel();
    std::thread::spawn(move || {
        let out = std::io::BufWriter::with_capacity(256 << 10, ChannelWriter(tx));
        if let Err(e) = crate::image::merged_tar(&dirs, out) {
            tracing::error!(error = %e, "exporting a container");
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/x-tar")
        .body(body.boxed())
        .expect("a valid response")
}

/// `GET /containers/{id}/changes` (`docker diff`): `null` when there are
/// none, as Docker answers.
pub(super) async fn changes(d: Arc<Daemon>, name: &str) -> Reply {
    let name = name.to_string();
    super::blocking(move || {
        let changes = d.changes(&name)?;
        let rows: Vec<serde_json::Value> = changes
            .iter()
            .map(|(path, kind)| json!({"Path": path, "Kind": kind}))
            .collect();
        let rows = (!rows.is_empty()).then_some(rows);
        Ok(crate::api::json(StatusCode::OK, &json!(rows)))
    })
    .await
}
