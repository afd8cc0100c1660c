//! `attach`: stream a process's output on the connection, and feed its
//! stdin from it.

use vessel_runtime::protocol::Response;

use crate::server::{Reply, Shim};

pub fn attach(shim: &mut Shim, process: &str, stdin: bool) -> Reply {
    match shim.process(process) {
        Ok(p) => Reply::Attach {
            response: Response::Ok,
            process: process.to_string(),
            stdin: stdin && p.stdin.is_some(),
        },
        Err(e) => e.into(),
    }
}
