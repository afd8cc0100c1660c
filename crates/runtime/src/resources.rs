//! Windows-style resources on a Linux container.
//!
//! A spec may carry `windows.resources` (as Docker fills it for Windows);
//! on Linux they are mapped onto the equivalent cgroup limits. A limit the
//! spec already sets under `linux.resources` is kept.
//!
//! The Windows section is read from its JSON as given, not as oci-spec
//! types it: it is not part of the spec the container runs with, and a
//! value of the wrong kind is named with its field.

use oci_spec::runtime::{
    LinuxBlockIo, LinuxResources, LinuxThrottleDevice, LinuxThrottleDeviceBuilder, Spec,
};
use serde_json::Value;
use thiserror::Error;

/// A Windows-style resource that has no Linux meaning as given.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ResourceError {
    #[error("{field}: {value} is outside {min}-{max}")]
    OutOfRange {
        field: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{field}: {value} is not a number")]
    NotANumber { field: &'static str, value: String },
    #[error("windows.resources.storage: the writable layer is not on a block device (device {major}:{minor}), so its I/O cannot be throttled")]
    NoBlockDevice { major: u64, minor: u64 },
}

/// Facts the mapping needs about this host.
#[derive(Debug, Clone, Copy)]
pub struct HostResources {
    pub cpus: u64,
    /// `(major, minor)` of the block device holding the writable layer.
    pub writable_device: (u64, u64),
}

/// The CFS period quotas are computed against, in microseconds.
pub const CPU_PERIOD_US: u64 = 100_000;

/// The Linux limits a Windows section asks for.
#[derive(Debug, Default)]
struct Mapped {
    cpus: Option<String>,
    shares: Option<u64>,
    quota: Option<(i64, u64)>,
    memory: Option<i64>,
    /// The writable layer's device and its IOPS and bytes/s limits.
    storage: Option<Storage>,
}

#[derive(Debug)]
struct Storage {
    device: (u64, u64),
    iops: Option<u64>,
    bps: Option<u64>,
}

/// Maps the `resources` of `windows` (the spec's Windows section, taken
/// out of it) onto `linux.resources` of `spec`. Returns warnings for
/// adjusted values. The host's facts are looked up (`host`) only when
/// there are Windows resources.
pub fn apply_windows_resources(
    spec: &mut Spec,
    windows: Option<&Value>,
    host: impl FnOnce() -> HostResources,
) -> Result<Vec<String>, ResourceError> {
    let Some(win) = windows.and_then(|w| w.get("resources")) else {
        return Ok(Vec::new());
    };
    let mut warnings = Vec::new();
    let mapped = map(win, &host(), &mut warnings)?;
    let linux = spec.linux_mut().get_or_insert_with(crate::bundle::empty);
    let resources = linux
        .resources_mut()
        .get_or_insert_with(LinuxResources::default);
    merge(resources, mapped);
    Ok(warnings)
}

/// Reads and checks the Windows resources `win`.
fn map(
    win: &Value,
    host: &HostResources,
    warnings: &mut Vec<String>,
) -> Result<Mapped, ResourceError> {
    let mut mapped = Mapped::default();
    if let Some(count) = number(win, ["cpu", "count"], "windows.resources.cpu.count")? {
        check("windows.resources.cpu.count", count, 1, i64::MAX)?;
        let mut n = count as u64;
        if n > host.cpus {
            warnings.push(format!(
                "windows.resources.cpu.count: {n} CPUs requested, the host has {}; using {}",
                host.cpus, host.cpus
            ));
            n = host.cpus;
        }
        mapped.cpus = Some(if n == 1 {
            "0".to_string()
        } else {
            format!("0-{}", n - 1)
        });
    }
    if let Some(weight) = number(win, ["cpu", "shares"], "windows.resources.cpu.shares")? {
        check("windows.resources.cpu.shares", weight, 1, 10_000)?;
        mapped.shares = Some(weight_to_shares(weight as u64));
    }
    if let Some(max) = number(win, ["cpu", "maximum"], "windows.resources.cpu.maximum")? {
        check("windows.resources.cpu.maximum", max, 1, 10_000)?;
        // Hundredths of a percent of the whole host's CPU time.
        let quota = (max as u64) * CPU_PERIOD_US * host.cpus / 10_000;
        mapped.quota = Some((quota as i64, CPU_PERIOD_US));
    }
    if let Some(limit) = number(win, ["memory", "limit"], "windows.resources.memory.limit")? {
        check("windows.resources.memory.limit", limit, 1, i64::MAX)?;
        mapped.memory = Some(limit);
    }
    let iops = number(win, ["storage", "iops"], "windows.resources.storage.iops")?;
    let bps = number(win, ["storage", "bps"], "windows.resources.storage.bps")?;
    if iops.is_some() || bps.is_some() {
        let (major, minor) = host.writable_device;
        if major == 0 {
            return Err(ResourceError::NoBlockDevice { major, minor });
        }
        if let Some(iops) = iops {
            check("windows.resources.storage.iops", iops, 1, i64::MAX)?;
        }
        if let Some(bps) = bps {
            check("windows.resources.storage.bps", bps, 1, i64::MAX)?;
        }
        mapped.storage = Some(Storage {
            device: (major, minor),
            iops: iops.map(|n| n as u64),
            bps: bps.map(|n| n as u64),
        });
    }
    Ok(mapped)
}

/// Adds the limits of `mapped` that `resources` does not set.
fn merge(resources: &mut LinuxResources, mapped: Mapped) {
    if mapped.cpus.is_some() || mapped.shares.is_some() || mapped.quota.is_some() {
        let mut cpu = resources.cpu().clone().unwrap_or_default();
        if cpu.cpus().is_none() {
            cpu.set_cpus(mapped.cpus);
        }
        if cpu.shares().is_none() {
            cpu.set_shares(mapped.shares);
        }
        if let Some((quota, period)) = mapped.quota {
            if cpu.quota().is_none() {
                cpu.set_quota(Some(quota));
            }
            if cpu.period().is_none() {
                cpu.set_period(Some(period));
            }
        }
        resources.set_cpu(Some(cpu));
    }
    if let Some(limit) = mapped.memory {
        let mut memory = resources.memory().unwrap_or_default();
        if memory.limit().is_none() {
            memory.set_limit(Some(limit));
        }
        resources.set_memory(Some(memory));
    }
    if let Some(storage) = mapped.storage {
        let mut block = resources.block_io().clone().unwrap_or_default();
        let (major, minor) = storage.device;
        let device = |rate: u64| -> Vec<LinuxThrottleDevice> {
            let dev = LinuxThrottleDeviceBuilder::default()
                .major(major as i64)
                .minor(minor as i64)
                .rate(rate)
                .build()
                .expect("every field is given");
            vec![dev]
        };
        type Throttle = (
            fn(&LinuxBlockIo) -> &Option<Vec<LinuxThrottleDevice>>,
            fn(&mut LinuxBlockIo, Option<Vec<LinuxThrottleDevice>>) -> &mut LinuxBlockIo,
            Option<u64>,
        );
        let throttles: [Throttle; 4] = [
            (
                LinuxBlockIo::throttle_read_iops_device,
                LinuxBlockIo::set_throttle_read_iops_device,
                storage.iops,
            ),
            (
                LinuxBlockIo::throttle_write_iops_device,
                LinuxBlockIo::set_throttle_write_iops_device,
                storage.iops,
            ),
            (
                LinuxBlockIo::throttle_read_bps_device,
                LinuxBlockIo::set_throttle_read_bps_device,
                storage.bps,
            ),
            (
                LinuxBlockIo::throttle_write_bps_device,
                LinuxBlockIo::set_throttle_write_bps_device,
                storage.bps,
            ),
        ];
        for (get, set, rate) in throttles {
            if let (None, Some(rate)) = (get(&block), rate) {
                set(&mut block, Some(device(rate)));
            }
        }
        resources.set_block_io(Some(block));
    }
}

/// Windows' CPU weight (1-10000) to cgroup v1 shares (2-262144), the
/// inverse of the runtime-spec's shares-to-weight conversion.
pub fn weight_to_shares(weight: u64) -> u64 {
    2 + (weight.saturating_sub(1)) * 262_142 / 9_999
}

/// The number at `section.key` of the Windows resources `win`; absent or
/// null is none.
fn number(
    win: &Value,
    [section, key]: [&str; 2],
    field: &'static str,
) -> Result<Option<i64>, ResourceError> {
    match win.get(section).and_then(|s| s.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ResourceError::NotANumber {
                field,
                value: v.to_string(),
            }),
    }
}

fn check(field: &'static str, value: i64, min: i64, max: i64) -> Result<(), ResourceError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ResourceError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec_of(v: Value) -> Spec {
        serde_json::from_value(v).unwrap()
    }

    const HOST: HostResources = HostResources {
        cpus: 2,
        writable_device: (254, 0),
    };

    fn map(win: Value) -> Result<(Value, Vec<String>), ResourceError> {
        let mut spec = spec_of(json!({"linux": {"resources": {"pids": {"limit": 10}}}}));
        let windows = json!({"resources": win});
        let w = apply_windows_resources(&mut spec, Some(&windows), || HOST)?;
        Ok((serde_json::to_value(&spec).unwrap(), w))
    }

    #[test]
    fn cpu_count_becomes_a_cpuset_clamped_to_the_host() {
        let (spec, w) = map(json!({"cpu": {"count": 8}})).unwrap();
        assert_eq!(spec.pointer("/linux/resources/cpu/cpus").unwrap(), "0-1");
        assert_eq!(w.len(), 1);
        let (spec, _) = map(json!({"cpu": {"count": 1}})).unwrap();
        assert_eq!(spec.pointer("/linux/resources/cpu/cpus").unwrap(), "0");
        assert!(spec.get("windows").is_none());
        assert_eq!(spec.pointer("/linux/resources/pids/limit").unwrap(), 10);
    }

    #[test]
    fn cpu_shares_map_to_the_cgroup_range() {
        assert_eq!(weight_to_shares(1), 2);
        assert_eq!(weight_to_shares(10_000), 262_144);
        let (spec, _) = map(json!({"cpu": {"shares": 5000}})).unwrap();
        assert_eq!(
            spec.pointer("/linux/resources/cpu/shares").unwrap(),
            weight_to_shares(5000)
        );
        assert_eq!(
            map(json!({"cpu": {"shares": 0}})).unwrap_err(),
            ResourceError::OutOfRange {
                field: "windows.resources.cpu.shares",
                value: 0,
                min: 1,
                max: 10_000
            }
        );
    }

    #[test]
    fn cpu_maximum_is_a_share_of_the_whole_host() {
        // 25% of a 2-CPU host is half a CPU.
        let (spec, _) = map(json!({"cpu": {"maximum": 2500}})).unwrap();
        assert_eq!(spec.pointer("/linux/resources/cpu/quota").unwrap(), 50_000);
        assert_eq!(
            spec.pointer("/linux/resources/cpu/period").unwrap(),
            100_000
        );
        assert!(map(json!({"cpu": {"maximum": 10_001}})).is_err());
    }

    #[test]
    fn storage_limits_throttle_the_writable_layer_device() {
        let (spec, _) = map(json!({"storage": {"iops": 100, "bps": 1048576}})).unwrap();
        let block = spec.pointer("/linux/resources/blockIO").unwrap();
        assert_eq!(
            block["throttleReadIOPSDevice"],
            json!([{"major": 254, "minor": 0, "rate": 100}])
        );
        assert_eq!(
            block["throttleWriteBpsDevice"],
            json!([{"major": 254, "minor": 0, "rate": 1048576}])
        );
        let mut spec = spec_of(json!({}));
        let windows = json!({"resources": {"storage": {"iops": 1}}});
        let host = HostResources {
            cpus: 1,
            writable_device: (0, 45),
        };
        assert!(matches!(
            apply_windows_resources(&mut spec, Some(&windows), || host),
            Err(ResourceError::NoBlockDevice { .. })
        ));
    }

    #[test]
    fn linux_limits_win_over_windows_ones() {
        let mut spec = spec_of(json!({"linux": {"resources": {"memory": {"limit": 1000}}}}));
        let windows = json!({"resources": {"memory": {"limit": 2000}}});
        apply_windows_resources(&mut spec, Some(&windows), || HOST).unwrap();
        let spec = serde_json::to_value(&spec).unwrap();
        assert_eq!(spec.pointer("/linux/resources/memory/limit").unwrap(), 1000);
    }

    #[test]
    fn a_non_number_names_the_field() {
        let e = map(json!({"memory": {"limit": "1g"}})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "windows.resources.memory.limit: \"1g\" is not a number"
        );
    }
}
