//! `close_stdin`: the process reads end-of-file.

use vessel_runtime::protocol::Response;

use crate::server::{Reply, Shim};

pub fn close_stdin(shim: &mut Shim, process: &str) -> Reply {
    match shim.process_mut(process) {
        Ok(p) => {
            p.close_stdin();
            Reply::Now(Response::Ok)
        }
        Err(e) => e.into(),
    }
}
