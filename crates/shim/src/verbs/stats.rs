//! `stats`: CPU, memory, pids and block I/O from the container's cgroup.

use libcgroups::common::CgroupManager;
use vessel_runtime::protocol::Response;

use super::{cgroup, internal};
use crate::server::{Reply, Shim};
use crate::state::{check, Verb};

pub fn stats(shim: &mut Shim) -> Reply {
    if let Err(e) = check(&shim.id, shim.status, Verb::Stats) {
        return e.into();
    }
    let stats = match cgroup(shim).and_then(|m| {
        m.stats()
            .map_err(|e| internal("reading the cgroup's statistics", e))
    }) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    match serde_json::to_value(&stats) {
        Ok(v) => Reply::Now(Response::Stats(v)),
        Err(e) => internal("encoding statistics", e).into(),
    }
}
