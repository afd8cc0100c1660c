//! `ps`: the container's processes.

use libcgroups::common::CgroupManager;
use vessel_runtime::procs;
use vessel_runtime::protocol::Response;

use super::{cgroup, internal};
use crate::server::{Reply, Shim};

pub fn ps(shim: &mut Shim) -> Reply {
    let pids = match cgroup(shim).and_then(|m| {
        m.get_all_pids()
            .map_err(|e| internal("listing the container's processes", e))
    }) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let pids: Vec<i32> = pids.iter().map(|p| p.as_raw()).collect();
    // Without it, users show as numbers.
    let passwd =
        vessel_runtime::users::read_in_root(&shim.bundle.rootfs, "etc/passwd").unwrap_or_default();
    let list = procs::describe(std::path::Path::new("/proc"), &pids, &|uid| {
        procs::user_name(&passwd, uid)
    });
    Reply::Now(Response::Ps(list))
}
