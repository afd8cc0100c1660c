//! The Docker Engine API over a unix socket: routing, version
//! negotiation, and the mapping of engine errors to statuses. Handlers
//! call the (blocking) engine off the async runtime.

mod body;
pub mod conn;
pub mod detach;
mod filters;
mod handlers;
mod logs;
pub mod models;

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

use crate::daemon::Daemon;
use crate::error::EngineError;

/// The newest API version served.
pub const API_VERSION: &str = "1.45";
/// The oldest one accepted.
pub const MIN_API_VERSION: &str = "1.24";

pub type Body = BoxBody<Bytes, Infallible>;
pub type Reply = Response<Body>;

/// Serves the API on `socket` until the process ends.
pub async fn serve(daemon: Arc<Daemon>, socket: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))?;
    tracing::info!(socket = %socket.display(), "serving the API");
    loop {
        let (stream, _) = listener.accept().await?;
        let daemon = daemon.clone();
        // For the streams a request may switch the connection to.
        let conn = conn::Conn::of(&stream).ok();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                let daemon = daemon.clone();
                if let Some(conn) = &conn {
                    req.extensions_mut().insert(conn.clone());
                }
                async move { Ok::<_, Infallible>(route(daemon, req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

/// A parsed request: path segments after the version, and the query.
#[derive(Debug)]
pub struct Call {
    pub method: Method,
    pub segments: Vec<String>,
    /// The query's pairs in order (a key may repeat: `names=a&names=b`).
    pub query: Vec<(String, String)>,
    /// The API version the path names (`/v1.41/...`), if any.
    pub version: Option<String>,
}

impl Call {
    /// Whether the request speaks API `version` or later (a path without
    /// a version speaks the latest).
    pub fn version_at_least(&self, version: &str) -> bool {
        self.version
            .as_deref()
            .is_none_or(|v| !version_newer(version, v))
    }

    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a key that may repeat.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A numeric query parameter; a value that is not one is refused by
    /// name.
    pub fn number<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, EngineError> {
        self.q(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    EngineError::InvalidParameter(format!("{key}: {v:?} is not a number"))
                })
            })
            .transpose()
    }

    /// A boolean query parameter, read as moby does (`1`, `true`, `True`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.q(key).map(|v| v.to_ascii_lowercase()),
            Some(v) if v == "1" || v == "true"
        )
    }
}

/// Image names hold slashes (`127.0.0.1:5000/team/app`) and Docker's
/// routes take them whole (`/images/{name:.*}/json`): the segments of the
/// name are joined back into one.
fn join_image_name(method: &Method, segments: &mut Vec<String>) {
    if segments.first().map(String::as_str) != Some("images") {
        return;
    }
    const VERBS: [&str; 5] = ["json", "history", "tag", "push", "get"];
    let verb = *method != Method::DELETE
        && segments.len() > 2
        && segments.last().is_some_and(|v| VERBS.contains(&v.as_str()));
    let end = segments.len() - usize::from(verb);
    if end > 2 {
        let name = segments[1..end].join("/");
        segments.splice(1..end, [name]);
    }
}

async fn route(daemon: Arc<Daemon>, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_string();
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let mut version = None;
    if let Some(v) = segments
        .first()
        .and_then(|s| s.strip_prefix('v'))
        .map(String::from)
    {
        if v.split('.').count() == 2 && v.split('.').all(|p| p.parse::<u32>().is_ok()) {
            if version_newer(&v, API_VERSION) {
                return error(&EngineError::InvalidParameter(format!(
                    "client version {v} is too new. Maximum supported API version is {API_VERSION}"
                )));
            }
            segments.remove(0);
            version = Some(v);
        }
    }
    join_image_name(req.method(), &mut segments);
    let query = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let call = Call {
        method: req.method().clone(),
        segments,
        query,
        version,
    };
    let mut reply = handlers::handle(daemon, call, req).await;
    let headers = reply.headers_mut();
    headers.insert("Api-Version", API_VERSION.parse().expect("a valid header"));
    headers.insert("Server", "Vessel".parse().expect("a valid header"));
    headers.insert("Ostype", "linux".parse().expect("a valid header"));
    reply
}

fn version_newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> (u32, u32) {
        let mut it = v.split('.').map(|p| p.parse().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    parse(a) > parse(b)
}

pub fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .body(Full::new(body.into()).boxed())
        .expect("a valid response")
}

pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    full(status, "application/json", body)
}

/// A JSON answer made of `pieces` (see [`body::Pieces`]).
pub fn json_pieces(status: StatusCode, pieces: Vec<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(body::Pieces::new(pieces).boxed())
        .expect("a valid response")
}

pub fn empty(status: StatusCode) -> Reply {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()).boxed())
        .expect("a valid response")
}

/// An engine error as Docker answers it: `{"message": ...}` and its status.
pub fn error(e: &EngineError) -> Reply {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::NOT_MODIFIED {
        return empty(status);
    }
    json(status, &serde_json::json!({"message": e.to_string()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_with_slashes_are_one_segment() {
        let joined = |method: Method, path: &str| {
            let mut s: Vec<String> = path.split('/').map(String::from).collect();
            join_image_name(&method, &mut s);
            s
        };
        assert_eq!(joined(Method::GET, "images/json"), ["images", "json"]);
        assert_eq!(
            joined(Method::GET, "images/a/json"),
            ["images", "a", "json"]
        );
        assert_eq!(
            joined(Method::GET, "images/127.0.0.1:5000/a/b/json"),
            ["images", "127.0.0.1:5000/a/b", "json"]
        );
        assert_eq!(
            joined(Method::POST, "images/me/box/tag"),
            ["images", "me/box", "tag"]
        );
        assert_eq!(
            joined(Method::DELETE, "images/me/json"),
            ["images", "me/json"]
        );
        assert_eq!(
            joined(Method::GET, "containers/a/json"),
            ["containers", "a", "json"]
        );
    }
}
