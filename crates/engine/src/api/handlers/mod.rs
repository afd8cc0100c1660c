//! One handler per endpoint. Each parses its request, runs the engine off
//! the async runtime, and shapes the answer as the Docker API does.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request};
use serde_json::Value;

use super::{error, Call, Reply};
use crate::daemon::Daemon;
use crate::error::{EngineError, Result};

mod archive;
mod container_filters;
mod containers;
mod copy;
mod events;
mod images;
mod lifecycle;
mod networks;
mod registry;
mod streams;
mod system;
mod usage;
mod volumes;

use containers::{container_logs, create, inspect, list, wait};
use events::events;
use images::{create as image_create, image_history, image_inspect, image_prune};
use images::{image_remove, image_tag, images, system_df};
use streams::{attach, exec_create, exec_inspect, exec_start, resize};
use system::{info, ping, version};
use usage::{stats, top, update};

/// Runs blocking engine work off the async runtime.
async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(EngineError::Internal(format!("a handler failed: {e}"))))
}

/// Runs blocking engine work and turns its result into a reply.
async fn blocking(f: impl FnOnce() -> Result<Reply> + Send + 'static) -> Reply {
    off_runtime(f).await.unwrap_or_else(|e| error(&e))
}

/// The content type of a container's output stream: raw for a terminal,
/// else Docker's multiplexed frames.
fn stream_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// The routing table: one line per endpoint, its handler in the file of
/// its resource.
pub async fn handle(d: Arc<Daemon>, call: Call, req: Request<Incoming>) -> Reply {
    let segs: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let c = &call;
    match (&call.method, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => ping(),
        (&Method::GET, ["version"]) => version(),
        (&Method::GET, ["info"]) => info(d).await,
        (&Method::GET, ["events"]) => events(d, c),
        (&Method::POST, ["auth"]) => registry::auth(d, req).await,

        (&Method::POST, ["images", "create"]) => image_create(d, c, req).await,
        (&Method::GET, ["images", "json"]) => images(d, c).await,
        (&Method::POST, ["images", "prune"]) => image_prune(d, c).await,
        (&Method::POST, ["containers", "prune"]) => containers::prune(d, c).await,
        (&Method::POST, ["build", "prune"]) => system::build_prune(),
        (&Method::GET, ["system", "df"]) => system_df(d).await,
        (&Method::GET, ["images", "get"]) => archive::save(d, c, None).await,
        (&Method::POST, ["images", "load"]) => archive::load(d, req).await,
        (&Method::GET, ["images", name, "get"]) => archive::save(d, c, Some(name)).await,
        (&Method::POST, ["images", name, "push"]) => registry::push(d, c, name, &req).await,
        (&Method::GET, ["images", name, "json"]) => image_inspect(d, name.to_string()).await,
        (&Method::GET, ["images", name, "history"]) => image_history(d, name.to_string()).await,
        (&Method::POST, ["images", name, "tag"]) => image_tag(d, name.to_string(), c).await,
        (&Method::DELETE, ["images", name]) => image_remove(d, name.to_string(), c).await,

        (&Method::GET, ["networks"]) => networks::list(d, c).await,
        (&Method::POST, ["networks", "create"]) => networks::create(d, req).await,
        (&Method::POST, ["networks", "prune"]) => networks::prune(d, c).await,
        (&Method::GET, ["networks", id]) => networks::inspect(d, id.to_string()).await,
        (&Method::DELETE, ["networks", id]) => networks::remove(d, id.to_string()).await,
        (&Method::POST, ["networks", id, "connect"]) => {
            networks::connect(d, id.to_string(), req).await
        }
        (&Method::POST, ["networks", id, "disconnect"]) => {
            networks::disconnect(d, id.to_string(), req).await
        }

        (&Method::GET, ["volumes"]) => volumes::list(d, c).await,
        (&Method::POST, ["volumes", "create"]) => volumes::create(d, req).await,
        (&Method::POST, ["volumes", "prune"]) => volumes::prune(d, c).await,
        (&Method::GET, ["volumes", name]) => volumes::inspect(d, name.to_string()).await,
        (&Method::DELETE, ["volumes", name]) => volumes::remove(d, name.to_string(), c).await,

        (&Method::POST, ["commit"]) => archive::commit(d, c, req).await,
        (&Method::POST, ["containers", "create"]) => create(d, c, req).await,
        (&Method::GET, ["containers", id, "export"]) => archive::export(d, id).await,
        (&Method::GET, ["containers", id, "changes"]) => archive::changes(d, id).await,
        (&Method::HEAD, ["containers", id, "archive"]) => copy::stat(d, id, c).await,
        (&Method::GET, ["containers", id, "archive"]) => copy::get(d, id, c).await,
        (&Method::PUT, ["containers", id, "archive"]) => copy::put(d, id, c, req).await,
        (&Method::GET, ["containers", "json"]) => list(d, c).await,
        (&Method::GET, ["containers", id, "json"]) => inspect(d, id.to_string()).await,
        (&Method::POST, ["containers", id, "start"]) => lifecycle::start(d, id, c).await,
        (&Method::POST, ["containers", id, "stop"]) => lifecycle::stop(d, id, c).await,
        (&Method::POST, ["containers", id, "restart"]) => lifecycle::restart(d, id, c).await,
        (&Method::POST, ["containers", id, "kill"]) => lifecycle::kill(d, id, c).await,
        (&Method::POST, ["containers", id, "pause"]) => lifecycle::pause(d, id, c).await,
        (&Method::POST, ["containers", id, "unpause"]) => lifecycle::unpause(d, id, c).await,
        (&Method::DELETE, ["containers", id]) => lifecycle::remove(d, id, c).await,
        (&Method::POST, ["containers", id, "rename"]) => lifecycle::rename(d, id, c).await,
        (&Method::POST, ["containers", id, "update"]) => update(d, id.to_string(), req).await,
        (&Method::GET, ["containers", id, "top"]) => top(d, id.to_string(), c).await,
        (&Method::GET, ["containers", id, "stats"]) => stats(d, id.to_string(), c).await,
        (&Method::POST, ["containers", id, "wait"]) => wait(d, id.to_string(), c).await,
        (&Method::GET, ["containers", id, "logs"]) => container_logs(d, id.to_string(), c).await,
        (&Method::POST, ["containers", id, "attach"]) => attach(d, id.to_string(), c, req).await,
        (&Method::POST, ["containers", id, "resize"]) => resize(d, Some(id), None, c).await,

        (&Method::POST, ["containers", id, "exec"]) => exec_create(d, id.to_string(), req).await,
        (&Method::POST, ["exec", id, "start"]) => exec_start(d, id.to_string(), req).await,
        (&Method::GET, ["exec", id, "json"]) => exec_inspect(d, id.to_string()).await,
        (&Method::POST, ["exec", id, "resize"]) => resize(d, None, Some(id), c).await,
        _ => error(&EngineError::NotFound(format!(
            "page not found: {} /{}",
            call.method,
            call.segments.join("/")
        ))),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Result<T> {
    typed(read_value(req).await?)
}

/// A request's body as JSON, its `null` members dropped.
async fn read_value(req: Request<Incoming>) -> Result<Value> {
    let bytes = req
        .into_body()
        .collect()
        .await
        .map_err(|e| EngineError::InvalidParameter(format!("reading the request: {e}")))?
        .to_bytes();
    let mut value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| EngineError::InvalidParameter(format!("the request body is not JSON: {e}")))?;
    // Docker's clients send `null` for empty lists and maps.
    drop_nulls(&mut value);
    Ok(value)
}

/// A request's body read into its type; an error names the member.
fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T> {
    typed_at("", value)
}

/// [`typed`] for the member at `at` of a body (`HostConfig`); an error
/// names the member by its whole path.
fn typed_at<T: serde::de::DeserializeOwned>(at: &str, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = match (at, e.path().to_string()) {
            (at, inner) if inner == "." => at.to_string(),
            ("", inner) => inner,
            (at, inner) => format!("{at}.{inner}"),
        };
        let path = if path.is_empty() { "the body" } else { &path };
        EngineError::InvalidParameter(format!("{path}: {}", e.inner()))
    })
}

/// Removes `null` members, recursively, so that they read as defaults.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}
