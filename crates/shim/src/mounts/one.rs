//! One of the spec's mounts, made as libcontainer makes it (a new
//! filesystem or a cloned tree, its attributes set, attached by
//! `move_mount`) at a mount point found inside the rootfs by the kernel.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use libcontainer::rootfs::utils::{is_bind, parse_mount, MountOptionConfig};
use libcontainer::syscall::linux::{self, MountAttr};
use libcontainer::syscall::{Syscall, SyscallError};
use nix::mount::MsFlags;
use oci_spec::runtime::Mount;
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;
use vessel_runtime::in_root;

use crate::cgroups::CgroupView;
use crate::error::BoxError;

/// Why one of the spec's mounts could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SpecMountError {
    #[error(transparent)]
    Options(BoxError),
    #[error(transparent)]
    Lookup(Errno),
    #[error("{0} can only be mounted on a directory")]
    NotADirectory(String),
    #[error(transparent)]
    Proc(BoxError),
    #[error("no source")]
    NoSource,
    #[error("source {}", .0.display())]
    Source(PathBuf, #[source] std::io::Error),
    #[error("making the mount point")]
    MountPoint(#[source] Errno),
    #[error("a source that is not UTF-8")]
    NotUtf8,
    #[error("cloning {0}")]
    Clone(String, #[source] SyscallError),
    #[error(transparent)]
    Failed(#[from] MountFailed),
    #[error("no type")]
    NoType,
}

/// Mounts `m` in the rootfs open as `root` (at `rootfs`), as libcontainer
/// does; a `cgroup` mount shows the container's `cgroups`
/// ([`super::cgroup`]).
pub(super) fn mount(
    syscall: &dyn Syscall,
    root: BorrowedFd<'_>,
    rootfs: &Path,
    m: &Mount,
    cgroups: &[CgroupView],
) -> Result<(), SpecMountError> {
    let mut options = parse_mount(m).map_err(|e| SpecMountError::Options(e.into()))?;
    let dest = m.destination();
    let typ = m.typ().as_deref();
    match typ {
        Some("cgroup") => return super::cgroup::mount_v1(syscall, root, dest, &options, cgroups),
        Some(typ @ ("proc" | "sysfs")) => {
            // Only over an ordinary directory (a symlink there is not
            // followed), and never over a part of /proc.
            match open_in_root(root, dest, OFlags::PATH | OFlags::NOFOLLOW) {
                Ok(found) => {
                    let stat = rustix::fs::fstat(&found).map_err(SpecMountError::Lookup)?;
                    if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
                        return Err(SpecMountError::NotADirectory(typ.to_string()));
                    }
                }
                Err(Errno::NOENT) => {}
                Err(e) => return Err(SpecMountError::Lookup(e)),
            }
            libcontainer::rootfs::Mount::new()
                .check_proc_mount(rootfs, m)
                .map_err(|e| SpecMountError::Proc(e.into()))?;
        }
        // /dev stays writable: its devices and links are made next.
        _ if dest == Path::new("/dev") => options.flags.remove(MsFlags::MS_RDONLY),
        _ => {}
    }
    let source = m.source().as_ref().ok_or(SpecMountError::NoSource)?;
    if is_bind(m) {
        let source =
            std::fs::canonicalize(source).map_err(|e| SpecMountError::Source(source.clone(), e))?;
        let target = match source.is_dir() {
            true => mkdir_all(root, dest),
            false => file_in_root(root, dest),
        }
        .map_err(SpecMountError::MountPoint)?;
        let source = source.to_str().ok_or(SpecMountError::NotUtf8)?;
        let mut flags = libc::OPEN_TREE_CLOEXEC | libc::OPEN_TREE_CLONE;
        if m.options().iter().flatten().any(|o| o == "rbind") {
            flags |= libc::AT_RECURSIVE as u32;
        }
        let tree = syscall
            .open_tree(libc::AT_FDCWD, Some(source), flags)
            .map_err(|e| SpecMountError::Clone(source.to_string(), e))?;
        set_propagation(syscall, tree.as_fd(), m)?;
        Ok(attach(syscall, tree.as_fd(), target.as_fd(), &options)?)
    } else {
        let target = mkdir_all(root, dest).map_err(SpecMountError::MountPoint)?;
        let source = source.to_str().ok_or(SpecMountError::NotUtf8)?;
        let typ = typ.ok_or(SpecMountError::NoType)?;
        // As libcontainer does: once more after EINVAL, and up to twice
        // more after EBUSY, a while apart.
        let (mut invalid, mut busy) = (0, 0);
        loop {
            let made = new_mount(syscall, typ, source, &options.data)
                .and_then(|fs| attach(syscall, fs.as_fd(), target.as_fd(), &options));
            match made {
                Ok(()) => return Ok(()),
                Err(e) if e.errno == Errno::INVAL && invalid == 0 => invalid += 1,
                Err(e) if e.errno == Errno::BUSY && busy < 2 => {
                    busy += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A step of a mount that failed.
#[derive(Debug, thiserror::Error)]
#[error("{step}")]
pub struct MountFailed {
    step: &'static str,
    #[source]
    errno: Errno,
}

fn failed(step: &'static str) -> impl FnOnce(SyscallError) -> MountFailed {
    move |e| {
        let errno = match e {
            SyscallError::Nix(e) => Errno::from_raw_os_error(e as i32),
            SyscallError::IO(e) => Errno::from_io_error(&e).unwrap_or(Errno::IO),
            _ => Errno::IO,
        };
        MountFailed { step, errno }
    }
}

/// A new, still detached filesystem of type `typ` with the mount's data
/// options.
pub(super) fn new_mount(
    syscall: &dyn Syscall,
    typ: &str,
    source: &str,
    data: &[String],
) -> Result<OwnedFd, MountFailed> {
    let set_string = linux::FSCONFIG_SET_STRING as u32;
    let fs = syscall.fsopen(Some(typ), 0).map_err(failed("fsopen"))?;
    syscall
        .fsconfig(fs.as_fd(), set_string, Some("source"), Some(source), 0)
        .map_err(failed("fsconfig source"))?;
    for option in data.iter().filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some((key, value)) => {
                syscall.fsconfig(fs.as_fd(), set_string, Some(key), Some(value), 0)
            }
            None => syscall.fsconfig(
                fs.as_fd(),
                linux::FSCONFIG_SET_FLAG as u32,
                Some(option),
                None,
                0,
            ),
        }
        .map_err(failed("fsconfig"))?;
    }
    syscall
        .fsconfig(fs.as_fd(), linux::FSCONFIG_CMD_CREATE as u32, None, None, 0)
        .map_err(failed("fsconfig create"))?;
    syscall
        .fsmount(fs.as_fd(), libc::FSMOUNT_CLOEXEC, None)
        .map_err(failed("fsmount"))
}

/// Gives a cloned tree the propagation the mount's options ask for
/// (`rprivate`, `rslave`, `shared`, ...): a clone of a shared mount is
/// otherwise in its source's peer group.
fn set_propagation(
    syscall: &dyn Syscall,
    mnt: BorrowedFd<'_>,
    m: &Mount,
) -> Result<(), MountFailed> {
    let Some(option) = m.options().iter().flatten().find_map(|o| propagation(o)) else {
        return Ok(());
    };
    let (flag, recursive) = option;
    let attr = MountAttr {
        attr_set: 0,
        attr_clr: 0,
        propagation: flag.bits(),
        userns_fd: 0,
    };
    let mut at = linux::AT_EMPTY_PATH;
    if recursive {
        at |= linux::AT_RECURSIVE;
    }
    let size = std::mem::size_of::<MountAttr>();
    syscall
        .mount_setattr(mnt, Path::new(""), at, &attr, size)
        .map_err(failed("mount_setattr propagation"))
}

/// The propagation an option names, and whether it is recursive.
fn propagation(option: &str) -> Option<(MsFlags, bool)> {
    let (name, recursive) = match option.strip_prefix('r') {
        Some(rest @ ("private" | "slave" | "shared" | "unbindable")) => (rest, true),
        _ => (option, false),
    };
    let flag = match name {
        "private" => MsFlags::MS_PRIVATE,
        "slave" => MsFlags::MS_SLAVE,
        "shared" => MsFlags::MS_SHARED,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        _ => return None,
    };
    Some((flag, recursive))
}

/// Sets the mount `mnt`'s flags and attaches it at `target`.
pub(super) fn attach(
    syscall: &dyn Syscall,
    mnt: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    options: &MountOptionConfig,
) -> Result<(), MountFailed> {
    let size = std::mem::size_of::<MountAttr>();
    let empty = Path::new("");
    syscall
        .mount_setattr(
            mnt,
            empty,
            linux::AT_EMPTY_PATH,
            &attributes(options.flags),
            size,
        )
        .map_err(failed("mount_setattr"))?;
    if let Some(recursive) = &options.rec_attr {
        let flags = linux::AT_EMPTY_PATH | linux::AT_RECURSIVE;
        syscall
            .mount_setattr(mnt, empty, flags, recursive, size)
            .map_err(failed("mount_setattr recursive"))?;
    }
    syscall
        .move_mount(
            mnt,
            None,
            target,
            None,
            linux::MOVE_MOUNT_F_EMPTY_PATH | linux::MOVE_MOUNT_T_EMPTY_PATH,
        )
        .map_err(failed("move_mount"))
}

/// The mount attributes of `flags`, as libcontainer sets them: the access
/// time setting, when one is given, replaces the filesystem's own.
fn attributes(flags: MsFlags) -> MountAttr {
    const ATTRIBUTES: [(MsFlags, u64); 8] = [
        (MsFlags::MS_RDONLY, linux::MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, linux::MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, linux::MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, linux::MOUNT_ATTR_NOEXEC),
        (MsFlags::MS_NOATIME, linux::MOUNT_ATTR_NOATIME),
        (MsFlags::MS_NODIRATIME, linux::MOUNT_ATTR_NODIRATIME),
        (MsFlags::MS_RELATIME, linux::MOUNT_ATTR_RELATIME),
        (MsFlags::MS_STRICTATIME, linux::MOUNT_ATTR_STRICTATIME),
    ];
    let set = ATTRIBUTES
        .iter()
        .filter(|(flag, _)| flags.intersects(*flag))
        .fold(0, |set, (_, attr)| set | attr);
    let atime_bits =
        linux::MOUNT_ATTR_NOATIME | linux::MOUNT_ATTR_STRICTATIME | linux::MOUNT_ATTR_RELATIME;
    let atime = if flags.contains(MsFlags::MS_STRICTATIME) {
        Some(linux::MOUNT_ATTR_STRICTATIME)
    } else if flags.contains(MsFlags::MS_NOATIME) {
        Some(linux::MOUNT_ATTR_NOATIME)
    } else if flags.contains(MsFlags::MS_RELATIME) {
        Some(linux::MOUNT_ATTR_RELATIME)
    } else {
        None
    };
    let (attr_set, attr_clr) = match atime {
        Some(atime) => ((set & !atime_bits) | atime, linux::MOUNT_ATTR__ATIME),
        None => (set & !atime_bits, 0),
    };
    MountAttr {
        attr_set,
        attr_clr,
        propagation: 0,
        userns_fd: 0,
    }
}

/// Opens `path` as seen from inside the rootfs open as `root`: symlinks,
/// absolute ones too, and `..` never lead out of it.
pub(super) fn open_in_root(
    root: BorrowedFd<'_>,
    path: &Path,
    flags: OFlags,
) -> Result<OwnedFd, Errno> {
    in_root::openat2(root, path, flags, Mode::empty())
}

/// The directory at `path` in the rootfs, made (0755, with any missing
/// parents) if it is not there.
pub(super) fn mkdir_all(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
    let dir = OFlags::PATH | OFlags::DIRECTORY;
    match open_in_root(root, path, dir) {
        Err(Errno::NOENT) => {}
        found => return found,
    }
    let mut at = open_in_root(root, Path::new("/"), dir)?;
    let mut walked = PathBuf::from("/");
    for part in path.components() {
        let name: &OsStr = match part {
            Component::Normal(name) => name,
            Component::ParentDir => OsStr::new(".."),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => continue,
        };
        walked.push(name);
        at = match open_in_root(root, &walked, dir) {
            Err(Errno::NOENT) => {
                match rustix::fs::mkdirat(&at, name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e),
                }
                open_in_root(root, &walked, dir)?
            }
            found => found?,
        };
    }
    Ok(at)
}

/// The file at `path` in the rootfs, made empty (0644, with any missing
/// parent directories) if it is not there: the mount point of a file.
fn file_in_root(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
    if let Some(parent) = path.parent() {
        mkdir_all(root, parent)?;
    }
    let made = in_root::openat2(
        root,
        path,
        OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY,
        Mode::from_bits_truncate(0o644),
    );
    match made {
        Ok(_) | Err(Errno::EXIST) => open_in_root(root, path, OFlags::PATH),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_follow_the_flags_and_an_access_time_replaces_the_filesystems() {
        let cases = [
            (MsFlags::empty(), 0, 0),
            (
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID,
                linux::MOUNT_ATTR_RDONLY | linux::MOUNT_ATTR_NOSUID,
                0,
            ),
            (
                MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_BIND,
                linux::MOUNT_ATTR_NODEV | linux::MOUNT_ATTR_NOEXEC,
                0,
            ),
            (
                MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
                linux::MOUNT_ATTR_NOSUID | linux::MOUNT_ATTR_STRICTATIME,
                linux::MOUNT_ATTR__ATIME,
            ),
            (
                MsFlags::MS_NOATIME | MsFlags::MS_NODIRATIME,
                linux::MOUNT_ATTR_NOATIME | linux::MOUNT_ATTR_NODIRATIME,
                linux::MOUNT_ATTR__ATIME,
            ),
            // Relatime is the kernel's zero: it still clears the others.
            (MsFlags::MS_RELATIME, 0, linux::MOUNT_ATTR__ATIME),
        ];
        for (flags, set, clear) in cases {
            let attr = attributes(flags);
            assert_eq!((attr.attr_set, attr.attr_clr), (set, clear), "{flags:?}");
            assert_eq!((attr.propagation, attr.userns_fd), (0, 0));
        }
    }
}
