//! Removing everything a container made: its processes' cgroups, its
//! rootfs mount, its state directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use libcontainer::container::Container;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::Spec;
use vessel_runtime::bundle::{default_cgroups_path, written_cgroups_path};
use vessel_runtime::ContainerDir;

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
    if let Some(t) = teardown(container.as_mut(), cdir, &cgroups_path) {
        t.remove();
    }
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
pub fn needs_runtime_delete(spec: &Spec) -> bool {
    let poststop = spec
        .hooks()
        .as_ref()
        .and_then(|h| h.poststop().as_ref())
        .is_some_and(|hooks| !hooks.is_empty());
    poststop
        || spec
            .linux()
            .as_ref()
            .is_some_and(|l| l.intel_rdt().is_some())
}

/// Removes the container; every step is tried even if one fails. When
/// `container` is given, libcontainer's delete runs first (see
/// [`needs_runtime_delete`]); the cgroups are removed in any case, killing
/// whatever is still in them.
///
/// The state directory is not removed here: it is moved aside instead
/// (`.<id>.deleted`), out of every caller's sight, and the returned
/// [`Tombstone`] removes it once the caller has been answered. Unmounting
/// a layered rootfs (in the shim's mount namespace) waits for an RCU grace
/// period, and removing the directory's files takes a while too; nobody
/// needs to wait for either.
pub fn teardown(
    container: Option<&mut Container>,
    cdir: &ContainerDir,
    cgroups_path: &str,
) -> Option<Tombstone> {
    if let Some(container) = container {
        if let Err(e) = container.delete(true) {
            tracing::warn!(error = %e, "libcontainer could not delete the container");
        }
    }
    remove_cgroups(crate::cgroups::hierarchies(), cgroups_path);
    // A tombstone's age is its directory's: made now, so that no other
    // shim's sweep takes it for an old one while this one removes it.
    let touched =
        std::fs::File::open(cdir.path()).and_then(|d| d.set_modified(std::time::SystemTime::now()));
    match touched {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            tracing::warn!(dir = %cdir.path().display(), error = %e, "cannot date the container's state")
        }
        _ => {}
    }
    if let Some(grave) = tombstone_path(cdir.path()) {
        match std::fs::rename(cdir.path(), &grave) {
            Ok(()) => return Some(Tombstone(grave)),
            Err(e) => {
                tracing::warn!(dir = %cdir.path().display(), error = %e, "cannot move the container's state aside")
            }
        }
    }
    crate::rootfs::unmount(&cdir.rootfs());
    remove_state_dir(cdir.path());
    None
}

/// A deleted container's state directory, moved aside (`.<id>.deleted`
/// beside the others), its rootfs perhaps still mounted.
#[derive(Debug)]
#[must_use = "a tombstone is removed by calling remove"]
pub struct Tombstone(PathBuf);

impl Tombstone {
    /// Unmounts the rootfs and removes the directory.
    pub fn remove(self) {
        crate::rootfs::unmount(&self.0.join("rootfs"));
        remove_state_dir(&self.0);
    }
}

fn tombstone_path(dir: &Path) -> Option<PathBuf> {
    let name = dir.file_name()?.to_str()?;
    Some(dir.with_file_name(format!(".{name}.deleted")))
}

/// How old a tombstone must be before another shim removes it: its own
/// shim was killed between moving it aside and removing it.
const TOMBSTONE_AGE: Duration = Duration::from_secs(60);

/// Removes tombstones under `root` that their shims left behind.
pub fn sweep_tombstones(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.ends_with(".deleted")) {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > TOMBSTONE_AGE);
        if old {
            remove_state_dir(&e.path());
        }
    }
}

fn remove_state_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the container's state");
        }
    }
}

/// Removes the container's cgroup directory in every one of `hierarchies`
/// where it exists (a failed create can leave only some), killing the
/// processes still in it first.
pub fn remove_cgroups(hierarchies: &[PathBuf], cgroups_path: &str) {
    for dir in crate::cgroups::container_dirs(hierarchies, cgroups_path) {
        if let Err(e) = remove_cgroup(&dir) {
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
        let hierarchies: Vec<PathBuf> = ["memory", "pids", "unified", "cpu"]
            .iter()
            .map(|h| root.path().join(h))
            .collect();
        remove_cgroups(&hierarchies, "/vessel/c1");
        for ctrl in ["memory", "pids", "unified"] {
            assert!(!root.path().join(ctrl).join("vessel/c1").exists(), "{ctrl}");
            assert!(
                root.path().join(ctrl).join("vessel").exists(),
                "{ctrl}: the parent stays"
            );
        }
    }
}
