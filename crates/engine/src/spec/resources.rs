//! A container's cgroup limits: Docker's `HostConfig` resources, each
//! checked, as the OCI `linux.resources` the shim applies.

use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources, LinuxResourcesBuilder,
};

use super::oci_error;
use crate::container::HostConfig;
use crate::error::{EngineError, Result};

/// The CPU period `NanoCpus` is expressed in, Docker's.
const NANO_CPUS_PERIOD: u64 = 100_000;

/// The limits of a host config, checked (names the field and the value of
/// the first one that is out of range).
pub fn resources(hc: &HostConfig) -> Result<LinuxResources> {
    let mut res = LinuxResourcesBuilder::default();
    let memory = hc.memory.unwrap_or(0);
    if memory != 0 {
        if memory < 6 * 1024 * 1024 {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.Memory: {memory} is below the minimum of 6MB"
            )));
        }
        let mut limit = LinuxMemoryBuilder::default().limit(memory);
        if let Some(swap) = swap(memory, hc.memory_swap.unwrap_or(0))? {
            limit = limit.swap(swap);
        }
        res = res.memory(limit.build().map_err(oci_error)?);
    } else if let Some(swap) = hc.memory_swap.filter(|s| *s != 0) {
        return Err(EngineError::InvalidParameter(format!(
            "HostConfig.MemorySwap: {swap}: a memory and swap limit needs a memory limit (HostConfig.Memory)"
        )));
    }
    if let Some(cpu) = cpu(hc)? {
        res = res.cpu(cpu);
    }
    if let Some(limit) = hc.pids_limit.filter(|l| *l != 0) {
        let pids = LinuxPidsBuilder::default().limit(limit).build();
        res = res.pids(pids.map_err(oci_error)?);
    }
    res.build().map_err(oci_error)
}

/// The memory-and-swap limit beside a memory limit: none when not given
/// (0), no limit (-1), or at least the memory limit.
fn swap(memory: i64, swap: i64) -> Result<Option<i64>> {
    match swap {
        0 => Ok(None),
        -1 => Ok(Some(-1)),
        s if s >= memory => Ok(Some(s)),
        s => Err(EngineError::InvalidParameter(format!(
            "HostConfig.MemorySwap: {s} is below HostConfig.Memory {memory}: the memory and swap limit must be at least the memory limit (update both at once)"
        ))),
    }
}

/// Shares, and a quota over a period (from `NanoCpus`, or given).
fn cpu(hc: &HostConfig) -> Result<Option<oci_spec::runtime::LinuxCpu>> {
    let shares = hc.cpu_shares.unwrap_or(0);
    let nano_cpus = hc.nano_cpus.unwrap_or(0);
    let (quota, period) = (hc.cpu_quota.unwrap_or(0), hc.cpu_period.unwrap_or(0));
    let mut cpu = LinuxCpuBuilder::default();
    let mut any = false;
    if shares != 0 {
        if shares < 2 {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.CpuShares: {shares} is below the minimum of 2"
            )));
        }
        cpu = cpu.shares(shares as u64);
        any = true;
    }
    if nano_cpus != 0 {
        if quota != 0 || period != 0 {
            return Err(EngineError::InvalidParameter(
                "HostConfig.NanoCpus: cannot be combined with CpuQuota or CpuPeriod".into(),
            ));
        }
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
        if !(10_000_000..=cpus * 1_000_000_000).contains(&nano_cpus) {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.NanoCpus: {nano_cpus} is outside 0.01 to {cpus} CPUs (this host has {cpus})"
            )));
        }
        let quota = nano_cpus * NANO_CPUS_PERIOD as i64 / 1_000_000_000;
        cpu = cpu.period(NANO_CPUS_PERIOD).quota(quota);
        any = true;
    } else {
        if period != 0 && !(1000..=1_000_000).contains(&period) {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.CpuPeriod: {period}: the CPU CFS period can be neither less than 1ms (1000) nor more than 1s (1000000)"
            )));
        }
        if quota > 0 && quota < 1000 {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.CpuQuota: {quota}: the CPU CFS quota can not be less than 1ms (1000)"
            )));
        }
        if period != 0 {
            cpu = cpu.period(period as u64);
            any = true;
        }
        if quota != 0 {
            cpu = cpu.quota(quota);
            any = true;
        }
    }
    let online = |what: &str| {
        std::fs::read_to_string(format!("/sys/devices/system/{what}/online"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "0".into())
    };
    for (field, given, what) in [
        ("HostConfig.CpusetCpus", &hc.cpuset_cpus, "cpu"),
        ("HostConfig.CpusetMems", &hc.cpuset_mems, "node"),
    ] {
        let Some(given) = given.as_deref().filter(|g| !g.is_empty()) else {
            continue;
        };
        let available = online(what);
        check_cpuset(field, given, &available)?;
        cpu = match what {
            "cpu" => cpu.cpus(given),
            _ => cpu.mems(given),
        };
        any = true;
    }
    if !any {
        return Ok(None);
    }
    cpu.build().map(Some).map_err(oci_error)
}

/// The highest CPU or memory node number a cpuset may name (the
/// kernel's own bound).
const CPUSET_MAX: u32 = 8192;

/// The ranges of a cpuset list (`0-2,4`); `None` when it is not one.
fn cpuset(list: &str) -> Option<Vec<(u32, u32)>> {
    let mut out = Vec::new();
    for part in list.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b) = (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?);
        if a > b || b > CPUSET_MAX {
            return None;
        }
        out.push((a, b));
    }
    Some(out)
}

/// A cpuset asked for (`given`) within what the host has online
/// (`available`, in the same form), as Docker checks it.
fn check_cpuset(field: &str, given: &str, available: &str) -> Result<()> {
    let wanted = cpuset(given).ok_or_else(|| {
        EngineError::InvalidParameter(format!("{field}: invalid value {given:?}"))
    })?;
    let online = cpuset(available).unwrap_or_default();
    let is_online = |n: u32| online.iter().any(|(a, b)| (*a..=*b).contains(&n));
    if wanted.iter().any(|(a, b)| (*a..=*b).any(|n| !is_online(n))) {
        return Err(EngineError::InvalidParameter(format!(
            "{field}: requested {given} are not available - available: {available}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpusets_are_checked_against_the_hosts() {
        assert!(check_cpuset("HostConfig.CpusetCpus", "0-1", "0-1").is_ok());
        assert!(check_cpuset("HostConfig.CpusetCpus", "1", "0-3").is_ok());
        let e = check_cpuset("HostConfig.CpusetCpus", "99", "0-1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("99") && e.contains("0-1"), "{e}");
        assert!(check_cpuset("HostConfig.CpusetMems", "x", "0").is_err());
        assert!(check_cpuset("HostConfig.CpusetCpus", "0-4294967295", "0-1").is_err());
    }
}
