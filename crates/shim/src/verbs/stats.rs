//! `stats`: CPU, memory, pids and block I/O from the container's cgroup.

use libcgroups::common::CgroupManager;
use vessel_runtime::protocol::Response;

use super::{cgroup, Reply};
use crate::error::ShimError;
use crate::shim_state::ShimState;
use crate::state::{check, Verb};

pub fn stats(state: &mut ShimState) -> Result<Reply, ShimError> {
    check(&state.id, state.status, Verb::Stats)?;
    let stats = cgroup(state)?
        .stats()
        .map_err(ShimError::internal("reading the cgroup's statistics"))?;
    let stats = serde_json::to_value(&stats).map_err(ShimError::internal("encoding statistics"))?;
    Ok(Reply::Now(Response::Stats(stats)))
}
