//! A container's lifecycle verbs: start, stop, restart, kill, pause,
//! unpause, remove and rename. Each answers 204 when done.

use std::sync::Arc;

use hyper::StatusCode;

use super::blocking;
use crate::api::{empty, error, Call, Reply};
use crate::daemon::Daemon;
use crate::error::{EngineError, Result};

/// Runs `verb` on container `id` off the async runtime: 204, or the
/// verb's error.
async fn verb(
    d: Arc<Daemon>,
    id: &str,
    verb: impl FnOnce(&Daemon, &str) -> Result<()> + Send + 'static,
) -> Reply {
    let id = id.to_string();
    blocking(move || verb(&d, &id).map(|()| empty(StatusCode::NO_CONTENT))).await
}

pub(super) async fn start(d: Arc<Daemon>, id: &str, _call: &Call) -> Reply {
    verb(d, id, |d, id| d.start(id)).await
}

pub(super) async fn stop(d: Arc<Daemon>, id: &str, call: &Call) -> Reply {
    let t = match call.number("t") {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    let sig = call.q("signal").map(String::from);
    verb(d, id, move |d, id| d.stop(id, t, sig.as_deref())).await
}

/// Stops (a stopped container is no error) and starts again.
pub(super) async fn restart(d: Arc<Daemon>, id: &str, call: &Call) -> Reply {
    let t = match call.number("t") {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    verb(d, id, move |d, id| {
        match d.stop(id, t, None) {
            Ok(()) | Err(EngineError::NotModified(_)) => {}
            Err(e) => return Err(e),
        }
        d.start(id)
    })
    .await
}

pub(super) async fn kill(d: Arc<Daemon>, id: &str, call: &Call) -> Reply {
    let sig = call.q("signal").map(String::from);
    verb(d, id, move |d, id| d.kill(id, sig.as_deref())).await
}

pub(super) async fn pause(d: Arc<Daemon>, id: &str, _call: &Call) -> Reply {
    verb(d, id, |d, id| d.pause(id)).await
}

pub(super) async fn unpause(d: Arc<Daemon>, id: &str, _call: &Call) -> Reply {
    verb(d, id, |d, id| d.unpause(id)).await
}

pub(super) async fn remove(d: Arc<Daemon>, id: &str, call: &Call) -> Reply {
    let (force, volumes) = (call.flag("force"), call.flag("v"));
    verb(d, id, move |d, id| d.remove(id, force, volumes)).await
}

pub(super) async fn rename(d: Arc<Daemon>, id: &str, call: &Call) -> Reply {
    let new_name = call.q("name").unwrap_or("").to_string();
    verb(d, id, move |d, id| d.rename(id, &new_name)).await
}
