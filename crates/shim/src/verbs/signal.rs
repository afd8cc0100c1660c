//! `signal`: one process, or every process of the container.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use vessel_runtime::protocol::{ErrorKind, RemoteError, Response};

use super::{cgroup, internal};
use crate::server::{Reply, Shim};
use crate::state::{check, Verb};
use libcgroups::common::CgroupManager;

pub fn signal(shim: &mut Shim, process: &str, signal: i32, all: bool) -> Reply {
    let sig = match Signal::try_from(signal) {
        Ok(s) => s,
        Err(_) => {
            return RemoteError::new(
                ErrorKind::InvalidParameter,
                format!("signal: {signal} is not a signal"),
            )
            .into()
        }
    };
    if let Err(e) = check(&shim.id, shim.status, Verb::Signal) {
        return e.into();
    }
    if all {
        let pids = match cgroup(shim).and_then(|m| {
            m.get_all_pids()
                .map_err(|e| internal("listing the container's processes", e))
        }) {
            Ok(p) => p,
            Err(e) => return e.into(),
        };
        for pid in pids {
            let _ = kill(pid, sig);
        }
        return Reply::Now(Response::Ok);
    }
    let p = match shim.process(process) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    match p.pid.filter(|_| p.running()) {
        Some(pid) => send(pid, sig),
        None => RemoteError::new(
            ErrorKind::NotRunning,
            format!("process {process:?} is not running"),
        )
        .into(),
    }
}

pub(crate) fn send(pid: Pid, sig: Signal) -> Reply {
    match kill(pid, sig) {
        Ok(()) => Reply::Now(Response::Ok),
        Err(e) => internal(&format!("sending {sig} to {pid}"), e).into(),
    }
}
