//! `signal`: one process, or every process of the container.

use libcgroups::common::CgroupManager;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use vessel_runtime::protocol::Response;

use super::{cgroup, Reply};
use crate::error::ShimError;
use crate::shim_state::ShimState;
use crate::state::{check, Verb};

pub fn signal(
    state: &mut ShimState,
    process: &str,
    signal: i32,
    all: bool,
) -> Result<Reply, ShimError> {
    let sig = Signal::try_from(signal).map_err(|_| ShimError::NotASignal(signal))?;
    check(&state.id, state.status, Verb::Signal)?;
    if all {
        let pids = cgroup(state)?
            .get_all_pids()
            .map_err(ShimError::internal("listing the container's processes"))?;
        for pid in pids {
            let _ = kill(pid, sig);
        }
        return Ok(Reply::Now(Response::Ok));
    }
    let p = state.process(process)?;
    match p.pid.filter(|_| p.running()) {
        Some(pid) => send(pid, sig).map(|()| Reply::Now(Response::Ok)),
        None => Err(ShimError::ProcessNotRunning(process.to_string())),
    }
}

pub(crate) fn send(pid: Pid, signal: Signal) -> Result<(), ShimError> {
    kill(pid, signal).map_err(|source| ShimError::Kill {
        signal,
        pid,
        source,
    })
}
