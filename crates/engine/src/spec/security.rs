//! A container's confinement, as Docker's: its capabilities (Docker's 14
//! by default, `CapAdd`/`CapDrop`, every one of the host's bounding set
//! when privileged), the paths under /proc and /sys it sees masked or
//! read-only, and the devices it may use.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use oci_spec::runtime::{Capability, LinuxCapabilities, LinuxDeviceCgroup, LinuxDeviceType};

use crate::container::HostConfig;
use crate::error::{EngineError, Result};

/// The capabilities every container gets, Docker's.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// The kernel's capabilities by number (linux/capability.h).
const BY_NUMBER: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The paths under /proc and /sys every unprivileged container sees
/// empty, Docker's.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];

/// The paths under /proc every unprivileged container sees read-only.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The capabilities in the bounding set of `/proc/<pid>/status`'s text:
/// what a container may be given on this host.
pub fn bounding_set(status: &str) -> Vec<Capability> {
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    BY_NUMBER
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .filter_map(|(_, name)| Capability::from_str(name).ok())
        .collect()
}

/// A capability by its name, with or without `CAP_`, in any case.
fn capability(field: &str, name: &str) -> Result<Capability> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    Capability::from_str(bare).map_err(|_| {
        EngineError::InvalidParameter(format!("{field}: unknown capability: \"CAP_{bare}\""))
    })
}

/// The capabilities of a container: Docker's defaults without `drop`,
/// then `add` (`ALL` in `add` is the host's whole bounding set, in `drop`
/// none of the defaults). `host` is the host's bounding set; one asked
/// for outside it is refused, as the kernel would refuse it at start.
pub fn capabilities(
    add: &[String],
    drop: &[String],
    host: &[Capability],
) -> Result<Vec<Capability>> {
    let is_all = |n: &String| n.eq_ignore_ascii_case("ALL");
    let adds = add
        .iter()
        .filter(|n| !is_all(n))
        .map(|n| capability("HostConfig.CapAdd", n))
        .collect::<Result<Vec<_>>>()?;
    let drops = drop
        .iter()
        .filter(|n| !is_all(n))
        .map(|n| capability("HostConfig.CapDrop", n))
        .collect::<Result<HashSet<_>>>()?;
    // Docker's order: ALL added wins over ALL dropped.
    let basics: Vec<Capability> = match (add.iter().any(is_all), drop.iter().any(is_all)) {
        (true, _) => host.to_vec(),
        (false, true) => Vec::new(),
        (false, false) => DEFAULT_CAPABILITIES
            .iter()
            .filter_map(|n| Capability::from_str(n).ok())
            .collect(),
    };
    let mut caps: Vec<Capability> = basics.into_iter().filter(|c| !drops.contains(c)).collect();
    for cap in adds {
        if !host.contains(&cap) {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.CapAdd: CAP_{cap} is not in this host's bounding set"
            )));
        }
        if !caps.contains(&cap) {
            caps.push(cap);
        }
    }
    Ok(caps)
}

/// The process's capability sets: the bounding set always; effective and
/// permitted only for root, as Docker gives them.
pub fn capability_sets(caps: &[Capability], root: bool) -> LinuxCapabilities {
    let set: HashSet<Capability> = caps.iter().copied().collect();
    let mut sets = LinuxCapabilities::default();
    sets.set_bounding(Some(set.clone()))
        .set_inheritable(None)
        .set_ambient(None)
        .set_effective(root.then(|| set.clone()))
        .set_permitted(root.then_some(set));
    sets
}

/// The device cgroup rules of an unprivileged container, Docker's: none
/// but the default nodes, and never /dev/fuse.
pub fn device_rules(privileged: bool) -> Result<Vec<LinuxDeviceCgroup>> {
    let rule = |allow, typ, major: Option<i64>, minor: Option<i64>| {
        super::devices::rule(allow, typ, major, minor, "rwm")
    };
    if privileged {
        return Ok(vec![rule(true, LinuxDeviceType::A, None, None)?]);
    }
    let c = LinuxDeviceType::C;
    Ok(vec![
        rule(false, LinuxDeviceType::A, None, None)?,
        rule(true, c, Some(1), Some(5))?,
        rule(true, c, Some(1), Some(3))?,
        rule(true, c, Some(1), Some(9))?,
        rule(true, c, Some(1), Some(8))?,
        rule(true, c, Some(5), Some(0))?,
        rule(true, c, Some(5), Some(1))?,
        rule(false, c, Some(10), Some(229))?,
    ])
}

/// The bounding set of the daemon (from `status` under `proc`, the
/// host's /proc), which its containers cannot exceed; empty when it
/// cannot be read.
pub fn host_bounding_set(proc: &Path) -> Vec<Capability> {
    std::fs::read_to_string(proc.join("self/status"))
        .map(|s| bounding_set(&s))
        .unwrap_or_default()
}

/// The sysctls Docker lets a container set: those of the namespaces it
/// has of its own (IPC, and network).
fn namespaced(key: &str, own_ipc: bool, own_network: bool) -> bool {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let ipc = IPC.contains(&key) || key.starts_with("fs.mqueue.");
    (own_ipc && ipc) || (own_network && key.starts_with("net."))
}

/// Sysctls by name, with their values.
pub type Sysctls = std::collections::HashMap<String, String>;

/// `--sysctl`: only namespaced ones, of namespaces the container has of
/// its own; others are refused, as Docker refuses them.
pub fn sysctls(hc: &HostConfig, own_ipc: bool, own_network: bool) -> Result<Option<Sysctls>> {
    let Some(given) = hc.sysctls.as_ref().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let mut keys: Vec<&String> = given.keys().collect();
    keys.sort();
    for key in keys {
        if !namespaced(key, own_ipc, own_network) {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.Sysctls: {key}={}: not allowed: not a sysctl of a namespace the container has of its own",
                given[key]
            )));
        }
    }
    Ok(Some(given.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Vec<Capability> {
        bounding_set("Name:\tx\nCapBnd:\t000001fffeffffff\n")
    }

    fn names(caps: &[Capability]) -> Vec<String> {
        caps.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn the_bounding_set_is_read_from_status() {
        let host = host();
        assert_eq!(host.len(), 40);
        assert!(!host.contains(&Capability::SysResource));
        assert!(host.contains(&Capability::SysAdmin));
        let default = bounding_set("CapBnd:\t00000000a80425fb\n");
        let mut want: Vec<&str> = DEFAULT_CAPABILITIES.to_vec();
        want.sort();
        let mut got = names(&default);
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn adds_and_drops_follow_docker() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let caps = capabilities(
            &s(&["NET_ADMIN", "sys_time"]),
            &s(&["CHOWN", "CAP_KILL"]),
            &host(),
        )
        .unwrap();
        let got = names(&caps);
        assert_eq!(got.len(), 14);
        assert!(got.contains(&"NET_ADMIN".into()) && got.contains(&"SYS_TIME".into()));
        assert!(!got.contains(&"CHOWN".into()) && !got.contains(&"KILL".into()));
        assert_eq!(
            names(&capabilities(&s(&["CHOWN"]), &s(&["ALL"]), &host()).unwrap()),
            ["CHOWN"]
        );
        assert_eq!(capabilities(&s(&["ALL"]), &[], &host()).unwrap().len(), 40);
        assert_eq!(
            capabilities(&s(&["ALL"]), &s(&["ALL"]), &host())
                .unwrap()
                .len(),
            40
        );
        assert_eq!(
            capabilities(&s(&["ALL"]), &s(&["KILL"]), &host())
                .unwrap()
                .len(),
            39
        );
        let e = capabilities(&s(&["NOPE"]), &[], &host())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("HostConfig.CapAdd") && e.contains("CAP_NOPE"),
            "{e}"
        );
        let e = capabilities(&s(&["SYS_RESOURCE"]), &[], &host())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bounding set"), "{e}");
    }

    #[test]
    fn only_namespaced_sysctls_pass() {
        let hc = |k: &str| HostConfig {
            sysctls: Some([(k.to_string(), "1".to_string())].into()),
            ..Default::default()
        };
        assert!(sysctls(&hc("net.ipv4.ip_forward"), true, true)
            .unwrap()
            .is_some());
        assert!(sysctls(&hc("kernel.msgmax"), true, false)
            .unwrap()
            .is_some());
        let e = sysctls(&hc("kernel.modprobe"), true, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("kernel.modprobe=1"), "{e}");
        assert!(sysctls(&hc("net.ipv4.ip_forward"), true, false).is_err());
        assert!(sysctls(&hc("kernel.msgmax"), false, true).is_err());
    }

    #[test]
    fn only_root_gets_effective_capabilities() {
        let caps = capabilities(&[], &[], &host()).unwrap();
        let sets = capability_sets(&caps, false);
        assert_eq!(sets.bounding().as_ref().unwrap().len(), 14);
        assert!(sets.effective().is_none() && sets.permitted().is_none());
        assert!(capability_sets(&caps, true).effective().is_some());
    }
}
