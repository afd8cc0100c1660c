//! The container's /dev after its mounts: the links to its process's
//! descriptors, its device nodes, /dev/ptmx, and the standard descriptors
//! moved to its own /dev/null.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use libcontainer::rootfs::utils::to_sflag;
use oci_spec::runtime::LinuxDevice;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::one::mkdir_all;
use super::MountError;

/// Why one of the spec's device nodes could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("not under /dev")]
    NotUnderDev,
    #[error("not a device path")]
    NotADevicePath,
    #[error(transparent)]
    Parent(Errno),
    #[error("mknod")]
    Mknod(#[source] nix::Error),
    #[error("chown")]
    Chown(#[source] nix::Error),
}

/// The links libcontainer makes in the container's /dev, open as `dev`: its
/// process's descriptors, and the kernel's memory image when the host has
/// one.
pub(super) fn links(dev: BorrowedFd<'_>) -> Result<(), MountError> {
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
        rustix::fs::symlinkat(target, dev, name).map_err(|source| MountError::DevLink {
            name,
            target,
            source,
        })?;
    }
    Ok(())
}

/// Makes the device nodes `devices` in the rootfs open as `root` (its
/// /dev open as `dev_dir`), each with the mode, owner and group the spec
/// gives, as libcontainer does (but found inside the rootfs by the
/// kernel, like the mounts).
pub(super) fn make_devices<'a>(
    root: BorrowedFd<'_>,
    dev_dir: BorrowedFd<'_>,
    mut devices: impl Iterator<Item = &'a LinuxDevice>,
) -> Result<(), MountError> {
    // The spec's modes as they are, not under this process's umask.
    let umask = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let made = devices.try_for_each(|dev| {
        make_device(root, dev_dir, dev).map_err(|e| MountError::Device(dev.path().clone(), e))
    });
    nix::sys::stat::umask(umask);
    made
}

fn make_device(
    root: BorrowedFd<'_>,
    dev_dir: BorrowedFd<'_>,
    dev: &LinuxDevice,
) -> Result<(), DeviceError> {
    let path = dev.path();
    if !path.starts_with("/dev") {
        return Err(DeviceError::NotUnderDev);
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(DeviceError::NotADevicePath);
    };
    // Most nodes are right in /dev, already open.
    let below = match parent == Path::new("/dev") {
        true => None,
        false => Some(mkdir_all(root, parent).map_err(DeviceError::Parent)?),
    };
    let parent = below.as_ref().map_or(dev_dir, AsFd::as_fd);
    let node = nix::sys::stat::makedev(dev.major() as u64, dev.minor() as u64);
    nix::sys::stat::mknodat(
        Some(parent.as_raw_fd()),
        name,
        to_sflag(dev.typ()),
        nix::sys::stat::Mode::from_bits_truncate(dev.file_mode().unwrap_or(0o666)),
        node,
    )
    .map_err(DeviceError::Mknod)?;
    nix::unistd::fchownat(
        Some(parent.as_raw_fd()),
        name,
        dev.uid().map(nix::unistd::Uid::from_raw),
        dev.gid().map(nix::unistd::Gid::from_raw),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(DeviceError::Chown)
}

/// /dev/ptmx, in /dev open as `dev`, as a link to the container's own
/// devpts instance.
pub(super) fn ptmx_link(dev: BorrowedFd<'_>) -> Result<(), MountError> {
    match rustix::fs::unlinkat(dev, "ptmx", AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(MountError::RemovePtmx(e)),
    }
    rustix::fs::symlinkat("pts/ptmx", dev, "ptmx").map_err(MountError::LinkPtmx)
}

/// Opens the container's /dev/null (after `pivot_root`) and checks that it
/// is the null device (character device 1:3); points any of the standard
/// descriptors that are the host's /dev/null at it. The masked files go
/// under it next.
pub(super) fn own_null() -> Result<OwnedFd, MountError> {
    let null = rustix::fs::open("/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
        .map_err(MountError::OpenNull)?;
    let own = rustix::fs::fstat(&null).map_err(MountError::StatNull)?;
    let is_null = FileType::from_raw_mode(own.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(own.st_rdev) == 1
        && rustix::fs::minor(own.st_rdev) == 3;
    if !is_null {
        return Err(MountError::NotNull);
    }
    for fd in 0..3 {
        let stat = nix::sys::stat::fstat(fd).map_err(|e| MountError::Descriptor(fd, e))?;
        let is_null = stat.st_mode & libc::S_IFMT == libc::S_IFCHR && stat.st_rdev == own.st_rdev;
        if is_null {
            nix::unistd::dup2(null.as_raw_fd(), fd).map_err(|e| MountError::Descriptor(fd, e))?;
        }
    }
    Ok(null)
}
