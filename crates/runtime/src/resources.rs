//! Windows-style resources on a Linux container.
//!
//! A spec may carry `windows.resources` (as Docker fills it for Windows);
//! on Linux they are mapped onto the equivalent cgroup limits. A limit the
//! spec already sets under `linux.resources` is kept.

use serde_json::{json, Map, Value};
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

/// Maps `windows.resources` of `spec` onto `linux.resources`, then drops
/// the Windows section. Returns warnings for adjusted values. The host's
/// facts are looked up (`host`) only when there is a Windows section.
pub fn apply_windows_resources(
    spec: &mut Value,
    host: impl FnOnce() -> HostResources,
) -> Result<Vec<String>, ResourceError> {
    let Some(win) = spec.pointer("/windows/resources").cloned() else {
        if let Some(obj) = spec.as_object_mut() {
            obj.remove("windows");
        }
        return Ok(Vec::new());
    };
    let host = &host();
    let mut warnings = Vec::new();
    let mut cpu = Map::new();
    if let Some(count) = number(&win, "/cpu/count", "windows.resources.cpu.count")? {
        check("windows.resources.cpu.count", count, 1, i64::MAX)?;
        let mut n = count as u64;
        if n > host.cpus {
            warnings.push(format!(
                "windows.resources.cpu.count: {n} CPUs requested, the host has {}; using {}",
                host.cpus, host.cpus
            ));
            n = host.cpus;
        }
        let cpus = if n == 1 {
            "0".to_string()
        } else {
            format!("0-{}", n - 1)
        };
        cpu.insert("cpus".into(), json!(cpus));
    }
    if let Some(weight) = number(&win, "/cpu/shares", "windows.resources.cpu.shares")? {
        check("windows.resources.cpu.shares", weight, 1, 10_000)?;
        cpu.insert("shares".into(), json!(weight_to_shares(weight as u64)));
    }
    if let Some(max) = number(&win, "/cpu/maximum", "windows.resources.cpu.maximum")? {
        check("windows.resources.cpu.maximum", max, 1, 10_000)?;
        // Hundredths of a percent of the whole host's CPU time.
        let quota = (max as u64) * CPU_PERIOD_US * host.cpus / 10_000;
        cpu.insert("quota".into(), json!(quota));
        cpu.insert("period".into(), json!(CPU_PERIOD_US));
    }
    let mut linux_res = Map::new();
    if !cpu.is_empty() {
        linux_res.insert("cpu".into(), Value::Object(cpu));
    }
    if let Some(limit) = number(&win, "/memory/limit", "windows.resources.memory.limit")? {
        check("windows.resources.memory.limit", limit, 1, i64::MAX)?;
        linux_res.insert("memory".into(), json!({ "limit": limit }));
    }
    let iops = number(&win, "/storage/iops", "windows.resources.storage.iops")?;
    let bps = number(&win, "/storage/bps", "windows.resources.storage.bps")?;
    if iops.is_some() || bps.is_some() {
        let (major, minor) = host.writable_device;
        if major == 0 {
            return Err(ResourceError::NoBlockDevice { major, minor });
        }
        let mut block = Map::new();
        let dev = |rate: i64| json!([{ "major": major, "minor": minor, "rate": rate }]);
        if let Some(iops) = iops {
            check("windows.resources.storage.iops", iops, 1, i64::MAX)?;
            block.insert("throttleReadIOPSDevice".into(), dev(iops));
            block.insert("throttleWriteIOPSDevice".into(), dev(iops));
        }
        if let Some(bps) = bps {
            check("windows.resources.storage.bps", bps, 1, i64::MAX)?;
            block.insert("throttleReadBpsDevice".into(), dev(bps));
            block.insert("throttleWriteBpsDevice".into(), dev(bps));
        }
        linux_res.insert("blockIO".into(), Value::Object(block));
    }

    let root = spec.as_object_mut().expect("a spec is an object");
    root.remove("windows");
    let linux = root
        .entry("linux")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("linux is an object");
    let resources = linux
        .entry("resources")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("linux.resources is an object");
    for (key, value) in linux_res {
        merge_missing(resources.entry(key).or_insert_with(|| json!({})), value);
    }
    Ok(warnings)
}

/// Windows' CPU weight (1-10000) to cgroup v1 shares (2-262144), the
/// inverse of the runtime-spec's shares-to-weight conversion.
pub fn weight_to_shares(weight: u64) -> u64 {
    2 + (weight.saturating_sub(1)) * 262_142 / 9_999
}

fn number(win: &Value, pointer: &str, field: &'static str) -> Result<Option<i64>, ResourceError> {
    match win.pointer(pointer) {
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

/// Adds the keys of `add` that `base` does not have (recursively).
fn merge_missing(base: &mut Value, add: Value) {
    match (base, add) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, v) in a {
                match b.get_mut(&k) {
                    Some(existing) => merge_missing(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b @ Value::Null, a) => *b = a,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: HostResources = HostResources {
        cpus: 2,
        writable_device: (254, 0),
    };

    fn map(win: Value) -> Result<(Value, Vec<String>), ResourceError> {
        let mut spec =
            json!({"linux": {"resources": {"pids": {"limit": 10}}}, "windows": {"resources": win}});
        let w = apply_windows_resources(&mut spec, || HOST)?;
        Ok((spec, w))
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
        let mut spec = json!({"windows": {"resources": {"storage": {"iops": 1}}}});
        let host = HostResources {
            cpus: 1,
            writable_device: (0, 45),
        };
        assert!(matches!(
            apply_windows_resources(&mut spec, || host),
            Err(ResourceError::NoBlockDevice { .. })
        ));
    }

    #[test]
    fn linux_limits_win_over_windows_ones() {
        let mut spec = json!({"linux": {"resources": {"memory": {"limit": 1000}}},
                              "windows": {"resources": {"memory": {"limit": 2000}}}});
        apply_windows_resources(&mut spec, || HOST).unwrap();
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
