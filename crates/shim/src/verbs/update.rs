//! `update`: change the container's resource limits.

use libcgroups::common::{CgroupManager, ControllerOpt};
use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder,
};
use vessel_runtime::protocol::{ResourceUpdate, Response};

use super::{cgroup, internal};
use crate::server::{Reply, Shim};
use crate::state::{check, Verb};

pub fn update(shim: &mut Shim, update: &ResourceUpdate) -> Reply {
    if let Err(e) = check(&shim.id, shim.status, Verb::Update) {
        return e.into();
    }
    let mut res = LinuxResourcesBuilder::default();
    if let Some(limit) = update.memory {
        res = res.memory(
            LinuxMemoryBuilder::default()
                .limit(limit)
                .build()
                .expect("memory"),
        );
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
    match cgroup(shim).and_then(|m| {
        m.apply(&opt)
            .map_err(|e| internal("updating the cgroup", e))
    }) {
        Ok(()) => Reply::Now(Response::Ok),
        Err(e) => e.into(),
    }
}
