//! The container's /dev after its mounts: the links to its process's
//! descriptors, its device nodes, /dev/ptmx, and the standard descriptors
//! moved to its own /dev/null.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use libcontainer::rootfs::utils::to_sflag;
use oci_spec::runtime::LinuxDevice;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::one::mkdir_all;

/// The links libcontainer makes under the container's /dev: its process's
/// descriptors, and the kernel's memory image when the host has one.
pub(super) fn links(root: BorrowedFd<'_>) -> Result<(), String> {
    let dev = mkdir_all(root, Path::new("/dev")).map_err(|e| format!("/dev: {e}"))?;
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.insert(0, ("/proc/kcore", "kcore"));
    }
    for (target, name) in links {
        rustix::fs::symlinkat(target, &dev, name)
            .map_err(|e| format!("linking /dev/{name} to {target}: {e}"))?;
    }
    Ok(())
}

/// Makes the device nodes `devices` in the rootfs, each with the mode,
/// owner and group the spec gives, as libcontainer does (but found inside
/// the rootfs by the kernel, like the mounts).
pub(super) fn make_devices<'a>(
    root: BorrowedFd<'_>,
    mut devices: impl Iterator<Item = &'a LinuxDevice>,
) -> Result<(), String> {
    // The spec's modes as they are, not under this process's umask.
    let umask = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let made = devices.try_for_each(|dev| {
        make_device(root, dev).map_err(|e| format!("{}: {e}", dev.path().display()))
    });
    nix::sys::stat::umask(umask);
    made.map_err(|e| format!("linux.devices: {e}"))
}

fn make_device(root: BorrowedFd<'_>, dev: &LinuxDevice) -> Result<(), String> {
    let path = dev.path();
    if !path.starts_with("/dev") {
        return Err("not under /dev".into());
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err("not a device path".into());
    };
    let parent = mkdir_all(root, parent).map_err(|e| e.to_string())?;
    let node = nix::sys::stat::makedev(dev.major() as u64, dev.minor() as u64);
    nix::sys::stat::mknodat(
        Some(parent.as_raw_fd()),
        name,
        to_sflag(dev.typ()),
        nix::sys::stat::Mode::from_bits_truncate(dev.file_mode().unwrap_or(0o666)),
        node,
    )
    .map_err(|e| format!("mknod: {e}"))?;
    nix::unistd::fchownat(
        Some(parent.as_raw_fd()),
        name,
        dev.uid().map(nix::unistd::Uid::from_raw),
        dev.gid().map(nix::unistd::Gid::from_raw),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| format!("chown: {e}"))
}

/// /dev/ptmx as a link to the container's own devpts instance.
pub(super) fn ptmx_link(root: BorrowedFd<'_>) -> Result<(), String> {
    let dev = mkdir_all(root, Path::new("/dev")).map_err(|e| format!("/dev: {e}"))?;
    match rustix::fs::unlinkat(&dev, "ptmx", AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(format!("removing /dev/ptmx: {e}")),
    }
    rustix::fs::symlinkat("pts/ptmx", &dev, "ptmx").map_err(|e| format!("linking /dev/ptmx: {e}"))
}

/// Checks that `stat` is /dev/null's (character device 1:3).
pub(super) fn is_dev_null(stat: &rustix::fs::Stat) -> bool {
    FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(stat.st_rdev) == 1
        && rustix::fs::minor(stat.st_rdev) == 3
}

/// Points any of the standard descriptors that are the host's /dev/null at
/// the container's own.
pub(super) fn reopen_dev_null() -> Result<(), String> {
    let null = rustix::fs::open("/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| format!("opening the container's /dev/null: {e}"))?;
    let own = rustix::fs::fstat(&null).map_err(|e| e.to_string())?;
    if !is_dev_null(&own) {
        return Err("the container's /dev/null is not the null device".into());
    }
    for fd in 0..3 {
        let stat = nix::sys::stat::fstat(fd).map_err(|e| format!("descriptor {fd}: {e}"))?;
        let is_null = stat.st_mode & libc::S_IFMT == libc::S_IFCHR && stat.st_rdev == own.st_rdev;
        if is_null {
            nix::unistd::dup2(null.as_raw_fd(), fd).map_err(|e| format!("descriptor {fd}: {e}"))?;
        }
    }
    Ok(())
}
