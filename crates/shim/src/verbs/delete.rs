//! `delete`: remove the container and everything it made. A running
//! container needs `force` (it is killed first); one that was created but
//! never started is simply stopped.

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use vessel_runtime::protocol::{ErrorKind, RemoteError, Response};
use vessel_runtime::Status;

use crate::server::{Reply, Shim};

pub fn delete(shim: &mut Shim, conn: usize, force: bool) -> Reply {
    if shim.init.running() {
        if matches!(shim.status, Status::Running | Status::Paused) && !force {
            return RemoteError::new(
                ErrorKind::Conflict,
                format!(
                    "container {} is {}: stop it first, or delete with force",
                    shim.id, shim.status
                ),
            )
            .into();
        }
        super::shutdown::thaw_if_paused(shim);
        if let Some(pid) = shim.init.pid {
            let _ = kill(pid, Signal::SIGKILL);
        }
    }
    if !shim.init.finished {
        shim.delete_waiter = Some(conn);
        return Reply::Later;
    }
    finish(shim)
}

/// Tears the container down once its first process is gone.
pub fn finish(shim: &mut Shim) -> Reply {
    let container =
        crate::cleanup::needs_runtime_delete(&shim.bundle.spec).then_some(&mut shim.container);
    shim.tombstone = crate::cleanup::teardown(container, &shim.cdir, &shim.bundle.cgroups_path);
    shim.done = true;
    Reply::Now(Response::Ok)
}

/// After a failed start: kill, reap and remove, at once.
pub fn abandon(shim: &mut Shim) {
    if let Some(pid) = shim.init.pid.filter(|_| shim.init.running()) {
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
    if let Some(t) = crate::cleanup::teardown(
        Some(&mut shim.container),
        &shim.cdir,
        &shim.bundle.cgroups_path,
    ) {
        t.remove();
    }
    shim.done = true;
}
