//! Resource usage in the shape of Docker's stats API, from what the shim
//! reads out of a container's cgroups (cgroup v1 or v2).
//!
//! Docker's clients compute CPU % from two samples (`cpu_stats` and
//! `precpu_stats`): the container's CPU time against the host's over the
//! same span. The host's CPU time is read here, from `/proc/stat`, when the
//! sample is taken.

use serde_json::{json, Value};

use crate::container::ZERO_TIME;

/// One reading of a container's usage, Docker's members except the
/// previous reading (`precpu_stats`, `preread`), which the caller adds.
#[derive(Debug, Clone)]
pub struct Sample {
    pub read: String,
    pub cpu_stats: Value,
    pub memory_stats: Value,
    pub pids_stats: Value,
    pub blkio_stats: Value,
    /// Each interface's counters but `lo`'s, for a container on networks.
    pub networks: Option<Value>,
}

impl Sample {
    /// The reading of a container that does not run: zeros, read at
    /// Docker's zero time.
    pub fn empty() -> Sample {
        Sample {
            read: ZERO_TIME.into(),
            cpu_stats: json!({"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0}, "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}),
            memory_stats: json!({}),
            pids_stats: json!({}),
            blkio_stats: json!({"io_service_bytes_recursive": null, "io_serviced_recursive": null}),
            networks: None,
        }
    }

    /// Maps the shim's cgroup statistics (`raw`) to Docker's members.
    /// `system_ns` is the host's CPU time, `online_cpus` its CPU count and
    /// `host_memory` its memory, which bounds the reported limit.
    pub fn from_cgroup(
        raw: &Value,
        read: String,
        system_ns: u64,
        online_cpus: u64,
        host_memory: u64,
    ) -> Sample {
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let usage = &raw["cpu"]["usage"];
        let cpu_stats = json!({
            "cpu_usage": {
                "total_usage": n(&usage["usage_total"]),
                "percpu_usage": usage["per_core_usage_total"].as_array().cloned().unwrap_or_default(),
                "usage_in_kernelmode": n(&usage["usage_kernel"]),
                "usage_in_usermode": n(&usage["usage_user"]),
            },
            "system_cpu_usage": system_ns,
            "online_cpus": online_cpus,
            "throttling_data": {
                "periods": n(&raw["cpu"]["throttling"]["periods"]),
                "throttled_periods": n(&raw["cpu"]["throttling"]["throttled_periods"]),
                "throttled_time": n(&raw["cpu"]["throttling"]["throttled_time"]),
            },
        });

        let mem = &raw["memory"];
        let limit = n(&mem["memory"]["limit"]);
        let limit = if limit == 0 {
            host_memory
        } else {
            limit.min(host_memory)
        };
        let memory_stats = json!({
            "usage": n(&mem["memory"]["usage"]),
            "max_usage": n(&mem["memory"]["max_usage"]),
            "failcnt": n(&mem["memory"]["fail_count"]),
            "limit": limit,
            "stats": mem["stats"].as_object().cloned().unwrap_or_default(),
        });

        let pids_stats = {
            let mut p = json!({"current": n(&raw["pids"]["current"])});
            // 0 means no limit; Docker leaves the member out then.
            if let Some(l) = raw["pids"]["limit"].as_u64().filter(|l| *l > 0) {
                p["limit"] = json!(l);
            }
            p
        };

        let devices = |key: &str| -> Value {
            let list: Vec<Value> = raw["blkio"][key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|d| {
                            json!({
                                "major": n(&d["major"]),
                                "minor": n(&d["minor"]),
                                "op": d["op_type"].as_str().unwrap_or(""),
                                "value": n(&d["value"]),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!(list)
        };
        let blkio_stats = json!({
            "io_service_bytes_recursive": devices("service_bytes"),
            "io_serviced_recursive": devices("serviced"),
        });

        Sample {
            read,
            cpu_stats,
            memory_stats,
            pids_stats,
            blkio_stats,
            networks: None,
        }
    }

    /// Docker's stats object: this reading, `prev` as the previous one.
    pub fn to_docker(&self, id: &str, name: &str, prev: Option<&Sample>) -> Value {
        let empty = Sample::empty();
        let prev = prev.unwrap_or(&empty);
        let mut v = json!({
            "id": id,
            "name": name,
            "read": self.read,
            "preread": prev.read,
            "num_procs": 0,
            "pids_stats": self.pids_stats,
            "blkio_stats": self.blkio_stats,
            "storage_stats": {},
            "cpu_stats": self.cpu_stats,
            "precpu_stats": prev.cpu_stats,
            "memory_stats": self.memory_stats,
        });
        if let Some(networks) = &self.networks {
            v["networks"] = networks.clone();
        }
        v
    }
}

/// Docker's `networks` of a stats object from a `/proc/PID/net/dev`:
/// each interface but `lo`, with its byte, packet, error and drop counts.
pub fn interfaces(net_dev: &str) -> Value {
    let mut out = serde_json::Map::new();
    for line in net_dev.lines().skip(2) {
        let Some((name, counts)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let n: Vec<u64> = counts
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .collect();
        if name == "lo" || n.len() < 12 {
            continue;
        }
        out.insert(
            name.to_string(),
            json!({
                "rx_bytes": n[0], "rx_packets": n[1], "rx_errors": n[2], "rx_dropped": n[3],
                "tx_bytes": n[8], "tx_packets": n[9], "tx_errors": n[10], "tx_dropped": n[11],
            }),
        );
    }
    Value::Object(out)
}

/// The host's CPU time in nanoseconds: the sum of the `cpu` line of
/// `/proc/stat` (in clock ticks).
pub fn system_cpu_ns(proc_stat: &str) -> u64 {
    // The kernel reports these in USER_HZ, which is 100 on Linux.
    const NS_PER_TICK: u64 = 1_000_000_000 / 100;
    proc_stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(7)
                .filter_map(|f| f.parse::<u64>().ok())
                .sum::<u64>()
                * NS_PER_TICK
        })
        .unwrap_or(0)
}

/// The host's memory in bytes, from `/proc/meminfo`.
pub fn host_memory(meminfo: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> Value {
        json!({
            "cpu": {
                "usage": {"usage_total": 7_424_336u64, "usage_user": 3, "usage_kernel": 4,
                          "per_core_usage_total": [7_424_336u64, 0]},
                "throttling": {"periods": 5, "throttled_periods": 2, "throttled_time": 99}
            },
            "pids": {"current": 3, "limit": 0},
            "blkio": {"service_bytes": [{"major": 8, "minor": 0, "op_type": "Read", "value": 4096}],
                      "serviced": []},
            "memory": {"memory": {"usage": 372_736, "max_usage": 520_192, "fail_count": 1,
                                  "limit": 9_223_372_036_854_771_712u64},
                       "stats": {"total_inactive_file": 4096}}
        })
    }

    #[test]
    fn maps_cgroup_statistics_to_dockers_members() {
        let s = Sample::from_cgroup(&raw(), "t1".into(), 1_000, 2, 8 << 30);
        let v = s.to_docker("abc", "/web", None);
        assert_eq!(v["cpu_stats"]["cpu_usage"]["total_usage"], 7_424_336);
        assert_eq!(v["cpu_stats"]["cpu_usage"]["percpu_usage"][0], 7_424_336);
        assert_eq!(v["cpu_stats"]["system_cpu_usage"], 1_000);
        assert_eq!(v["cpu_stats"]["online_cpus"], 2);
        assert_eq!(v["cpu_stats"]["throttling_data"]["throttled_time"], 99);
        // An unlimited cgroup reports the host's memory as its limit.
        assert_eq!(v["memory_stats"]["limit"], 8u64 << 30);
        assert_eq!(v["memory_stats"]["usage"], 372_736);
        assert_eq!(v["memory_stats"]["stats"]["total_inactive_file"], 4096);
        assert_eq!(v["pids_stats"], json!({"current": 3}));
        assert_eq!(
            v["blkio_stats"]["io_service_bytes_recursive"][0],
            json!({"major": 8, "minor": 0, "op": "Read", "value": 4096})
        );
        assert_eq!(v["preread"], ZERO_TIME);
        assert_eq!(v["precpu_stats"]["cpu_usage"]["total_usage"], 0);
        assert_eq!(v["name"], "/web");
    }

    #[test]
    fn a_set_limit_is_reported_as_is() {
        let mut r = raw();
        r["memory"]["memory"]["limit"] = json!(64u64 << 20);
        r["pids"]["limit"] = json!(10);
        let s = Sample::from_cgroup(&r, "t2".into(), 0, 1, 8 << 30);
        let prev = Sample::from_cgroup(&raw(), "t1".into(), 0, 1, 8 << 30);
        let v = s.to_docker("abc", "/web", Some(&prev));
        assert_eq!(v["memory_stats"]["limit"], 64u64 << 20);
        assert_eq!(v["pids_stats"]["limit"], 10);
        assert_eq!(v["preread"], "t1");
    }

    #[test]
    fn interface_counters_are_dockers() {
        let dev = "Inter-|   Receive                                                |  Transmit\n \
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
             lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n  \
             eth0:    1296      14    1    2    0     0          0         0      656       8    3    4    0     0       0          0\n";
        let v = interfaces(dev);
        assert_eq!(v.as_object().unwrap().len(), 1);
        assert_eq!(v["eth0"]["rx_bytes"], 1296);
        assert_eq!(v["eth0"]["rx_dropped"], 2);
        assert_eq!(v["eth0"]["tx_packets"], 8);
        assert_eq!(v["eth0"]["tx_dropped"], 4);
    }

    #[test]
    fn reads_host_cpu_time_and_memory() {
        let stat = "cpu  10 20 30 40 50 60 70 80 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        assert_eq!(system_cpu_ns(stat), 280 * 10_000_000);
        assert_eq!(
            host_memory("MemTotal:       16384 kB\nMemFree: 1 kB\n"),
            16384 * 1024
        );
    }
}
