//! A container's cgroups on a cgroups-v1 host, made by the shim itself.
//!
//! libcgroups' v1 manager looks up each controller's mount point on its
//! own, reading /proc/self/mountinfo and /proc/self/cgroup through a
//! checked procfs handle every time: about 2 ms of every create on the
//! hosts Vessel is measured on. The shim reads the mount table once
//! ([`super::mounts`]) and writes the container's limits itself, into the
//! files libcgroups writes and under the same rules, for the resources
//! [`check`] accepts. A container that asks for anything else is created
//! through libcontainer, which does it all.

use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxDeviceCgroup, LinuxMemory, LinuxResources};

use super::{Hierarchy, JoinCgroupError};
use crate::fallback::Unsupported;

/// The v1 controllers a container is put in (libcgroups' list).
pub const CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "hugetlb",
    "memory",
    "pids",
    "perf_event",
    "blkio",
    "net_prio",
    "net_cls",
    "freezer",
];

/// Device rules every container gets after its own (as libcgroups
/// writes them): creating any device node, the console, ptys and their
/// multiplexer, and tun/tap. Rules that open the default device nodes come
/// from libcontainer's own list of those nodes.
const ALWAYS_ALLOWED: &[&str] = &[
    "c *:* m",
    "b *:* m",
    "c 5:1 rwm",
    "c 136:* rwm",
    "c 5:2 rwm",
    "c 10:200 rwm",
];

/// Why a container's cgroups could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("the {0} cgroup controller is not mounted on this host")]
    NotMounted(&'static str),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {value:?} to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is empty: no cpus or memory nodes to give the container")]
    EmptyCpuset(PathBuf),
    #[error("linux.resources.memory.swappiness {0}: must be 0 to 100")]
    Swappiness(u64),
    #[error("no cgroups-v1 controller is mounted on this host")]
    NoV1,
    #[error("this process's own {0} cgroup is not in /proc/self/cgroup")]
    NoHome(String),
    #[error(transparent)]
    Join(#[from] JoinCgroupError),
    #[error("cgroupsPath {}: no name to give the cgroups", .0.display())]
    NoName(PathBuf),
}

/// Whether this module can set up cgroups for `resources` at
/// `cgroups_path`; if not, the reason (the container then goes through
/// libcontainer).
pub fn check(resources: Option<&LinuxResources>, cgroups_path: &Path) -> Result<(), Unsupported> {
    let plain = cgroups_path
        .components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !plain || relative(cgroups_path).as_os_str().is_empty() {
        return Err(Unsupported::CgroupsPath(cgroups_path.to_path_buf()));
    }
    let Some(r) = resources else { return Ok(()) };
    let (m, c, b) = (r.memory().as_ref(), r.cpu().as_ref(), r.block_io().as_ref());
    let not_written = [
        (m.is_some_and(|m| m.kernel().is_some()), "memory.kernel"),
        (
            m.is_some_and(|m| m.kernel_tcp().is_some()),
            "memory.kernelTCP",
        ),
        (
            m.is_some_and(|m| m.disable_oom_killer() == Some(true)),
            "memory.disableOOMKiller",
        ),
        (
            m.is_some_and(|m| m.use_hierarchy().is_some()),
            "memory.useHierarchy",
        ),
        (
            m.is_some_and(|m| m.check_before_update().is_some()),
            "memory.checkBeforeUpdate",
        ),
        (
            c.is_some_and(|c| c.realtime_runtime().is_some()),
            "cpu.realtimeRuntime",
        ),
        (
            c.is_some_and(|c| c.realtime_period().is_some()),
            "cpu.realtimePeriod",
        ),
        (c.is_some_and(|c| c.idle().is_some()), "cpu.idle"),
        (c.is_some_and(|c| c.burst().is_some()), "cpu.burst"),
        (
            b.is_some_and(|b| b.leaf_weight().is_some()),
            "blockIO.leafWeight",
        ),
        (
            b.is_some_and(|b| b.weight_device().as_ref().is_some_and(|d| !d.is_empty())),
            "blockIO.weightDevice",
        ),
        (
            r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()),
            "hugepageLimits",
        ),
        (r.network().is_some(), "network"),
        (r.rdma().as_ref().is_some_and(|h| !h.is_empty()), "rdma"),
        (
            r.unified().as_ref().is_some_and(|h| !h.is_empty()),
            "unified",
        ),
    ];
    let asked: Vec<&'static str> = not_written
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| *name)
        .collect();
    match asked.is_empty() {
        true => Ok(()),
        false => Err(Unsupported::Resources(asked)),
    }
}

fn relative(cgroups_path: &Path) -> &Path {
    cgroups_path.strip_prefix("/").unwrap_or(cgroups_path)
}

/// A container's directory in each v1 hierarchy that has one of
/// [`CONTROLLERS`].
#[derive(Debug)]
pub struct Layout {
    dirs: Vec<(Vec<String>, PathBuf)>,
}

impl Layout {
    /// Makes the container's directories (`cgroups_path`, checked by
    /// [`check`]) in the v1 hierarchies of `mounts`, its cpuset one given
    /// cpus and memory nodes, so that a process can join them.
    pub fn create(mounts: &[Hierarchy], cgroups_path: &Path) -> Result<Layout, CgroupError> {
        let relative = relative(cgroups_path);
        let mut dirs = Vec::new();
        for h in mounts.iter().filter(|h| !h.controllers.is_empty()) {
            let dir = h.point.join(relative);
            std::fs::create_dir_all(&dir).map_err(|source| CgroupError::Io {
                what: "creating cgroup",
                path: dir.clone(),
                source,
            })?;
            if h.controllers.iter().any(|c| c == "cpuset") {
                inherit_cpuset(&h.point, relative)?;
            }
            dirs.push((h.controllers.clone(), dir));
        }
        Ok(Layout { dirs })
    }

    /// The directories, one per hierarchy.
    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.dirs.iter().map(|(_, d)| d.as_path())
    }

    /// The directories of the hierarchies that have any of `controllers`
    /// (`with`), or none of them.
    pub fn dirs_with<'a>(
        &'a self,
        controllers: &'a [&str],
        with: bool,
    ) -> impl Iterator<Item = &'a Path> {
        self.dirs
            .iter()
            .filter(move |(cs, _)| cs.iter().any(|c| controllers.contains(&c.as_str())) == with)
            .map(|(_, d)| d.as_path())
    }

    /// Gives every directory the name `name`, in the same parent: a v1
    /// cgroup can be renamed there, and its processes stay in it. Stops at
    /// the first failure; each directory is then under the name it has.
    pub fn rename(&mut self, name: &std::ffi::OsStr) -> Result<(), CgroupError> {
        for (_, dir) in &mut self.dirs {
            let to = dir.with_file_name(name);
            std::fs::rename(&*dir, &to).map_err(|source| CgroupError::Io {
                what: "renaming cgroup",
                path: dir.clone(),
                source,
            })?;
            *dir = to;
        }
        Ok(())
    }

    fn dir(&self, controller: &'static str) -> Result<&Path, CgroupError> {
        self.dirs
            .iter()
            .find(|(controllers, _)| controllers.iter().any(|c| c == controller))
            .map(|(_, d)| d.as_path())
            .ok_or(CgroupError::NotMounted(controller))
    }

    /// Writes the container's limits (resources [`check`] accepted). With
    /// no `linux.resources` at all nothing is written, as libcontainer
    /// does.
    pub fn apply(&self, resources: Option<&LinuxResources>) -> Result<(), CgroupError> {
        let Some(r) = resources else { return Ok(()) };
        self.devices(r)?;
        if let Some(m) = r.memory() {
            self.memory(m)?;
        }
        if let Some(c) = r.cpu() {
            self.cpu(c)?;
        }
        if let Some(p) = r.pids() {
            let limit = match p.limit() {
                n if n > 0 => n.to_string(),
                _ => "max".to_string(),
            };
            write(self.dir("pids")?, "pids.max", limit)?;
        }
        if let Some(b) = r.block_io() {
            self.block_io(b)?;
        }
        Ok(())
    }

    /// The memory limits: memory, memory plus swap, the reservation, the
    /// OOM killer on, the swappiness.
    fn memory(&self, m: &LinuxMemory) -> Result<(), CgroupError> {
        let dir = self.dir("memory")?;
        let limit = m.limit().filter(|l| *l != 0);
        // Memory plus swap; "unlimited" memory without a word on swap
        // means unlimited swap too.
        let swap = match (m.swap(), limit) {
            (Some(swap), _) => Some(swap),
            (None, Some(-1)) => Some(-1),
            (None, _) => None,
        }
        .filter(|s| *s != 0);
        // The kernel keeps memory+swap at or above memory: a swap
        // limit above the current memory limit goes first.
        let swap_first = match (limit, swap) {
            (Some(_), Some(swap)) => {
                swap == -1 || current_limit(dir)?.is_some_and(|current| current < swap)
            }
            _ => false,
        };
        if swap_first {
            write(dir, "memory.memsw.limit_in_bytes", swap.unwrap_or(-1))?;
        }
        if let Some(limit) = limit {
            write(dir, "memory.limit_in_bytes", limit)?;
        }
        if let Some(swap) = swap.filter(|_| !swap_first) {
            write(dir, "memory.memsw.limit_in_bytes", swap)?;
        }
        if let Some(reservation) = m.reservation().filter(|r| *r != 0) {
            write(dir, "memory.soft_limit_in_bytes", reservation)?;
        }
        // The OOM killer stays on (a new cgroup copies its parent's
        // setting).
        write(dir, "memory.oom_control", 0)?;
        if let Some(swappiness) = m.swappiness() {
            if swappiness > 100 {
                return Err(CgroupError::Swappiness(swappiness));
            }
            write(dir, "memory.swappiness", swappiness)?;
        }
        Ok(())
    }

    /// The cpuset, then the CFS shares, period and quota.
    fn cpu(&self, c: &LinuxCpu) -> Result<(), CgroupError> {
        if c.cpus().is_some() || c.mems().is_some() {
            let dir = self.dir("cpuset")?;
            if let Some(cpus) = c.cpus() {
                write(dir, "cpuset.cpus", cpus)?;
            }
            if let Some(mems) = c.mems() {
                write(dir, "cpuset.mems", mems)?;
            }
        }
        if c.shares().is_some() || c.period().is_some() || c.quota().is_some() {
            let dir = self.dir("cpu")?;
            // The period first: a quota is checked against it.
            if let Some(shares) = c.shares().filter(|s| *s != 0) {
                write(dir, "cpu.shares", shares)?;
            }
            if let Some(period) = c.period().filter(|p| *p != 0) {
                write(dir, "cpu.cfs_period_us", period)?;
            }
            if let Some(quota) = c.quota().filter(|q| *q != 0) {
                write(dir, "cpu.cfs_quota_us", quota)?;
            }
        }
        Ok(())
    }

    /// The block I/O weight and throttles.
    fn block_io(&self, b: &LinuxBlockIo) -> Result<(), CgroupError> {
        let dir = self.dir("blkio")?;
        if let Some(weight) = b.weight().filter(|w| *w != 0) {
            // Kernels with the BFQ scheduler only have its own file.
            let file = match dir.join("blkio.weight").exists() {
                true => "blkio.weight",
                false => "blkio.bfq.weight",
            };
            write(dir, file, weight)?;
        }
        let throttles = [
            (
                "blkio.throttle.read_bps_device",
                b.throttle_read_bps_device(),
            ),
            (
                "blkio.throttle.write_bps_device",
                b.throttle_write_bps_device(),
            ),
            (
                "blkio.throttle.read_iops_device",
                b.throttle_read_iops_device(),
            ),
            (
                "blkio.throttle.write_iops_device",
                b.throttle_write_iops_device(),
            ),
        ];
        for (file, devices) in throttles {
            for d in devices.iter().flatten() {
                let rule = format!("{}:{} {}", d.major(), d.minor(), d.rate());
                write(dir, file, rule)?;
            }
        }
        Ok(())
    }

    /// The spec's device rules in order, then the default nodes', then
    /// [`ALWAYS_ALLOWED`]: one rule per write, as the kernel reads them,
    /// through one open `devices.allow` and one `devices.deny`.
    fn devices(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        let mut files = DeviceFiles::new(self.dir("devices")?);
        for d in r.devices().iter().flatten() {
            files.write(d.allow(), &d.to_string())?;
        }
        for node in libcontainer::rootfs::utils::default_devices() {
            let d = LinuxDeviceCgroup::from(&node);
            files.write(d.allow(), &d.to_string())?;
        }
        for allowed in ALWAYS_ALLOWED {
            files.write(true, allowed)?;
        }
        Ok(())
    }
}

/// A devices cgroup's `devices.allow` and `devices.deny`, each opened the
/// first time a rule goes to it.
struct DeviceFiles<'a> {
    dir: &'a Path,
    allow: Option<std::fs::File>,
    deny: Option<std::fs::File>,
}

impl<'a> DeviceFiles<'a> {
    fn new(dir: &'a Path) -> DeviceFiles<'a> {
        DeviceFiles {
            dir,
            allow: None,
            deny: None,
        }
    }

    /// Writes `rule` to `devices.allow` (`allow`) or `devices.deny`.
    fn write(&mut self, allow: bool, rule: &str) -> Result<(), CgroupError> {
        use std::io::Write;
        let (name, slot) = match allow {
            true => ("devices.allow", &mut self.allow),
            false => ("devices.deny", &mut self.deny),
        };
        let path = || self.dir.join(name);
        let failed = |source| CgroupError::Write {
            path: path(),
            value: rule.to_string(),
            source,
        };
        let file = match slot {
            Some(file) => file,
            None => slot.insert(
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(path())
                    .map_err(failed)?,
            ),
        };
        file.write_all(rule.as_bytes()).map_err(failed)
    }
}

/// The memory limit in force in `dir`, if it reads as a number.
fn current_limit(dir: &Path) -> Result<Option<i64>, CgroupError> {
    Ok(read(&dir.join("memory.limit_in_bytes"))?
        .trim()
        .parse()
        .ok())
}

/// A cpuset cgroup without cpus or memory nodes takes no process: each
/// level of `relative` below `point` that has none gets its parent's.
fn inherit_cpuset(point: &Path, relative: &Path) -> Result<(), CgroupError> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let mut parent = point.to_path_buf();
        for part in relative.components() {
            let inherited = read(&parent.join(file))?;
            if inherited.trim().is_empty() {
                return Err(CgroupError::EmptyCpuset(parent.join(file)));
            }
            parent.push(part);
            if read(&parent.join(file))?.trim().is_empty() {
                write(&parent, file, inherited.trim())?;
            }
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, CgroupError> {
    std::fs::read_to_string(path).map_err(|source| CgroupError::Io {
        what: "reading",
        path: path.to_path_buf(),
        source,
    })
}

fn write(dir: &Path, file: &str, value: impl ToString) -> Result<(), CgroupError> {
    let path = dir.join(file);
    let value = value.to_string();
    std::fs::write(&path, &value).map_err(|source| CgroupError::Write {
        path,
        value,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resources(v: serde_json::Value) -> LinuxResources {
        serde_json::from_value(v).unwrap()
    }

    /// A fake v1 host: a hierarchy per controller set, each a plain
    /// directory tree whose files record the last write.
    fn host(root: &Path) -> Vec<Hierarchy> {
        let sets: &[&[&str]] = &[
            &["cpu", "cpuacct"],
            &["cpuset"],
            &["memory"],
            &["devices"],
            &["pids"],
            &["blkio"],
        ];
        let mounts: Vec<Hierarchy> = sets
            .iter()
            .map(|set| Hierarchy {
                point: root.join(set.join(",")),
                controllers: set.iter().map(|c| c.to_string()).collect(),
            })
            .collect();
        for h in &mounts {
            std::fs::create_dir_all(&h.point).unwrap();
        }
        std::fs::write(root.join("cpuset/cpuset.cpus"), "0-1\n").unwrap();
        std::fs::write(root.join("cpuset/cpuset.mems"), "0\n").unwrap();
        mounts
    }

    /// What the kernel would show on a new cgroup: empty cpuset files.
    fn new_cpuset_dirs(root: &Path, path: &str) {
        let mut dir = root.join("cpuset");
        for part in Path::new(path).components().skip(1) {
            dir.push(part);
            std::fs::create_dir_all(&dir).unwrap();
            for f in ["cpuset.cpus", "cpuset.mems"] {
                if !dir.join(f).exists() {
                    std::fs::write(dir.join(f), "\n").unwrap();
                }
            }
        }
    }

    #[test]
    fn only_plain_cgroup_paths_and_known_resources_are_taken() {
        let p = Path::new("/vessel/c1");
        assert!(check(None, p).is_ok());
        assert!(check(None, Path::new("/")).is_err());
        assert!(check(None, Path::new("/vessel/../etc")).is_err());
        let ok = resources(json!({
            "devices": [{"allow": false, "access": "rwm"}],
            "memory": {"limit": 8388608, "swap": 16777216},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
            "pids": {"limit": 10},
            "blockIO": {"weight": 100, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}]}
        }));
        assert!(check(Some(&ok), p).is_ok());
        let hugetlb = resources(json!({
            "hugepageLimits": [{"pageSize": "2MB", "limit": 1}],
            "cpu": {"realtimeRuntime": 1}
        }));
        let why = check(Some(&hugetlb), p).unwrap_err().to_string();
        assert_eq!(why, "linux.resources.cpu.realtimeRuntime, hugepageLimits");
    }

    #[test]
    fn a_layout_has_one_directory_per_hierarchy_and_a_usable_cpuset() {
        let root = tempfile::tempdir().unwrap();
        let mounts = host(root.path());
        new_cpuset_dirs(root.path(), "/vessel/c1");
        let layout = Layout::create(&mounts, Path::new("/vessel/c1")).unwrap();
        assert_eq!(layout.dirs().count(), mounts.len());
        for d in layout.dirs() {
            assert!(d.ends_with("vessel/c1") && d.is_dir(), "{}", d.display());
        }
        let cpuset = root.path().join("cpuset/vessel/c1");
        assert_eq!(
            std::fs::read_to_string(cpuset.join("cpuset.cpus")).unwrap(),
            "0-1"
        );
        assert_eq!(
            std::fs::read_to_string(cpuset.join("cpuset.mems")).unwrap(),
            "0"
        );
        assert_eq!(
            std::fs::read_to_string(root.path().join("cpuset/vessel/cpuset.cpus")).unwrap(),
            "0-1"
        );
    }

    #[test]
    fn limits_go_to_libcgroups_files() {
        let root = tempfile::tempdir().unwrap();
        let mounts = host(root.path());
        new_cpuset_dirs(root.path(), "/vessel/c2");
        let layout = Layout::create(&mounts, Path::new("/vessel/c2")).unwrap();
        // A new memory cgroup's limit: unlimited.
        let memory = root.path().join("memory/vessel/c2");
        std::fs::write(memory.join("memory.limit_in_bytes"), "9223372036854771712").unwrap();
        let r = resources(json!({
            "devices": [{"allow": false, "access": "rwm"}],
            "memory": {"limit": 8388608, "swap": 16777216, "reservation": 4194304},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000},
            "pids": {"limit": 0},
            "blockIO": {"throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 30}]}
        }));
        layout.apply(Some(&r)).unwrap();
        let read = |p: &str| std::fs::read_to_string(root.path().join(p)).unwrap();
        assert_eq!(read("memory/vessel/c2/memory.limit_in_bytes"), "8388608");
        assert_eq!(
            read("memory/vessel/c2/memory.memsw.limit_in_bytes"),
            "16777216"
        );
        assert_eq!(read("memory/vessel/c2/memory.oom_control"), "0");
        assert_eq!(
            read("memory/vessel/c2/memory.soft_limit_in_bytes"),
            "4194304"
        );
        assert_eq!(read("cpu,cpuacct/vessel/c2/cpu.shares"), "512");
        assert_eq!(read("cpu,cpuacct/vessel/c2/cpu.cfs_quota_us"), "50000");
        assert_eq!(read("cpu,cpuacct/vessel/c2/cpu.cfs_period_us"), "100000");
        assert_eq!(read("pids/vessel/c2/pids.max"), "max");
        assert_eq!(
            read("blkio/vessel/c2/blkio.throttle.write_iops_device"),
            "8:16 30"
        );
        // A plain file keeps every write of its one descriptor, in order:
        // the spec's deny, then the default nodes' rules, the
        // always-allowed ones last.
        assert_eq!(read("devices/vessel/c2/devices.deny"), "a *:* rwm");
        let allow = read("devices/vessel/c2/devices.allow");
        assert!(allow.starts_with("c 1:3 rwm"), "{allow}");
        assert!(allow.ends_with(&ALWAYS_ALLOWED.concat()), "{allow}");
    }

    #[test]
    fn bad_values_and_missing_controllers_are_named() {
        let root = tempfile::tempdir().unwrap();
        let mut mounts = host(root.path());
        mounts.retain(|h| h.controllers != ["pids"]);
        new_cpuset_dirs(root.path(), "/vessel/c3");
        let layout = Layout::create(&mounts, Path::new("/vessel/c3")).unwrap();
        let e = layout
            .apply(Some(&resources(json!({"pids": {"limit": 5}}))))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the pids cgroup controller is not mounted on this host"
        );
        let e = layout
            .apply(Some(&resources(json!({"memory": {"swappiness": 101}}))))
            .unwrap_err();
        assert!(e.to_string().contains("swappiness 101"), "{e}");
    }
}
