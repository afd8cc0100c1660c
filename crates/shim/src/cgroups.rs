//! Where a container's cgroups are: its `cgroupsPath` in every cgroup
//! hierarchy (v1 controllers, the v2 tree) mounted on this host.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The mount points of the host's cgroup hierarchies, read once: they do
/// not move while a shim runs.
pub fn hierarchies() -> &'static [PathBuf] {
    static MOUNTS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    MOUNTS.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        parse_mounts(&info)
    })
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

/// The mount points of cgroup and cgroup2 filesystems in a mountinfo.
fn parse_mounts(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (mount, fs) = line.split_once(" - ")?;
            let fstype = fs.split(' ').next()?;
            let point = mount.split(' ').nth(4)?;
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(point))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_mounts_are_read_from_mountinfo() {
        let info = "\
22 1 0:21 / /sys rw - sysfs sysfs rw
30 22 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory";
        assert_eq!(
            parse_mounts(info),
            [
                "/sys/fs/cgroup/unified",
                "/sys/fs/cgroup/cpu,cpuacct",
                "/sys/fs/cgroup/memory"
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn an_empty_cgroups_path_names_no_directory() {
        let root = tempfile::tempdir().unwrap();
        assert!(container_dirs(&[root.path().to_path_buf()], "/").is_empty());
    }
}
