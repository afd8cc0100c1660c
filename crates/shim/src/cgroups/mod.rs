//! Where a container's cgroups are: its `cgroupsPath` in every cgroup
//! hierarchy (v1 controllers, the v2 tree) mounted on this host.

pub mod ready;
pub mod v1;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub point: PathBuf,
    /// The v1 controllers attached to it (from its mount options); empty
    /// for cgroup2 and for a named v1 hierarchy without controllers.
    pub controllers: Vec<String>,
}

/// The host's cgroup hierarchies, read from the mount table once: they do
/// not move while a shim runs.
pub fn mounts() -> &'static [Hierarchy] {
    static MOUNTS: OnceLock<Vec<Hierarchy>> = OnceLock::new();
    MOUNTS.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        parse_mounts(&info)
    })
}

/// The mount points of the host's cgroup hierarchies.
pub fn hierarchies() -> &'static [PathBuf] {
    static POINTS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    POINTS.get_or_init(|| mounts().iter().map(|h| h.point.clone()).collect())
}

/// How many times the kernel's OOM killer killed a process in the
/// container's cgroup: `oom_kill` of the v1 memory controller's
/// `memory.oom_control`, or of cgroup2's `memory.events`. 0 when neither
/// can be read.
pub fn oom_kills(cgroups_path: &str) -> u64 {
    let relative = cgroups_path.trim_start_matches('/');
    if relative.is_empty() {
        return 0;
    }
    mounts()
        .iter()
        .filter(|h| h.controllers.is_empty() || h.controllers.iter().any(|c| c == "memory"))
        .flat_map(|h| {
            ["memory.oom_control", "memory.events"].map(|f| h.point.join(relative).join(f))
        })
        .find_map(|f| std::fs::read_to_string(f).ok())
        .map_or(0, |text| oom_kill_count(&text))
}

/// The `oom_kill` line of a memory controller's file.
fn oom_kill_count(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// A v1 controller hierarchy as a container's `cgroup` mount shows it:
/// the container's own directory in it, under the hierarchy's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupView {
    /// The hierarchy's mount point's name (`cpu`, or `cpu,cpuacct` for
    /// controllers mounted together).
    pub name: String,
    /// The container's directory in it, on the host.
    pub dir: PathBuf,
    /// Its controllers' own names, where they differ from `name`: links
    /// to it, as runc makes them.
    pub links: Vec<String>,
}

/// The container's views of the host's v1 controller hierarchies, the
/// ones it has a directory of its own in (made by the time its first
/// process mounts them). Named hierarchies without controllers and
/// cgroup2 are not among them.
pub fn v1_views(cgroups_path: &Path) -> Vec<CgroupView> {
    let relative = cgroups_path.to_string_lossy();
    let relative = relative.trim_start_matches('/');
    mounts()
        .iter()
        .filter(|h| !h.controllers.is_empty() && !relative.is_empty())
        .filter_map(|h| {
            let name = h.point.file_name()?.to_str()?.to_string();
            let links = h
                .controllers
                .iter()
                .filter(|c| **c != name)
                .cloned()
                .collect();
            Some(CgroupView {
                dir: h.point.join(relative),
                name,
                links,
            })
        })
        .collect()
}

/// The container's cgroup directory in each of `hierarchies` where it
/// exists (libcontainer makes one in each v1 controller it knows, or one
/// under cgroup2; a failed create may have made only some). None for an
/// empty `cgroups_path`: that would be the hierarchies' roots.
pub fn container_dirs(hierarchies: &[PathBuf], cgroups_path: &str) -> Vec<PathBuf> {
    let relative = cgroups_path.trim_start_matches('/');
    if relative.is_empty() {
        return Vec::new();
    }
    hierarchies
        .iter()
        .map(|h| h.join(relative))
        .filter(|d| Path::is_dir(d))
        .collect()
}

/// A container's cgroups, opened by the shim for a child it forks: the
/// child moves itself in by writing 0 (itself) into each `cgroup.procs`.
///
/// A process moving itself costs the kernel less than being moved by pid
/// (measured on cgroup v1: about 35 against 65 µs a hierarchy), and the
/// shim, once it has forked, only waits: on a host that keeps a parent and
/// its new child on one CPU, the child runs at once instead of after the
/// shim's writes.
#[derive(Debug)]
pub(crate) struct CgroupEntry(Vec<(PathBuf, std::fs::File)>);

/// A process could not move itself into a cgroup.
#[derive(Debug, thiserror::Error)]
#[error("joining the cgroup {}", procs.display())]
pub struct JoinCgroupError {
    procs: PathBuf,
    #[source]
    source: std::io::Error,
}

impl CgroupEntry {
    /// Opens the `cgroup.procs` of each of `dirs` for writing.
    pub(crate) fn open(dirs: &[PathBuf]) -> std::io::Result<CgroupEntry> {
        dirs.iter()
            .map(|dir| {
                let procs = dir.join("cgroup.procs");
                let file = std::fs::OpenOptions::new().write(true).open(&procs)?;
                Ok((procs, file))
            })
            .collect::<std::io::Result<_>>()
            .map(CgroupEntry)
    }

    /// Moves this (single-threaded) process into every cgroup.
    pub(crate) fn join(&self) -> Result<(), JoinCgroupError> {
        use std::io::Write;
        for (procs, file) in &self.0 {
            (&*file).write_all(b"0").map_err(|source| JoinCgroupError {
                procs: procs.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// The cgroup and cgroup2 filesystems in a mountinfo. A v1 hierarchy
/// mounted again (the same controllers) counts once, where it was first
/// mounted, as libcgroups takes it.
fn parse_mounts(mountinfo: &str) -> Vec<Hierarchy> {
    let mut found: Vec<Hierarchy> = Vec::new();
    let mounts = mountinfo.lines().filter_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        let mut fs = fs.split(' ');
        let fstype = fs.next()?;
        let options = fs.nth(1).unwrap_or_default();
        let point = mount.split(' ').nth(4)?;
        let controllers = match fstype {
            "cgroup" => options
                .split(',')
                .filter(|o| v1::CONTROLLERS.contains(o))
                .map(String::from)
                .collect(),
            "cgroup2" => Vec::new(),
            _ => return None,
        };
        Some(Hierarchy {
            point: PathBuf::from(point),
            controllers,
        })
    });
    for h in mounts {
        let again =
            !h.controllers.is_empty() && found.iter().any(|f| f.controllers == h.controllers);
        if !again {
            found.push(h);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_kills_are_read_from_either_version() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        let v2 = "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(oom_kill_count(v1), 2);
        assert_eq!(oom_kill_count(v2), 1);
        assert_eq!(oom_kill_count("oom_kill_disable 0\n"), 0);
    }

    #[test]
    fn cgroup_mounts_are_read_from_mountinfo() {
        let info = "\
22 1 0:21 / /sys rw - sysfs sysfs rw
30 22 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
35 22 0:30 /sub /mnt/memory rw - cgroup cgroup rw,memory";
        let found = parse_mounts(info);
        let points: Vec<_> = found.iter().map(|h| h.point.to_str().unwrap()).collect();
        assert_eq!(
            points,
            [
                "/sys/fs/cgroup/unified",
                "/sys/fs/cgroup/systemd",
                "/sys/fs/cgroup/cpu,cpuacct",
                "/sys/fs/cgroup/memory"
            ]
        );
        let controllers: Vec<_> = found.iter().map(|h| h.controllers.join(",")).collect();
        assert_eq!(controllers, ["", "", "cpu,cpuacct", "memory"]);
    }

    #[test]
    fn an_empty_cgroups_path_names_no_directory() {
        let root = tempfile::tempdir().unwrap();
        assert!(container_dirs(&[root.path().to_path_buf()], "/").is_empty());
    }
}
