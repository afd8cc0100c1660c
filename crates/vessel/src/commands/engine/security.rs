//! Confinement flags of `create`/`run`, docker's: `--privileged`,
//! `--cap-add`, `--cap-drop`, `--security-opt`, `--read-only`,
//! `--sysctl`, `--ulimit`, `--group-add`, `--shm-size`,
//! `--oom-score-adj`, `--cpuset-cpus`, `--cpuset-mems`, and the
//! namespaces: `--ipc`, `--pid`, `--uts`, `--cgroupns`.

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use super::limits::parse_bytes;

#[derive(Debug, Args)]
pub struct SecurityFlags {
    /// Every capability of the host's bounding set, every device, nothing
    /// hidden under /proc and /sys.
    #[arg(long)]
    privileged: bool,
    /// Add a capability (NAME, CAP_NAME, or ALL).
    #[arg(long = "cap-add")]
    cap_add: Vec<String>,
    /// Drop a capability (NAME, CAP_NAME, or ALL).
    #[arg(long = "cap-drop")]
    cap_drop: Vec<String>,
    /// no-new-privileges, seccomp=unconfined|builtin|PROFILE.json,
    /// systempaths=unconfined, ...
    #[arg(long = "security-opt")]
    security_opt: Vec<String>,
    /// Mount the container's root file system read-only.
    #[arg(long = "read-only")]
    read_only: bool,
    /// A namespaced sysctl: KEY=VALUE.
    #[arg(long)]
    sysctl: Vec<String>,
    /// A limit: NAME=SOFT[:HARD] (nofile, nproc, ...).
    #[arg(long)]
    ulimit: Vec<String>,
    /// An additional group (numeric id).
    #[arg(long = "group-add")]
    group_add: Vec<String>,
    /// The size of /dev/shm (bytes, or with b, k, m, g).
    #[arg(long = "shm-size")]
    shm_size: Option<String>,
    /// The OOM killer's preference (-1000 to 1000).
    #[arg(long = "oom-score-adj", allow_negative_numbers = true)]
    oom_score_adj: Option<i64>,
    /// CPUs the container may run on (0-3, 0,1).
    #[arg(long = "cpuset-cpus")]
    cpuset_cpus: Option<String>,
    /// Memory nodes the container may use.
    #[arg(long = "cpuset-mems")]
    cpuset_mems: Option<String>,
    /// IPC namespace: private, shareable, host, or container:NAME.
    #[arg(long)]
    ipc: Option<String>,
    /// PID namespace: host, or container:NAME.
    #[arg(long)]
    pid: Option<String>,
    /// UTS namespace: host.
    #[arg(long)]
    uts: Option<String>,
    /// Cgroup namespace: host or private.
    #[arg(long)]
    cgroupns: Option<String>,
    /// A host device: HOST[:CONTAINER][:PERMISSIONS].
    #[arg(long)]
    device: Vec<String>,
    /// A device cgroup rule: 'TYPE MAJOR:MINOR ACCESS'.
    #[arg(long = "device-cgroup-rule")]
    device_cgroup_rule: Vec<String>,
}

impl SecurityFlags {
    /// Puts the flags given into a host config, in Docker's member names.
    pub fn apply(&self, host: &mut Value) -> anyhow::Result<()> {
        let security_opt = self
            .security_opt
            .iter()
            .map(|o| security_opt(o))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let strings = [
            ("SecurityOpt", &security_opt),
            ("GroupAdd", &self.group_add),
            ("DeviceCgroupRules", &self.device_cgroup_rule),
        ];
        if !self.device.is_empty() {
            host["Devices"] = json!(self.device.iter().map(|d| device(d)).collect::<Vec<_>>());
        }
        for (member, given) in strings {
            if !given.is_empty() {
                host[member] = json!(given);
            }
        }
        let modes = [
            ("IpcMode", &self.ipc),
            ("PidMode", &self.pid),
            ("UTSMode", &self.uts),
            ("CgroupnsMode", &self.cgroupns),
            ("CpusetCpus", &self.cpuset_cpus),
            ("CpusetMems", &self.cpuset_mems),
        ];
        for (member, given) in modes {
            if let Some(v) = given {
                host[member] = json!(v);
            }
        }
        if self.read_only {
            host["ReadonlyRootfs"] = json!(true);
        }
        if !self.sysctl.is_empty() {
            host["Sysctls"] = Value::Object(super::pairs(&self.sysctl, "sysctl")?);
        }
        if !self.ulimit.is_empty() {
            let limits = self
                .ulimit
                .iter()
                .map(|u| ulimit(u))
                .collect::<anyhow::Result<Vec<_>>>()?;
            host["Ulimits"] = json!(limits);
        }
        if let Some(s) = &self.shm_size {
            host["ShmSize"] = json!(parse_bytes(s)?);
        }
        if let Some(adj) = self.oom_score_adj {
            host["OomScoreAdj"] = json!(adj);
        }
        if self.privileged {
            host["Privileged"] = json!(true);
        }
        if !self.cap_add.is_empty() {
            host["CapAdd"] = json!(self.cap_add);
        }
        if !self.cap_drop.is_empty() {
            host["CapDrop"] = json!(self.cap_drop);
        }
        Ok(())
    }
}

/// A `--security-opt` as the daemon takes it: `seccomp=FILE` becomes the
/// file's profile, as docker's client sends it (compacted JSON).
fn security_opt(opt: &str) -> anyhow::Result<String> {
    let Some(path) = opt
        .strip_prefix("seccomp=")
        .or_else(|| opt.strip_prefix("seccomp:"))
        .filter(|p| !matches!(*p, "unconfined" | "builtin"))
    else {
        return Ok(opt.to_string());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("opening seccomp profile ({path}) failed"))?;
    let profile: Value = serde_json::from_str(&text)
        .with_context(|| format!("compacting json for seccomp profile ({path}) failed"))?;
    Ok(format!("seccomp={profile}"))
}

/// `HOST[:CONTAINER][:PERMISSIONS]` as Docker's `Devices` member.
fn device(given: &str) -> Value {
    let parts: Vec<&str> = given.split(':').collect();
    let perms = |p: &str| !p.is_empty() && p.chars().all(|c| "rwm".contains(c));
    let (host, inside, permissions) = match parts[..] {
        [h, i, p] => (h, i, p),
        [h, p] if perms(p) => (h, h, p),
        [h, i] => (h, i, "rwm"),
        _ => (given, given, "rwm"),
    };
    json!({"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": permissions})
}

/// `NAME=SOFT[:HARD]` as Docker's `Ulimits` member (hard = soft when not
/// given).
fn ulimit(given: &str) -> anyhow::Result<Value> {
    let (name, limits) = given
        .split_once('=')
        .with_context(|| format!("--ulimit {given:?}: not NAME=SOFT[:HARD]"))?;
    let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
    let number = |n: &str| {
        n.parse::<i64>()
            .with_context(|| format!("--ulimit {given:?}: {n:?} is not a number"))
    };
    Ok(json!({"Name": name, "Soft": number(soft)?, "Hard": number(hard)?}))
}
