//! `ps`: the container's processes.

use libcgroups::common::CgroupManager;
use vessel_runtime::procs;
use vessel_runtime::protocol::Response;

use super::{cgroup, Reply};
use crate::error::ShimError;
use crate::shim_state::ShimState;

pub fn ps(state: &mut ShimState) -> Result<Reply, ShimError> {
    let pids = cgroup(state)?
        .get_all_pids()
        .map_err(ShimError::internal("listing the container's processes"))?;
    let pids: Vec<i32> = pids.iter().map(|p| p.as_raw()).collect();
    // Without it, users show as numbers.
    let passwd =
        vessel_runtime::users::read_in_root(&state.bundle.rootfs, "etc/passwd").unwrap_or_default();
    let list = procs::describe(std::path::Path::new("/proc"), &pids, &|uid| {
        procs::user_name(&passwd, uid)
    });
    Ok(Reply::Now(Response::Ps(list)))
}
