//! The container's mount namespace, made by its first process itself just
//! before libcontainer's init: the namespaces the spec asks for, the
//! hostname, the spec's mounts, the links and device nodes under `/dev`,
//! `pivot_root`, the terminal, and the read-only and masked paths.
//!
//! This is what libcontainer's init does for a new container, step for
//! step and in its order, with libcontainer's own pieces where they are
//! public (mount option parsing, the checks of what may go over `/proc`,
//! the default devices, `pivot_root`, the terminal). What differs is how a mount point
//! or device node is found: libcontainer opens a mount point through
//! pathrs's `Root`, which checks its procfs handle again before each step
//! (about 70 syscalls per mount, most of libcontainer's init, over 1 ms a
//! container on this host), and walks a device's path with one `readlink`
//! per component. Here one `openat2` with `RESOLVE_IN_ROOT` finds either:
//! the kernel keeps the lookup inside the rootfs (an absolute symlink or
//! `..` in the image resolves against the rootfs, never the host), and
//! every mount is attached, every node made, through the descriptor found
//! (`move_mount`, `mknodat`), never through a path that could change in
//! between.
//!
//! libcontainer's init then goes on as it does for a process joining a
//! running container (`TenantContainer`): the spec it is given names no
//! namespace but the pid one ([`for_libcontainer`]), so it neither makes
//! nor mounts anything again, and does the rest as for any first process
//! (session, no_new_privs, user, capabilities, seccomp, the wait for start,
//! the exec).
//!
//! [`fits`] says which specs this covers; the others go through
//! libcontainer's init whole.

use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use libcontainer::namespaces::Namespaces;
use libcontainer::rootfs::utils::{
    default_devices, is_bind, parse_mount, to_sflag, MountOptionConfig,
};
use libcontainer::syscall::linux::{self, MountAttr};
use libcontainer::syscall::Syscall;
use libcontainer::syscall::SyscallError;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use oci_spec::runtime::{Linux, LinuxDevice, LinuxNamespaceType, Mount, Spec};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Whether the first process can make its mount namespace itself (see the
/// module's page); if not, why: libcontainer's init then does.
pub fn fits(spec: &Spec) -> Result<(), String> {
    let linux = spec.linux().as_ref().ok_or("no linux section")?;
    if linux.sysctl().as_ref().is_some_and(|s| !s.is_empty()) {
        return Err("linux.sysctl".into());
    }
    if linux.mount_label().is_some() {
        return Err("linux.mountLabel".into());
    }
    match linux.rootfs_propagation().as_deref() {
        None | Some("private" | "slave" | "unbindable") => {}
        Some(other) => return Err(format!("linux.rootfsPropagation {other}")),
    }
    let own_mount_namespace = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|ns| ns.typ() == LinuxNamespaceType::Mount && ns.path().is_none());
    if !own_mount_namespace {
        return Err("no mount namespace of its own".into());
    }
    if let Some(m) = spec
        .mounts()
        .iter()
        .flatten()
        .find(|m| m.typ().as_deref() == Some("cgroup"))
    {
        return Err(format!("a cgroup mount at {}", m.destination().display()));
    }
    Ok(())
}

/// The spec libcontainer's init is given after [`prepare`]: the same, but
/// with no namespace to make or join other than the pid one (which it
/// never enters itself), as everything else is done.
pub fn for_libcontainer(spec: &Spec) -> Spec {
    let mut spec = spec.clone();
    if let Some(namespaces) = spec
        .linux_mut()
        .as_mut()
        .and_then(|l| l.namespaces_mut().as_mut())
    {
        namespaces.retain(|ns| ns.typ() == LinuxNamespaceType::Pid);
    }
    spec
}

/// Makes the container's namespaces (all but pid, user and time) and its
/// mount namespace's contents, and moves into its root, for a spec that
/// [`fits`]. `rootfs` is the root's path, absolute and without symlinks.
/// With `console` (the socket the terminal's master is sent on), the
/// process's terminal is made there and mounted as /dev/console. In the
/// first process, in its cgroups, its stdio in place.
pub fn prepare(spec: &Spec, rootfs: &Path, console: Option<RawFd>) -> Result<(), String> {
    let linux = spec.linux().as_ref().ok_or("no linux section")?;
    let syscall = libcontainer::syscall::syscall::create_syscall();
    let syscall = syscall.as_ref();
    enter_namespaces(spec, linux, syscall)?;
    fill_rootfs(spec, linux, syscall, rootfs)?;
    syscall
        .pivot_rootfs(rootfs)
        .map_err(|e| format!("pivot_root to {}: {e}", rootfs.display()))?;
    if linux.rootfs_propagation().as_deref() == Some("unbindable") {
        syscall
            .mount(None, Path::new("/"), None, MsFlags::MS_UNBINDABLE, None)
            .map_err(|e| format!("making / unbindable: {e}"))?;
    }
    reopen_dev_null()?;
    if let Some(socket) = console {
        libcontainer::tty::setup_console(syscall, socket, true)
            .map_err(|e| format!("process.terminal: {e}"))?;
    }
    protect(spec, linux, syscall)
}

/// Makes or joins the spec's namespaces but pid, user and time (in
/// libcontainer's order, mount last), and names the new UTS namespace.
fn enter_namespaces(spec: &Spec, linux: &Linux, syscall: &dyn Syscall) -> Result<(), String> {
    let namespaces = Namespaces::try_from(linux.namespaces().as_ref())
        .map_err(|e| format!("linux.namespaces: {e}"))?;
    let time = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
    namespaces
        .apply_namespaces(|ns| {
            ns != CloneFlags::CLONE_NEWUSER && ns != CloneFlags::CLONE_NEWPID && ns != time
        })
        .map_err(|e| format!("entering the namespaces: {e}"))?;
    let uts = namespaces
        .get(LinuxNamespaceType::Uts)
        .map_err(|e| e.to_string())?;
    if uts.is_some_and(|ns| ns.path().is_none()) {
        if let Some(name) = spec.hostname() {
            syscall
                .set_hostname(name)
                .map_err(|e| format!("hostname {name:?}: {e}"))?;
        }
        if let Some(name) = spec.domainname() {
            syscall
                .set_domainname(name)
                .map_err(|e| format!("domainname {name:?}: {e}"))?;
        }
    }
    Ok(())
}

/// Makes the rootfs a mount of its own that receives no later host mounts
/// unless it is slave, then mounts the spec's mounts in it and fills its
/// /dev.
fn fill_rootfs(
    spec: &Spec,
    linux: &Linux,
    syscall: &dyn Syscall,
    rootfs: &Path,
) -> Result<(), String> {
    let propagation = match linux.rootfs_propagation().as_deref() {
        Some("private") => MsFlags::MS_PRIVATE,
        _ => MsFlags::MS_SLAVE,
    };
    syscall
        .mount(
            None,
            Path::new("/"),
            None,
            MsFlags::MS_REC | propagation,
            None,
        )
        .map_err(|e| format!("making / {propagation:?}: {e}"))?;
    // libcontainer then makes the rootfs's parent mount private if it is
    // shared; after the line above no mount here is shared.
    syscall
        .mount(
            Some(rootfs),
            rootfs,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )
        .map_err(|e| format!("binding the rootfs {}: {e}", rootfs.display()))?;
    // Opened after the bind: the mounts go on it.
    let root = rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("opening the rootfs {}: {e}", rootfs.display()))?;
    for m in spec.mounts().iter().flatten() {
        mount(syscall, root.as_fd(), rootfs, m)
            .map_err(|e| format!("mounts: {}: {e}", m.destination().display()))?;
    }
    dev_links(root.as_fd())?;
    let defaults = default_devices();
    let added = linux.devices().as_deref().unwrap_or_default();
    let defaults = defaults
        .iter()
        .filter(|d| !added.iter().any(|a| a.path() == d.path()));
    make_devices(root.as_fd(), added.iter().chain(defaults))?;
    ptmx_link(root.as_fd())
}

/// After `pivot_root`: the read-only root, then the read-only and the
/// masked paths.
fn protect(spec: &Spec, linux: &Linux, syscall: &dyn Syscall) -> Result<(), String> {
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        let flags = nix::sys::statfs::statfs("/")
            .map_err(|e| format!("root.readonly: {e}"))?
            .flags()
            .bits();
        syscall
            .mount(
                None,
                Path::new("/"),
                None,
                MsFlags::MS_RDONLY
                    | MsFlags::MS_REMOUNT
                    | MsFlags::MS_BIND
                    | MsFlags::from_bits_truncate(flags),
                None,
            )
            .map_err(|e| format!("root.readonly: {e}"))?;
    }
    for path in linux.readonly_paths().iter().flatten() {
        readonly(syscall, Path::new(path))
            .map_err(|e| format!("linux.readonlyPaths: {path}: {e}"))?;
    }
    match linux.masked_paths() {
        Some(paths) => mask(syscall, paths),
        None => Ok(()),
    }
}

/// Mounts `m` in the rootfs open as `root` (at `rootfs`), as libcontainer
/// does.
fn mount(
    syscall: &dyn Syscall,
    root: BorrowedFd<'_>,
    rootfs: &Path,
    m: &Mount,
) -> Result<(), String> {
    let mut options = parse_mount(m).map_err(|e| e.to_string())?;
    let dest = m.destination();
    let typ = m.typ().as_deref();
    match typ {
        Some(typ @ ("proc" | "sysfs")) => {
            // Only over an ordinary directory (a symlink there is not
            // followed), and never over a part of /proc.
            match open_in_root(root, dest, OFlags::PATH | OFlags::NOFOLLOW) {
                Ok(found) => {
                    let stat = rustix::fs::fstat(&found).map_err(|e| e.to_string())?;
                    if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
                        return Err(format!("{typ} can only be mounted on a directory"));
                    }
                }
                Err(Errno::NOENT) => {}
                Err(e) => return Err(e.to_string()),
            }
            libcontainer::rootfs::Mount::new()
                .check_proc_mount(rootfs, m)
                .map_err(|e| e.to_string())?;
        }
        // /dev stays writable: its devices and links are made next.
        _ if dest == Path::new("/dev") => options.flags.remove(MsFlags::MS_RDONLY),
        _ => {}
    }
    let source = m.source().as_ref().ok_or("no source")?;
    if is_bind(m) {
        let source = std::fs::canonicalize(source)
            .map_err(|e| format!("source {}: {e}", source.display()))?;
        let target = match source.is_dir() {
            true => mkdir_all(root, dest),
            false => file_in_root(root, dest),
        }
        .map_err(|e| format!("making the mount point: {e}"))?;
        let source = source.to_str().ok_or("a source that is not UTF-8")?;
        let mut flags = libc::OPEN_TREE_CLOEXEC | libc::OPEN_TREE_CLONE;
        if m.options().iter().flatten().any(|o| o == "rbind") {
            flags |= libc::AT_RECURSIVE as u32;
        }
        let tree = syscall
            .open_tree(libc::AT_FDCWD, Some(source), flags)
            .map_err(|e| format!("cloning {source}: {e}"))?;
        attach(syscall, tree.as_fd(), target.as_fd(), &options).map_err(|e| e.to_string())
    } else {
        let target = mkdir_all(root, dest).map_err(|e| format!("making the mount point: {e}"))?;
        let source = source.to_str().ok_or("a source that is not UTF-8")?;
        let typ = typ.ok_or("no type")?;
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
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

/// A step of a mount that failed.
#[derive(Debug)]
struct MountFailed {
    step: &'static str,
    errno: Errno,
}

impl std::fmt::Display for MountFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.errno)
    }
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
fn new_mount(
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

/// Sets the mount `mnt`'s flags and attaches it at `target`.
fn attach(
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
fn open_in_root(root: BorrowedFd<'_>, path: &Path, flags: OFlags) -> Result<OwnedFd, Errno> {
    rustix::fs::openat2(
        root,
        path,
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// The directory at `path` in the rootfs, made (0755, with any missing
/// parents) if it is not there.
fn mkdir_all(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
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
    let made = rustix::fs::openat2(
        root,
        path,
        OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_bits_truncate(0o644),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    );
    match made {
        Ok(_) | Err(Errno::EXIST) => open_in_root(root, path, OFlags::PATH),
        Err(e) => Err(e),
    }
}

/// The links libcontainer makes under the container's /dev: its process's
/// descriptors, and the kernel's memory image when the host has one.
fn dev_links(root: BorrowedFd<'_>) -> Result<(), String> {
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
fn make_devices<'a>(
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
fn ptmx_link(root: BorrowedFd<'_>) -> Result<(), String> {
    let dev = mkdir_all(root, Path::new("/dev")).map_err(|e| format!("/dev: {e}"))?;
    match rustix::fs::unlinkat(&dev, "ptmx", AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(format!("removing /dev/ptmx: {e}")),
    }
    rustix::fs::symlinkat("pts/ptmx", &dev, "ptmx").map_err(|e| format!("linking /dev/ptmx: {e}"))
}

/// Checks that `stat` is /dev/null's (character device 1:3).
fn is_dev_null(stat: &rustix::fs::Stat) -> bool {
    FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(stat.st_rdev) == 1
        && rustix::fs::minor(stat.st_rdev) == 3
}

/// Points any of the standard descriptors that are the host's /dev/null at
/// the container's own.
fn reopen_dev_null() -> Result<(), String> {
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

/// Makes `path` (when it exists) a read-only bind of itself.
fn readonly(syscall: &dyn Syscall, path: &Path) -> Result<(), SyscallError> {
    let bound = syscall.mount(
        Some(path),
        path,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    );
    match bound {
        Err(SyscallError::Nix(nix::Error::ENOENT)) => return Ok(()),
        other => other?,
    }
    syscall.mount(
        Some(path),
        path,
        None,
        MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NOEXEC
            | MsFlags::MS_BIND
            | MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY,
        None,
    )
}

/// Hides each of `paths` that exists: a directory under an empty read-only
/// tmpfs, a file under /dev/null.
fn mask(syscall: &dyn Syscall, paths: &[String]) -> Result<(), String> {
    let null = rustix::fs::open("/dev/null", OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| format!("linux.maskedPaths: opening /dev/null: {e}"))?;
    let stat = rustix::fs::fstat(&null).map_err(|e| e.to_string())?;
    if !is_dev_null(&stat) {
        return Err("linux.maskedPaths: /dev/null is not the null device".into());
    }
    for path in paths.iter().map(Path::new) {
        let masked = if path.is_dir() {
            syscall.mount(
                Some(Path::new("tmpfs")),
                path,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                Some(""),
            )
        } else if path.exists() {
            syscall.mount_from_fd(&null, path)
        } else {
            continue;
        };
        masked.map_err(|e| format!("linux.maskedPaths: {}: {e}", path.display()))?;
    }
    Ok(())
}
