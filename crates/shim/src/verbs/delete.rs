//! `delete`: remove the container and everything it made. A running
//! container needs `force` (it is killed first); one that was created but
//! never started is simply stopped.

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use vessel_runtime::protocol::Response;
use vessel_runtime::Status;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::{ConnId, ShimState};

pub fn delete(state: &mut ShimState, conn: ConnId, force: bool) -> Result<Reply, ShimError> {
    if state.init.running() {
        if matches!(state.status, Status::Running | Status::Paused) && !force {
            return Err(ShimError::Running {
                id: state.id.clone(),
                status: state.status,
            });
        }
        super::shutdown::thaw_if_paused(state);
        if let Some(pid) = state.init.pid {
            let _ = kill(pid, Signal::SIGKILL);
        }
    }
    if !state.init.finished {
        state.delete_waiter = Some(conn);
        return Ok(Reply::Later);
    }
    Ok(finish(state))
}

/// Tears the container down once its first process is gone.
pub fn finish(state: &mut ShimState) -> Reply {
    let container =
        crate::cleanup::needs_runtime_delete(&state.bundle.spec).then_some(&mut state.container);
    state.tombstone = crate::cleanup::teardown(container, &state.cdir, &state.bundle.cgroups_path);
    state.done = true;
    Reply::Now(Response::Ok)
}

/// After a failed start: kill, reap and remove, at once.
pub fn abandon(state: &mut ShimState) {
    if let Some(pid) = state.init.pid.filter(|_| state.init.running()) {
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
    if let Some(t) = crate::cleanup::teardown(
        Some(&mut state.container),
        &state.cdir,
        &state.bundle.cgroups_path,
    ) {
        t.remove();
    }
    state.done = true;
}
