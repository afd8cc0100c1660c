//! `wait`: answered when the process has exited and its output is drained.

use vessel_runtime::protocol::Response;

use crate::server::{Reply, Shim};

pub fn wait(shim: &mut Shim, conn: usize, process: &str) -> Reply {
    match shim.process_mut(process) {
        Ok(p) if p.finished => Reply::Now(Response::Exited(
            p.exit.clone().expect("finished means exited"),
        )),
        Ok(p) => {
            p.waiters.push(conn);
            Reply::Later
        }
        Err(e) => e.into(),
    }
}
