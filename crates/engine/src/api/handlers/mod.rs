//! One handler per endpoint. Each parses its request, runs the engine off
//! the async runtime, and shapes the answer as the Docker API does.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{json, Value};

use super::{empty, error, json, Call, Reply};
use crate::daemon::Daemon;
use crate::error::{EngineError, Result};

mod containers;
mod events;
mod images;
mod streams;
mod system;
mod usage;

use containers::{container_logs, create, inspect, list, wait};
use events::events;
use images::{image_inspect, images, import};
use streams::{attach, exec_create, exec_start};
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

pub async fn handle(d: Arc<Daemon>, call: Call, req: Request<Incoming>) -> Reply {
    let segs: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (&call.method, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => ping(),
        (&Method::GET, ["version"]) => version(),
        (&Method::GET, ["info"]) => info(d).await,
        (&Method::GET, ["events"]) => events(d, &call),

        (&Method::POST, ["images", "create"]) => import(d, &call, req).await,
        (&Method::GET, ["images", "json"]) => images(d).await,
        (&Method::GET, ["images", name, "json"]) => image_inspect(d, name.to_string()).await,
        (&Method::DELETE, ["images", name]) => {
            let (name, force) = (name.to_string(), call.flag("force"));
            blocking(move || {
                let done = d.remove_image(&name, force)?;
                let out: Vec<Value> = done.into_iter().map(|(k, v)| json!({ k: v })).collect();
                Ok(json(StatusCode::OK, &out))
            })
            .await
        }

        (&Method::POST, ["containers", "create"]) => create(d, &call, req).await,
        (&Method::GET, ["containers", "json"]) => {
            let all = call.flag("all");
            blocking(move || Ok(json(StatusCode::OK, &list(&d, all)))).await
        }
        (&Method::GET, ["containers", id, "json"]) => {
            let id = id.to_string();
            blocking(move || Ok(json(StatusCode::OK, &inspect(&d.inspect(&id)?)))).await
        }
        (&Method::POST, ["containers", id, "start"]) => {
            let id = id.to_string();
            blocking(move || d.start(&id).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::POST, ["containers", id, "stop"]) => {
            let id = id.to_string();
            let t = call.q("t").and_then(|t| t.parse().ok());
            let sig = call.q("signal").map(String::from);
            blocking(move || {
                d.stop(&id, t, sig.as_deref())
                    .map(|()| empty(StatusCode::NO_CONTENT))
            })
            .await
        }
        (&Method::POST, ["containers", id, "restart"]) => {
            let id = id.to_string();
            let t = call.q("t").and_then(|t| t.parse().ok());
            blocking(move || {
                match d.stop(&id, t, None) {
                    Ok(()) | Err(EngineError::NotModified(_)) => {}
                    Err(e) => return Err(e),
                }
                d.start(&id).map(|()| empty(StatusCode::NO_CONTENT))
            })
            .await
        }
        (&Method::POST, ["containers", id, "kill"]) => {
            let id = id.to_string();
            let sig = call.q("signal").map(String::from);
            blocking(move || {
                d.kill(&id, sig.as_deref())
                    .map(|()| empty(StatusCode::NO_CONTENT))
            })
            .await
        }
        (&Method::POST, ["containers", id, "pause"]) => {
            let id = id.to_string();
            blocking(move || d.pause(&id).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::POST, ["containers", id, "unpause"]) => {
            let id = id.to_string();
            blocking(move || d.unpause(&id).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::DELETE, ["containers", id]) => {
            let (id, force) = (id.to_string(), call.flag("force"));
            blocking(move || d.remove(&id, force).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::POST, ["containers", id, "rename"]) => {
            let id = id.to_string();
            let new_name = call.q("name").unwrap_or("").to_string();
            blocking(move || {
                d.rename(&id, &new_name)
                    .map(|()| empty(StatusCode::NO_CONTENT))
            })
            .await
        }
        (&Method::POST, ["containers", id, "update"]) => update(d, id.to_string(), req).await,
        (&Method::GET, ["containers", id, "top"]) => top(d, id.to_string(), &call).await,
        (&Method::GET, ["containers", id, "stats"]) => stats(d, id.to_string(), &call).await,
        (&Method::POST, ["containers", id, "wait"]) => wait(d, id.to_string(), &call).await,
        (&Method::GET, ["containers", id, "logs"]) => {
            container_logs(d, id.to_string(), &call).await
        }
        (&Method::POST, ["containers", id, "attach"]) => {
            attach(d, id.to_string(), &call, req).await
        }
        (&Method::POST, ["containers", id, "exec"]) => exec_create(d, id.to_string(), req).await,
        (&Method::POST, ["exec", id, "start"]) => exec_start(d, id.to_string(), req).await,
        (&Method::GET, ["exec", id, "json"]) => {
            let id = id.to_string();
            blocking(move || Ok(json(StatusCode::OK, &d.exec_inspect(&id)?))).await
        }
        (&Method::POST, ["containers", id, "resize"]) | (&Method::POST, ["exec", id, "resize"]) => {
            let is_exec = segs[0] == "exec";
            let id = id.to_string();
            let w = call.q("w").and_then(|v| v.parse().ok()).unwrap_or(0);
            let h = call.q("h").and_then(|v| v.parse().ok()).unwrap_or(0);
            blocking(move || {
                let (name, exec) = if is_exec {
                    (None, Some(id.as_str()))
                } else {
                    (Some(id.as_str()), None)
                };
                d.resize(name, exec, w, h).map(|()| empty(StatusCode::OK))
            })
            .await
        }
        _ => error(&EngineError::NotFound(format!(
            "page not found: {} /{}",
            call.method,
            call.segments.join("/")
        ))),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Result<T> {
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
    serde_path_to_error::deserialize(value)
        .map_err(|e| EngineError::InvalidParameter(format!("{}: {}", e.path(), e.inner())))
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
