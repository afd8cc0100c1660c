//! Removing everything a container made: its processes' cgroups, its
//! rootfs mount, its state directory.

use std::path::Path;
use std::time::Duration;

use libcontainer::container::Container;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use vessel_runtime::bundle::{default_cgroups_path, written_cgroups_path};
use vessel_runtime::ContainerDir;

/// The cgroup hierarchies on this host (v1 controllers, the v2 tree).
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// How long a cgroup may stay busy with exiting processes before its
/// removal is given up (and reported).
const CGROUP_BUSY_LIMIT: Duration = Duration::from_secs(2);

/// Removes what is left of container `id` when there is no live shim state
/// to go by (a failed create, a shim that died): kills its processes, then
/// tears it down, using the cgroup its runtime bundle recorded.
pub fn remove_leftovers(cdir: &ContainerDir, id: &str) {
    let cgroups_path = written_cgroups_path(cdir).unwrap_or_else(|| default_cgroups_path(id));
    let mut container = Container::load(cdir.libcontainer_root().join(id)).ok();
    if let Some(c) = container.as_mut() {
        let _ = c.kill(Signal::SIGKILL, true);
    }
    reap_children();
    teardown(container.as_mut(), cdir, &cgroups_path);
}

/// Reaps whatever is left of our children.
fn reap_children() {
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// Whether removing this container needs libcontainer's own delete: it
/// runs the spec's poststop hooks and cleans up Intel RDT groups. Without
/// either, Vessel removes the cgroups itself, since it knows their paths
/// (libcontainer's delete rediscovers every hierarchy's mount point first,
/// about 3 ms of a 17 ms `run`).
pub fn needs_runtime_delete(spec: &serde_json::Value) -> bool {
    let poststop = spec
        .pointer("/hooks/poststop")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|hooks| !hooks.is_empty());
    poststop || spec.pointer("/linux/intelRdt").is_some()
}

/// Removes the container; every step is tried even if one fails. When
/// `container` is given, libcontainer's delete runs first (see
/// [`needs_runtime_delete`]); the cgroups are removed in any case, killing
/// whatever is still in them.
pub fn teardown(container: Option<&mut Container>, cdir: &ContainerDir, cgroups_path: &str) {
    if let Some(container) = container {
        if let Err(e) = container.delete(true) {
            tracing::warn!(error = %e, "libcontainer could not delete the container");
        }
    }
    remove_cgroups(Path::new(CGROUP_ROOT), cgroups_path);
    crate::rootfs::unmount(&cdir.rootfs());
    if let Err(e) = std::fs::remove_dir_all(cdir.path()) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %cdir.path().display(), error = %e, "cannot remove the container's state");
        }
    }
}

/// Removes the container's cgroup directory in every hierarchy under
/// `root` where it exists (a failed create can leave only some), killing
/// the processes still in it first.
pub fn remove_cgroups(root: &Path, cgroups_path: &str) {
    let rel = cgroups_path.trim_start_matches('/');
    if rel.is_empty() {
        return;
    }
    let mut dirs = vec![root.join(rel)];
    if let Ok(entries) = std::fs::read_dir(root) {
        dirs.extend(entries.flatten().map(|e| e.path().join(rel)));
    }
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        if let Err(e) = remove_cgroup(dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove a cgroup");
        }
    }
}

/// Kills what is left in one cgroup and removes it; a cgroup stays busy
/// until its last process has exited (zombies no longer count), so `rmdir`
/// is retried for a while.
fn remove_cgroup(dir: &Path) -> std::io::Result<()> {
    let mut delay = Duration::from_millis(1);
    let mut waited = Duration::ZERO;
    loop {
        if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            for pid in procs.lines().filter_map(|l| l.trim().parse().ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && waited < CGROUP_BUSY_LIMIT => {
                std::thread::sleep(delay);
                waited += delay;
                delay = (delay * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_cgroup_directories_are_removed_in_every_hierarchy() {
        let root = tempfile::tempdir().unwrap();
        for ctrl in ["memory", "pids", "unified"] {
            std::fs::create_dir_all(root.path().join(ctrl).join("vessel/c1")).unwrap();
        }
        std::fs::create_dir_all(root.path().join("cpu")).unwrap();
        remove_cgroups(root.path(), "/vessel/c1");
        for ctrl in ["memory", "pids", "unified"] {
            assert!(!root.path().join(ctrl).join("vessel/c1").exists(), "{ctrl}");
            assert!(
                root.path().join(ctrl).join("vessel").exists(),
                "{ctrl}: the parent stays"
            );
        }
    }
}
