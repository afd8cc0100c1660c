//! A `cgroup` mount on a cgroups v1 host, as runc makes it: a tmpfs at the
//! destination and, in it, the container's own directory of each v1
//! controller hierarchy under the hierarchy's name, with the mount's
//! flags (`ro`: read-only). The tmpfs itself keeps them but `ro`, as
//! runc's does; controllers mounted together get a link by each name.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use libcontainer::rootfs::utils::MountOptionConfig;
use libcontainer::syscall::Syscall;
use nix::mount::MsFlags;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::one::{attach, mkdir_all, new_mount, open_in_root, SpecMountError};
use crate::cgroups::CgroupView;

pub(super) fn mount_v1(
    syscall: &dyn Syscall,
    root: BorrowedFd<'_>,
    dest: &Path,
    options: &MountOptionConfig,
    views: &[CgroupView],
) -> Result<(), SpecMountError> {
    let target = mkdir_all(root, dest).map_err(SpecMountError::MountPoint)?;
    let mut tmpfs = options.clone();
    tmpfs.flags.remove(MsFlags::MS_RDONLY);
    tmpfs.data.clear();
    let fs = new_mount(syscall, "tmpfs", "tmpfs", &["mode=755".to_string()])?;
    attach(syscall, fs.as_fd(), target.as_fd(), &tmpfs)?;
    // The destination again: the tmpfs now.
    let top = open_in_root(root, dest, OFlags::PATH | OFlags::DIRECTORY)
        .map_err(SpecMountError::Lookup)?;
    for view in views {
        let point = subdir(top.as_fd(), &view.name).map_err(SpecMountError::MountPoint)?;
        let source = view.dir.to_str().ok_or(SpecMountError::NotUtf8)?;
        let tree = syscall
            .open_tree(
                libc::AT_FDCWD,
                Some(source),
                libc::OPEN_TREE_CLOEXEC | libc::OPEN_TREE_CLONE,
            )
            .map_err(|e| SpecMountError::Clone(source.to_string(), e))?;
        attach(syscall, tree.as_fd(), point.as_fd(), options)?;
        for link in &view.links {
            rustix::fs::symlinkat(view.name.as_str(), &top, link.as_str())
                .map_err(SpecMountError::MountPoint)?;
        }
    }
    Ok(())
}

/// The directory `name` in the tmpfs `top`, made if it is not there. The
/// tmpfs is new and this process's alone: nothing in it but what is made
/// here, so no lookup in it can be led elsewhere.
fn subdir(top: BorrowedFd<'_>, name: &str) -> Result<OwnedFd, Errno> {
    match rustix::fs::mkdirat(top, name, Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat(top, name, flags, Mode::empty())
}
