//! `POST /images/create?fromImage=` and `POST /images/{name}/push`: a
//! pull or a push, reported as Docker's JSON progress stream (what the
//! docker CLI draws its bars from).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use crate::api::body::channel;
use crate::api::{error, Call, Reply};
use crate::daemon::Daemon;
use crate::error::EngineError;
use crate::image::{Credentials, Platform, Progress};

/// Pulls `image` (with the `tag` query parameter: a tag or a digest).
/// Errors met before the first progress line are the response's status,
/// as Docker's are; later ones end the stream as an `errorDetail` line.
pub(super) async fn pull(
    d: Arc<Daemon>,
    call: &Call,
    image: &str,
    req: &Request<Incoming>,
) -> Reply {
    let reference = match call.q("tag").filter(|t| !t.is_empty()) {
        Some(t) if t.starts_with("sha256:") => format!("{image}@{t}"),
        Some(t) => format!("{image}:{t}"),
        None => image.to_string(),
    };
    let platform = match call
        .q("platform")
        .filter(|p| !p.is_empty())
        .map(Platform::parse)
    {
        Some(Err(e)) => return error(&e),
        given => given.and_then(Result::ok),
    };
    let credentials = match credentials(req) {
        Ok(c) => c,
        Err(e) => return error(&e),
    };
    let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move { d.pull(&reference, platform, &credentials, &ptx).await });
    progress_reply(task, prx).await
}

/// Pushes `name` (with the `tag` query parameter; every tag of the
/// repository without one).
pub(super) async fn push(
    d: Arc<Daemon>,
    call: &Call,
    name: &str,
    req: &Request<Incoming>,
) -> Reply {
    let credentials = match credentials(req) {
        Ok(c) => c,
        Err(e) => return error(&e),
    };
    let (name, tag) = (name.to_string(), call.q("tag").map(String::from));
    let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move { d.push(&name, tag.as_deref(), &credentials, &ptx).await });
    progress_reply(task, prx).await
}

/// The client's credentials; ones that cannot be read are none, as
/// Docker's daemon takes them (the registry then says what it wants).
fn credentials(req: &Request<Incoming>) -> crate::error::Result<Credentials> {
    let auth = req
        .headers()
        .get("X-Registry-Auth")
        .map(|v| v.to_str().unwrap_or("!"))
        .unwrap_or_default();
    Ok(Credentials::from_header(auth).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "unreadable registry credentials: going without");
        Credentials::default()
    }))
}

/// The reply to a pull or a push: an error status when it fails before
/// its first progress line, else the lines as they come, ended by an
/// `errorDetail` line when it fails later.
async fn progress_reply(
    task: tokio::task::JoinHandle<crate::error::Result<()>>,
    mut prx: tokio::sync::mpsc::UnboundedReceiver<Progress>,
) -> Reply {
    let Some(first) = prx.recv().await else {
        return match task.await {
            Ok(Err(e)) => error(&e),
            Ok(Ok(())) => error(&EngineError::Internal("it said nothing".into())),
            Err(e) => error(&EngineError::Internal(format!("it failed: {e}"))),
        };
    };
    let (tx, body) = channel();
    tokio::spawn(async move {
        let mut next = Some(first);
        while let Some(p) = next {
            // A client that left does not stop the work, as with Docker.
            let _ = tx.0.send(line(&p)).await;
            next = prx.recv().await;
        }
        let failed = match task.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(format!("it failed: {e}")),
        };
        if let Some(m) = failed {
            let v = json!({"errorDetail": {"message": m}, "error": m});
            let _ = tx.0.send(Bytes::from(format!("{v}\r\n"))).await;
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(body.boxed())
        .expect("a valid response")
}

/// One progress line in Docker's shape.
fn line(p: &Progress) -> Bytes {
    if let Some(aux) = &p.aux {
        return Bytes::from(format!("{}\r\n", json!({"progressDetail": {}, "aux": aux})));
    }
    let mut v = json!({"status": p.status});
    if let Some(id) = &p.id {
        v["progressDetail"] = match p.current {
            Some((current, total)) => json!({"current": current, "total": total}),
            None => json!({}),
        };
        if let Some((current, total)) = p.current {
            v["progress"] = json!(bar(current, total));
        }
        v["id"] = json!(id);
    }
    Bytes::from(format!("{v}\r\n"))
}

/// Docker's progress text: a 50-column bar and the sizes.
fn bar(current: u64, total: u64) -> String {
    let width = 50;
    let filled = match total {
        0 => 0,
        t => ((current.min(t) as f64 / t as f64) * width as f64) as usize,
    };
    let arrow = match filled {
        0 => String::new(),
        n if n >= width => "=".repeat(width),
        n => "=".repeat(n - 1) + ">",
    };
    format!(
        "[{arrow:<width$}] {:>8}/{}",
        human_size(current),
        human_size(total)
    )
}

/// Sizes as Docker writes them: decimal units, four significant digits.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let (mut v, mut unit) = (bytes as f64, 0);
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    let decimals = match v {
        v if v >= 100.0 => 1,
        v if v >= 10.0 => 2,
        _ => 3,
    };
    let text = format!("{v:.decimals$}");
    let text = match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    };
    format!("{text}{}", UNITS[unit])
}

/// `POST /auth`: checks a client's credentials with their registry, as
/// `docker login` asks before it keeps them.
pub(super) async fn auth(d: Arc<Daemon>, req: Request<Incoming>) -> Reply {
    #[derive(serde::Deserialize)]
    struct Login {
        #[serde(default)]
        username: String,
        #[serde(default)]
        password: String,
        #[serde(default)]
        serveraddress: String,
    }
    let login: Login = match super::read_json(req).await {
        Ok(l) => l,
        Err(e) => return error(&e),
    };
    match crate::image::login(
        &d.registries,
        &login.serveraddress,
        &login.username,
        &login.password,
    )
    .await
    {
        Ok(()) => crate::api::json(
            StatusCode::OK,
            &json!({"Status": "Login Succeeded", "IdentityToken": ""}),
        ),
        Err(e) => error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_as_dockers() {
        assert_eq!(human_size(772_800), "772.8kB");
        assert_eq!(human_size(2_000_000), "2MB");
        assert_eq!(human_size(12), "12B");
        let b = bar(1, 2);
        assert!(b.starts_with("[========================>"), "{b}");
        assert!(b.ends_with("1B/2B"), "{b}");
        let v: serde_json::Value =
            serde_json::from_slice(&line(&Progress::of("abc", "Pull complete"))).unwrap();
        assert_eq!(
            v,
            json!({"status": "Pull complete", "progressDetail": {}, "id": "abc"})
        );
    }
}
