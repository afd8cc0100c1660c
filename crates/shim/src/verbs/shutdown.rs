//! `shutdown` (SIGTERM, then SIGKILL after a timeout; answered once the
//! container has stopped) and `terminate` (SIGKILL; answered at once).

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use vessel_runtime::protocol::Response;

use crate::server::{Reply, Shim};

pub fn shutdown(shim: &mut Shim, conn: usize, timeout_secs: u64) -> Reply {
    if shim.init.finished {
        return Reply::Now(Response::Exited(shim.init.exit.clone().expect("finished")));
    }
    if let Some(pid) = shim.init.pid.filter(|_| shim.init.running()) {
        thaw_if_paused(shim);
        if let Reply::Now(Response::Error(e)) = super::signal::send(pid, Signal::SIGTERM) {
            return e.into();
        }
        shim.kill_deadline = Some(Instant::now() + Duration::from_secs(timeout_secs));
    }
    shim.shutdown_waiters.push(conn);
    Reply::Later
}

pub fn terminate(shim: &mut Shim) -> Reply {
    match shim.init.pid.filter(|_| shim.init.running()) {
        Some(pid) => {
            thaw_if_paused(shim);
            super::signal::send(pid, Signal::SIGKILL)
        }
        None => Reply::Now(Response::Ok),
    }
}

/// A frozen process cannot act on a signal: thaw it first.
pub(crate) fn thaw_if_paused(shim: &mut Shim) {
    if shim.status == vessel_runtime::Status::Paused {
        if let Err(e) = shim.container.resume() {
            tracing::warn!(container = %shim.id, error = %e, "cannot thaw before stopping");
        }
        shim.status = vessel_runtime::Status::Running;
    }
}
