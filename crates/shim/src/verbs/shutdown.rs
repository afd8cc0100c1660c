//! `shutdown` (SIGTERM, then SIGKILL after a timeout; answered once the
//! container has stopped) and `terminate` (SIGKILL; answered at once).

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use vessel_runtime::protocol::Response;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::{ConnId, ShimState};

pub fn shutdown(
    state: &mut ShimState,
    conn: ConnId,
    timeout_secs: u64,
) -> Result<Reply, ShimError> {
    if state.init.finished {
        let exit = state.init.exit.clone().expect("finished");
        return Ok(Reply::Now(Response::Exited(exit)));
    }
    if let Some(pid) = state.init.pid.filter(|_| state.init.running()) {
        thaw_if_paused(state);
        super::signal::send(pid, Signal::SIGTERM)?;
        state.kill_deadline = Some(Instant::now() + Duration::from_secs(timeout_secs));
    }
    state.shutdown_waiters.push(conn);
    Ok(Reply::Later)
}

pub fn terminate(state: &mut ShimState) -> Result<Reply, ShimError> {
    if let Some(pid) = state.init.pid.filter(|_| state.init.running()) {
        thaw_if_paused(state);
        super::signal::send(pid, Signal::SIGKILL)?;
    }
    Ok(Reply::Now(Response::Ok))
}

/// A frozen process cannot act on a signal: thaw it first.
pub(crate) fn thaw_if_paused(state: &mut ShimState) {
    if state.status == vessel_runtime::Status::Paused {
        if let Err(e) = state.container.resume() {
            tracing::warn!(container = %state.id, error = %e, "cannot thaw before stopping");
        }
        state.status = vessel_runtime::Status::Running;
    }
}
