//! The layered root filesystem: the image's layers read-only under the
//! container's own writable layer, merged by overlayfs.
//!
//! The overlay is mounted in the shim's own mount namespace (a copy of the
//! host's, receiving its later mounts but sending none back): the host's
//! mount table never lists it, and it cannot outlive the shim and its
//! container.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use vessel_runtime::ContainerDir;

/// Moves this (single-threaded) process into a mount namespace of its own
/// whose mounts do not propagate to the host.
pub fn private_mount_namespace() -> std::io::Result<()> {
    unshare(CloneFlags::CLONE_NEWNS)?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )?;
    Ok(())
}

/// Mounts `layers` (upper-most first) under the writable layer kept in
/// `writable` (or a fresh one in the container's directory) at the
/// container's rootfs mount point.
pub fn mount_overlay(
    cdir: &ContainerDir,
    layers: &[PathBuf],
    writable: Option<&Path>,
) -> std::io::Result<()> {
    let (upper, work) = match writable {
        Some(w) => (w.join("upper"), w.join("work")),
        None => (cdir.upper(), cdir.work()),
    };
    for dir in [&cdir.rootfs(), &upper, &work] {
        std::fs::create_dir_all(dir)?;
    }
    let lower = layers
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let data = format!(
        "lowerdir={lower},upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    mount(
        Some("overlay"),
        &cdir.rootfs(),
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .map_err(std::io::Error::from)
}

/// Unmounts the rootfs if it is mounted (lazily: a process may still hold
/// it while the pid namespace dies).
pub fn unmount(rootfs: &Path) {
    // A path that is not there is no mount point (and the mount table is
    // not read for it).
    if rootfs.exists() && is_mount_point(rootfs) {
        if let Err(e) = umount2(rootfs, MntFlags::MNT_DETACH) {
            tracing::warn!(rootfs = %rootfs.display(), error = %e, "cannot unmount the rootfs");
        }
    }
}

/// Whether `path` is listed as a mount point in this mount namespace.
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.display().to_string();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|mp| mp == want)
}
