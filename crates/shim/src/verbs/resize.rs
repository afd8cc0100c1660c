//! `resize`: a process's terminal size.

use std::os::fd::AsFd;

use vessel_runtime::protocol::{ErrorKind, RemoteError, Response};

use super::internal;
use crate::server::{Reply, Shim};

pub fn resize(shim: &mut Shim, process: &str, width: u16, height: u16) -> Reply {
    let p = match shim.process(process) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let Some(master) = p.pty.as_ref().filter(|_| !p.finished) else {
        return RemoteError::new(
            ErrorKind::InvalidParameter,
            format!("process {process:?} has no terminal to resize"),
        )
        .into();
    };
    match crate::console::resize(master.as_fd(), width, height) {
        Ok(()) => Reply::Now(Response::Ok),
        Err(e) => internal("resizing the terminal", e).into(),
    }
}
