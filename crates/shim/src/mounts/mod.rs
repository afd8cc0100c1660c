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

mod cgroup;
mod dev;
mod one;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use libcontainer::namespaces::Namespaces;
use libcontainer::rootfs::utils::default_devices;
use libcontainer::syscall::{Syscall, SyscallError};
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use oci_spec::runtime::{Linux, LinuxNamespaceType, Spec};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

pub use dev::DeviceError;
pub use one::SpecMountError;

use crate::cgroups::CgroupView;
use crate::error::BoxError;
use crate::fallback::Unsupported;

/// Why the container's mount namespace could not be made; each names the
/// spec field or the step it was for.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("no linux section")]
    NoLinux,
    #[error("linux.namespaces")]
    Namespaces(#[source] BoxError),
    #[error("entering the namespaces")]
    EnterNamespaces(#[source] BoxError),
    #[error("linux.sysctl {0}")]
    Sysctl(String, #[source] std::io::Error),
    #[error("hostname {0:?}")]
    Hostname(String, #[source] SyscallError),
    #[error("domainname {0:?}")]
    Domainname(String, #[source] SyscallError),
    #[error("making / {0:?}")]
    Propagation(MsFlags, #[source] SyscallError),
    #[error("binding the rootfs {}", .0.display())]
    BindRootfs(PathBuf, #[source] SyscallError),
    #[error("opening the rootfs {}", .0.display())]
    OpenRootfs(PathBuf, #[source] Errno),
    #[error("mounts: {}", .0.display())]
    Mount(PathBuf, #[source] SpecMountError),
    #[error("process.cwd {0}: making it")]
    Cwd(String, #[source] Errno),
    #[error("/dev")]
    Dev(#[source] Errno),
    #[error("linking /dev/{name} to {target}")]
    DevLink {
        name: &'static str,
        target: &'static str,
        #[source]
        source: Errno,
    },
    #[error("linux.devices: {}", .0.display())]
    Device(PathBuf, #[source] DeviceError),
    #[error("removing /dev/ptmx")]
    RemovePtmx(#[source] Errno),
    #[error("linking /dev/ptmx")]
    LinkPtmx(#[source] Errno),
    #[error("pivot_root to {}", .0.display())]
    PivotRoot(PathBuf, #[source] SyscallError),
    #[error("making / unbindable")]
    Unbindable(#[source] SyscallError),
    #[error("opening the container's /dev/null")]
    OpenNull(#[source] Errno),
    #[error("the container's /dev/null")]
    StatNull(#[source] Errno),
    #[error("the container's /dev/null is not the null device")]
    NotNull,
    #[error("descriptor {0}")]
    Descriptor(i32, #[source] nix::Error),
    #[error("process.terminal")]
    Terminal(#[source] BoxError),
    #[error("root.readonly")]
    RootReadonly(#[source] BoxError),
    #[error("linux.readonlyPaths: {0}")]
    ReadonlyPath(String, #[source] SyscallError),
    #[error("linux.maskedPaths: {}", .0.display())]
    MaskedPath(PathBuf, #[source] SyscallError),
}

/// Whether the first process can make its mount namespace itself (see the
/// module's page); if not, why: libcontainer's init then does.
pub fn fits(spec: &Spec) -> Result<(), Unsupported> {
    let linux = spec.linux().as_ref().ok_or(Unsupported::NoLinux)?;
    if linux.mount_label().is_some() {
        return Err(Unsupported::Field("linux.mountLabel"));
    }
    match linux.rootfs_propagation().as_deref() {
        None | Some("private" | "slave" | "unbindable") => {}
        Some(other) => return Err(Unsupported::RootfsPropagation(other.to_string())),
    }
    let own_mount_namespace = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|ns| ns.typ() == LinuxNamespaceType::Mount && ns.path().is_none());
    if !own_mount_namespace {
        return Err(Unsupported::NoOwnMountNamespace);
    }
    Ok(())
}

/// The spec libcontainer's init is given after [`prepare`]: the same, but
/// with no namespace to make or join other than the pid one (which it
/// never enters itself), as everything else is done, and no seccomp
/// filter, which the first process has loaded ([`crate::seccomp`]).
pub fn for_libcontainer(spec: &Spec) -> Spec {
    let mut spec = spec.clone();
    if let Some(linux) = spec.linux_mut().as_mut() {
        if let Some(namespaces) = linux.namespaces_mut().as_mut() {
            namespaces.retain(|ns| ns.typ() == LinuxNamespaceType::Pid);
        }
        linux.set_seccomp(None);
    }
    spec
}

/// Makes the container's namespaces (all but pid, user and time) and its
/// mount namespace's contents, and moves into its root, for a spec that
/// [`fits`]. `rootfs` is the root's path, absolute and without symlinks.
/// With `console` (the socket the terminal's master is sent on), the
/// process's terminal is made there and mounted as /dev/console. In the
/// first process, in its cgroups, its stdio in place. A `cgroup` mount
/// shows `cgroups`.
pub fn prepare(
    spec: &Spec,
    rootfs: &Path,
    console: Option<RawFd>,
    cgroups: &[CgroupView],
) -> Result<(), MountError> {
    let linux = spec.linux().as_ref().ok_or(MountError::NoLinux)?;
    let syscall = libcontainer::syscall::syscall::create_syscall();
    let syscall = syscall.as_ref();
    enter_namespaces(spec, linux, syscall)?;
    fill_rootfs(spec, linux, syscall, rootfs, cgroups)?;
    syscall
        .pivot_rootfs(rootfs)
        .map_err(|e| MountError::PivotRoot(rootfs.to_path_buf(), e))?;
    if linux.rootfs_propagation().as_deref() == Some("unbindable") {
        syscall
            .mount(None, Path::new("/"), None, MsFlags::MS_UNBINDABLE, None)
            .map_err(MountError::Unbindable)?;
    }
    let null = dev::own_null()?;
    // Where libcontainer's init sets them: in the container's /proc, before
    // /proc/sys is made read-only.
    set_sysctls(linux)?;
    if let Some(socket) = console {
        libcontainer::tty::setup_console(syscall, socket, true)
            .map_err(|e| MountError::Terminal(e.into()))?;
    }
    protect(spec, linux, syscall, &null)
}

/// The spec's sysctls, each written to its file under /proc/sys.
fn set_sysctls(linux: &Linux) -> Result<(), MountError> {
    let mut sysctls: Vec<(&String, &String)> = linux.sysctl().iter().flatten().collect();
    sysctls.sort();
    for (key, value) in sysctls {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        std::fs::write(&path, value).map_err(|e| MountError::Sysctl(key.clone(), e))?;
    }
    Ok(())
}

/// Makes or joins the spec's namespaces but pid, user and time (in
/// libcontainer's order, mount last), and names the new UTS namespace.
fn enter_namespaces(spec: &Spec, linux: &Linux, syscall: &dyn Syscall) -> Result<(), MountError> {
    let namespaces = Namespaces::try_from(linux.namespaces().as_ref())
        .map_err(|e| MountError::Namespaces(e.into()))?;
    let time = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
    namespaces
        .apply_namespaces(|ns| {
            ns != CloneFlags::CLONE_NEWUSER && ns != CloneFlags::CLONE_NEWPID && ns != time
        })
        .map_err(|e| MountError::EnterNamespaces(e.into()))?;
    let uts = namespaces
        .get(LinuxNamespaceType::Uts)
        .map_err(|e| MountError::Namespaces(e.into()))?;
    if uts.is_some_and(|ns| ns.path().is_none()) {
        if let Some(name) = spec.hostname() {
            syscall
                .set_hostname(name)
                .map_err(|e| MountError::Hostname(name.clone(), e))?;
        }
        if let Some(name) = spec.domainname() {
            syscall
                .set_domainname(name)
                .map_err(|e| MountError::Domainname(name.clone(), e))?;
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
    cgroups: &[CgroupView],
) -> Result<(), MountError> {
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
        .map_err(|e| MountError::Propagation(propagation, e))?;
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
        .map_err(|e| MountError::BindRootfs(rootfs.to_path_buf(), e))?;
    // Opened after the bind: the mounts go on it.
    let root = open_rootfs(rootfs)?;
    for m in spec.mounts().iter().flatten() {
        one::mount(syscall, root.as_fd(), rootfs, m, cgroups)
            .map_err(|e| MountError::Mount(m.destination().clone(), e))?;
    }
    if let Some(process) = spec.process() {
        make_cwd_in(root.as_fd(), &process.cwd().to_string_lossy())?;
    }
    let dev = one::mkdir_all(root.as_fd(), Path::new("/dev")).map_err(MountError::Dev)?;
    dev::links(dev.as_fd())?;
    let defaults = default_devices();
    let added = linux.devices().as_deref().unwrap_or_default();
    let defaults = defaults
        .iter()
        .filter(|d| !added.iter().any(|a| a.path() == d.path()));
    dev::make_devices(root.as_fd(), dev.as_fd(), added.iter().chain(defaults))?;
    dev::ptmx_link(dev.as_fd())
}

/// The rootfs at `rootfs`, opened for lookups inside it.
fn open_rootfs(rootfs: &Path) -> Result<OwnedFd, MountError> {
    rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| MountError::OpenRootfs(rootfs.to_path_buf(), e))
}

/// Makes the process's working directory when the image lacks it, as runc
/// does: each missing component 0755 and root's, resolved inside `root`.
/// Nothing to do for `/`.
fn make_cwd_in(root: BorrowedFd<'_>, cwd: &str) -> Result<(), MountError> {
    if cwd.trim_matches('/').is_empty() {
        return Ok(());
    }
    one::mkdir_all(root, Path::new(cwd))
        .map(drop)
        .map_err(|e| MountError::Cwd(cwd.to_string(), e))
}

/// [`make_cwd_in`] for a rootfs whose mounts libcontainer's init makes,
/// after this (a directory under one of them is made in the image only);
/// [`prepare`] makes it itself, after its mounts.
pub fn make_cwd(rootfs: &Path, cwd: &str) -> Result<(), MountError> {
    if cwd.trim_matches('/').is_empty() {
        return Ok(());
    }
    make_cwd_in(open_rootfs(rootfs)?.as_fd(), cwd)
}

/// After `pivot_root`: the read-only root, then the read-only and the
/// masked paths (files under `null`, the container's /dev/null).
fn protect(
    spec: &Spec,
    linux: &Linux,
    syscall: &dyn Syscall,
    null: &OwnedFd,
) -> Result<(), MountError> {
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        let flags = nix::sys::statfs::statfs("/")
            .map_err(|e| MountError::RootReadonly(e.into()))?
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
            .map_err(|e| MountError::RootReadonly(e.into()))?;
    }
    for path in linux.readonly_paths().iter().flatten() {
        readonly(syscall, Path::new(path))
            .map_err(|e| MountError::ReadonlyPath(path.clone(), e))?;
    }
    match linux.masked_paths() {
        Some(paths) => mask(syscall, paths, null),
        None => Ok(()),
    }
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
/// tmpfs, a file under `null`, the container's /dev/null.
fn mask(syscall: &dyn Syscall, paths: &[String], null: &OwnedFd) -> Result<(), MountError> {
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
            syscall.mount_from_fd(null, path)
        } else {
            continue;
        };
        masked.map_err(|e| MountError::MaskedPath(path.to_path_buf(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(linux: serde_json::Value, mounts: serde_json::Value) -> Spec {
        serde_json::from_value(json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "mounts": mounts,
            "linux": linux
        }))
        .unwrap()
    }

    fn namespaces() -> serde_json::Value {
        json!([{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "network", "path": "/proc/self/ns/net"}])
    }

    #[test]
    fn what_only_libcontainers_init_does_is_named() {
        let proc = json!([{"destination": "/proc", "type": "proc", "source": "proc"}]);
        let cgroup =
            json!([{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}]);
        let cases = [
            (json!({"namespaces": namespaces()}), proc.clone(), Ok(())),
            (
                json!({"namespaces": namespaces(), "sysctl": {"net.ipv4.ip_forward": "1"}}),
                proc.clone(),
                Ok(()),
            ),
            (
                json!({"namespaces": namespaces(), "mountLabel": "system_u:object_r:container_file_t:s0"}),
                proc.clone(),
                Err("linux.mountLabel".to_string()),
            ),
            (
                json!({"namespaces": namespaces(), "rootfsPropagation": "shared"}),
                proc.clone(),
                Err("linux.rootfsPropagation shared".to_string()),
            ),
            (
                json!({"namespaces": namespaces(), "rootfsPropagation": "unbindable"}),
                proc.clone(),
                Ok(()),
            ),
            (
                json!({"namespaces": [{"type": "pid"}, {"type": "mount", "path": "/proc/1/ns/mnt"}]}),
                proc.clone(),
                Err("no mount namespace of its own".to_string()),
            ),
            (json!({"namespaces": namespaces()}), cgroup, Ok(())),
        ];
        for (linux, mounts, want) in cases {
            let why = fits(&spec(linux.clone(), mounts)).map_err(|e| e.to_string());
            assert_eq!(why, want, "{linux}");
        }
    }

    #[test]
    fn libcontainers_init_is_left_only_the_pid_namespace() {
        let given = for_libcontainer(&spec(json!({"namespaces": namespaces()}), json!([])));
        let left: Vec<_> = given
            .linux()
            .as_ref()
            .and_then(|l| l.namespaces().clone())
            .unwrap()
            .iter()
            .map(|ns| ns.typ())
            .collect();
        assert_eq!(left, [LinuxNamespaceType::Pid]);
    }
}
