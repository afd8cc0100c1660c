//! `update`: change the container's resource limits.

use libcgroups::common::{CgroupManager, ControllerOpt};
use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder,
};
use vessel_runtime::protocol::{ResourceUpdate, Response};

use super::{cgroup, Reply};
use crate::error::ShimError;
use crate::shim_state::ShimState;
use crate::state::{check, Verb};

pub fn update(state: &mut ShimState, update: &ResourceUpdate) -> Result<Reply, ShimError> {
    check(&state.id, state.status, Verb::Update)?;
    let mut res = LinuxResourcesBuilder::default();
    if update.memory.is_some() || update.memory_swap.is_some() {
        let mut memory = LinuxMemoryBuilder::default();
        if let Some(limit) = update.memory {
            memory = memory.limit(limit);
        }
        if let Some(swap) = update.memory_swap {
            memory = memory.swap(swap);
        }
        res = res.memory(memory.build().expect("memory"));
    }
    if update.cpu_quota.is_some() || update.cpu_period.is_some() || update.cpu_shares.is_some() {
        let mut cpu = LinuxCpuBuilder::default();
        if update.cpu_quota.is_some() || update.cpu_period.is_some() {
            if let Some(q) = update.cpu_quota {
                cpu = cpu.quota(q);
            }
            cpu = cpu.period(
                update
                    .cpu_period
                    .unwrap_or(vessel_runtime::resources::CPU_PERIOD_US),
            );
        }
        if let Some(shares) = update.cpu_shares {
            cpu = cpu.shares(shares);
        }
        res = res.cpu(cpu.build().expect("cpu"));
    }
    if let Some(limit) = update.pids_limit {
        res = res.pids(
            LinuxPidsBuilder::default()
                .limit(limit)
                .build()
                .expect("pids"),
        );
    }
    let resources = res.build().expect("resources");
    let opt = ControllerOpt {
        resources: &resources,
        disable_oom_killer: false,
        oom_score_adj: None,
        freezer_state: None,
    };
    cgroup(state)?
        .apply(&opt)
        .map_err(ShimError::internal("updating the cgroup"))?;
    Ok(Reply::Now(Response::Ok))
}
