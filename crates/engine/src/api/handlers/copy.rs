//! The archive API (`docker cp`): `HEAD`, `GET` and `PUT
//! /containers/{id}/archive?path=`, the path's stat in the
//! `X-Docker-Container-Path-Stat` header (base64 of its JSON).

use std::io::Read;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::archive::ChannelWriter;
use super::off_runtime;
use crate::api::body::{channel, BodyReader};
use crate::api::{empty, error, Call, Reply};
use crate::archive::PathStat;
use crate::daemon::Daemon;
use crate::error::EngineError;

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

fn stat_header(stat: &PathStat) -> String {
    use base64::Engine;
    let json = serde_json::to_vec(stat).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(json)
}

fn path(call: &Call) -> Result<String, EngineError> {
    match call.q("path").filter(|p| !p.is_empty()) {
        Some(p) => Ok(p.to_string()),
        None => Err(EngineError::InvalidParameter(
            "path: give the path in the container".into(),
        )),
    }
}

/// A HEAD's answer carries no body: only the status of an error.
fn head_error(e: &EngineError) -> Reply {
    let mut reply =
        empty(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    let _ = e;
    reply.headers_mut().insert(
        "Content-Type",
        "application/json".parse().expect("a header"),
    );
    reply
}

pub(super) async fn stat(d: Arc<Daemon>, id: &str, call: &Call) -> Reply {
    let (id, path) = match path(call) {
        Ok(p) => (id.to_string(), p),
        Err(e) => return head_error(&e),
    };
    match off_runtime(move || d.path_stat(&id, &path)).await {
        Ok(stat) => {
            let mut reply = empty(StatusCode::OK);
            if let Ok(v) = stat_header(&stat).parse() {
                reply.headers_mut().insert(STAT_HEADER, v);
            }
            reply
        }
        Err(e) => head_error(&e),
    }
}

pub(super) async fn get(d: Arc<Daemon>, id: &str, call: &Call) -> Reply {
    let (id, path) = match path(call) {
        Ok(p) => (id.to_string(), p),
        Err(e) => return error(&e),
    };
    let out = match off_runtime(move || d.archive_path(&id, &path)).await {
        Ok(out) => out,
        Err(e) => return error(&e),
    };
    let header = stat_header(&out.stat);
    let (tx, body) = channel();
    std::thread::spawn(move || {
        let mut out = out;
        let mut writer = std::io::BufWriter::with_capacity(256 << 10, ChannelWriter(tx));
        let copied = std::io::copy(&mut out.tar, &mut writer).and_then(|_| {
            use std::io::Write;
            writer.flush()
        });
        drop(writer);
        if let Err(e) = copied
            .map_err(|e| e.to_string())
            .and_then(|()| out.finish().map_err(|e| e.to_string()))
        {
            // The client sees a cut archive; the log says why.
            tracing::error!(error = %e, "archiving a container's path");
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/x-tar")
        .header(STAT_HEADER, header)
        .body(http_body_util::BodyExt::boxed(body))
        .expect("a valid response")
}

pub(super) async fn put(d: Arc<Daemon>, id: &str, call: &Call, req: Request<Incoming>) -> Reply {
    let (id, path) = match path(call) {
        Ok(p) => (id.to_string(), p),
        Err(e) => return error(&e),
    };
    let no_overwrite = call.flag("noOverwriteDirNonDir");
    let copy_uid_gid = call.flag("copyUIDGID");
    let reader: Box<dyn Read + Send> = Box::new(BodyReader::new(req.into_body()));
    match off_runtime(move || d.extract_to_dir(&id, &path, no_overwrite, copy_uid_gid, reader))
        .await
    {
        Ok(()) => empty(StatusCode::OK),
        Err(e) => error(&e),
    }
}
