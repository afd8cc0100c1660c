//! Creating a container without libcontainer's builder: the shim makes
//! the container's cgroups and forks its first process itself, and that
//! process runs libcontainer's own init.
//!
//! libcontainer's builder reloads the spec from disk, writes its state
//! twice, then forks an intermediate process that builds a cgroup manager
//! (on cgroups v1 that looks up every controller's mount point on its own,
//! about 2 ms), joins the cgroups, makes the pid namespace and forks the
//! first process. Here the spec is the one the shim holds, and the first
//! process is forked straight into a new pid namespace. While it takes its
//! rlimits and OOM score and makes its network namespace, the shim makes
//! its cgroups, writes their limits ([`crate::cgroups::v1`]) and moves it
//! into them. Only then does it make its other namespaces and its mount
//! namespace's contents (rootfs, devices, masked and read-only paths;
//! [`crate::mounts`], when the spec fits) and run libcontainer's
//! `container_init_process` for everything after that: user, capabilities,
//! seccomp, waiting for start, the executor. (For a spec that does not
//! fit, libcontainer's init does the namespaces and mounts as well.)
//!
//! What only libcontainer's main or intermediate process does is left to
//! the builder: see [`plan`].

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use libcgroups::common::{CgroupConfig, CgroupSetup};
use libcontainer::config::YoukiConfig;
use libcontainer::container::{Container, ContainerStatus};
use libcontainer::notify_socket::{NotifyListener, NotifySocket, NOTIFY_FILE};
use libcontainer::process::args::{ContainerArgs, ContainerType};
use libcontainer::process::channel::{self, InitReceiver, MainSender};
use libcontainer::syscall::syscall::{create_syscall, SyscallType};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use vessel_runtime::protocol::{ErrorKind, RemoteError};

use crate::cgroups::ready::ReadyCgroups;
use crate::cgroups::v1::Layout;
use crate::console::ConsoleSocket;
use crate::executor::{exit_now, ShimExecutor};
use crate::join::{fork_into, run_child, CgroupEntry, PidNamespace};
use crate::process::{pipes, Proc};

/// A container the shim can create itself: its spec, typed, and its
/// cgroups path.
#[derive(Debug)]
pub struct Plan {
    spec: Spec,
    cgroups_path: PathBuf,
    /// The first process makes its network namespace (with `lo` up)
    /// itself; the spec given to libcontainer's init then names it as one
    /// to join.
    makes_network: bool,
    /// Whether the first process makes its mount namespace itself
    /// ([`crate::mounts`]); if not, why libcontainer's init does.
    mounts: Result<(), String>,
}

impl Plan {
    /// Whether the first process makes its mount namespace itself.
    pub fn makes_own_mounts(&self) -> bool {
        self.mounts.is_ok()
    }
}

/// Whether the shim creates this container itself; if not, why (the
/// builder then does). Nothing is changed either way.
pub fn plan(spec: &Spec, id: &str) -> Result<Plan, String> {
    let linux = spec.linux().as_ref().ok_or("no linux section")?;
    if !matches!(
        libcgroups::common::get_cgroup_setup(),
        Ok(CgroupSetup::Legacy | CgroupSetup::Hybrid)
    ) {
        return Err("not a cgroups v1 host".into());
    }
    if spec.hooks().is_some() {
        return Err("hooks".into());
    }
    let mut new_pid = false;
    for ns in linux.namespaces().iter().flatten() {
        match ns.typ() {
            LinuxNamespaceType::User | LinuxNamespaceType::Time => {
                return Err(format!("a {} namespace", ns.typ()))
            }
            LinuxNamespaceType::Pid if ns.path().is_some() => {
                return Err("a pid namespace to join".into())
            }
            LinuxNamespaceType::Pid => new_pid = true,
            _ => {}
        }
    }
    if !new_pid {
        return Err("no pid namespace of its own".into());
    }
    if linux.intel_rdt().is_some() {
        return Err("linux.intelRdt".into());
    }
    if linux.net_devices().as_ref().is_some_and(|d| !d.is_empty()) {
        return Err("linux.netDevices".into());
    }
    if let Some(seccomp) = linux.seccomp() {
        if libcontainer::seccomp::is_notify(seccomp) {
            return Err("seccomp notify".into());
        }
    }
    if spec
        .process()
        .as_ref()
        .is_some_and(|p| p.apparmor_profile().is_some())
    {
        // The builder refuses it on a host without AppArmor first.
        return Err("process.apparmorProfile".into());
    }
    let idmapped = spec.mounts().iter().flatten().any(|m| {
        m.uid_mappings().as_ref().is_some_and(|u| !u.is_empty())
            || m.gid_mappings().as_ref().is_some_and(|g| !g.is_empty())
            || m.options()
                .iter()
                .flatten()
                .any(|o| o == "idmap" || o == "ridmap")
    });
    if idmapped {
        return Err("an id-mapped mount".into());
    }
    let cgroups_path = libcontainer::utils::get_cgroup_path(linux.cgroups_path(), id);
    crate::cgroups::v1::check(linux.resources().as_ref(), &cgroups_path)?;
    let makes_network = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|ns| ns.typ() == LinuxNamespaceType::Network && ns.path().is_none());
    let mounts = crate::mounts::fits(spec);
    Ok(Plan {
        spec: spec.clone(),
        cgroups_path,
        makes_network,
        mounts,
    })
}

/// Points the network namespace the spec asks to be made at the first
/// process's own (`/proc/self/ns/net`): the process makes it before
/// libcontainer's init runs, which then joins it, a no-op. Only after the
/// spec has been checked: to the checks, that path is the shim's, the
/// host's namespace.
fn join_own_network(spec: &mut Spec) {
    let namespaces = spec
        .linux_mut()
        .as_mut()
        .and_then(|l| l.namespaces_mut().as_mut());
    let own = namespaces
        .into_iter()
        .flatten()
        .find(|ns| ns.typ() == LinuxNamespaceType::Network && ns.path().is_none());
    if let Some(ns) = own {
        ns.set_path(Some(PathBuf::from("/proc/self/ns/net")));
    }
}

/// What [`create`] made.
#[derive(Debug)]
pub struct Created {
    pub container: Container,
    /// Where the terminal's master comes from, when the process has one.
    pub console: Option<ConsoleSocket>,
    /// Whether the container's own network namespace already has `lo` up.
    pub loopback_up: bool,
    /// Whether the first process was started too (see [`create`]).
    pub started: bool,
    /// Why libcontainer's init made the container's mounts, when it did
    /// (see [`crate::mounts`]).
    pub mounts_by_libcontainer: Option<String>,
}

fn invalid(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(
        ErrorKind::InvalidParameter,
        format!("creating the container: {e}"),
    )
}

fn internal(what: &str, e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, format!("{what}: {e}"))
}

/// Creates container `id` from `plan`: its state in `root` (libcontainer's
/// layout, so libcontainer can start, signal and delete it), its cgroups,
/// and its first process, supervised as `init`, waiting for start. On
/// failure the first process is gone; the caller removes the rest.
///
/// With `start`, the first process is started as well, without a round
/// trip: the start is queued on its listener as soon as it is in its
/// cgroups (a plan has no hooks, the only other thing libcontainer's start
/// does), so it goes on to exec the moment it is ready instead of waiting
/// for this process to read that and answer.
///
/// `meanwhile` is the caller's work that the first process does not wait
/// for: it runs while that process runs libcontainer's init, and before a
/// start is queued, so that its failure has run nothing of the container's.
///
/// Cgroups a spare shim made ahead (`ready_cgroups`) become the container's when
/// they can: the first process is then forked inside them, and waits only
/// for their renaming and limits.
#[allow(clippy::too_many_arguments)]
pub fn create(
    plan: Plan,
    id: &str,
    bundle: &Path,
    root: &Path,
    init: &mut Proc,
    console: Option<&Path>,
    open_stdin: bool,
    start: bool,
    ready_cgroups: Option<ReadyCgroups>,
    meanwhile: impl FnOnce() -> Result<(), RemoteError>,
) -> Result<Created, RemoteError> {
    let Plan {
        mut spec,
        cgroups_path,
        makes_network,
        mounts,
    } = plan;
    check_spec(&spec)?;
    if makes_network {
        join_own_network(&mut spec);
    }
    let rootfs = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .ok_or_else(|| invalid("no root"))?;
    let rootfs = std::fs::canonicalize(&rootfs)
        .map_err(|e| invalid(format!("root.path {}: {e}", rootfs.display())))?;
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).map_err(|e| internal("making libcontainer's state", e))?;
    let mut container = Container::new(id, ContainerStatus::Creating, None, bundle, &dir)
        .map_err(|e| internal("making libcontainer's state", e))?;

    // As libcontainer's builder does: the shim, which holds the
    // container's descriptors and forks its processes (an exec's child
    // starts inside the container's pid namespace), is not dumpable, so
    // nothing in the container can open it through /proc.
    nix::sys::prctl::set_dumpable(false)
        .map_err(|e| internal("making the shim not dumpable", e))?;

    // The child's ends: kept open here until it has forked.
    let (stdio, console_socket, console_fd) = match console {
        Some(path) => {
            let socket = ConsoleSocket::listen(path)
                .map_err(|e| internal("listening for the terminal", e))?;
            let fd = libcontainer::tty::setup_console_socket(&dir, socket.path(), "console-socket")
                .map_err(|e| internal("connecting the terminal socket", e))?;
            (None, Some(socket), Some(fd))
        }
        None => {
            let stdio = pipes(init, open_stdin).map_err(|e| internal("setting up the stdio", e))?;
            (Some(stdio), None, None)
        }
    };
    let notify_listener = NotifyListener::new(&dir.join(NOTIFY_FILE))
        .map_err(|e| internal("listening for the start", e))?;
    let (mut main_sender, mut main_receiver) =
        channel::main_channel().map_err(|e| internal("a channel to the first process", e))?;
    let (init_sender, mut init_receiver) =
        channel::init_channel().map_err(|e| internal("a channel to the first process", e))?;
    // The first process makes what needs no cgroups, then waits here.
    let (gate, joined) = cgroup_gate().map_err(|e| internal("a pipe to the first process", e))?;
    // Ready cgroups that cannot be this container's are given up (the shim
    // leaves and removes them) before the fork.
    let mut ready_cgroups = ready_cgroups.filter(|r| r.fits(&cgroups_path));
    let first_joins = ready_cgroups
        .as_ref()
        .map(ReadyCgroups::first_joins)
        .transpose()
        .map_err(|e| internal("opening the container's cgroups", e))?;
    let spec = Rc::new(spec);
    // When the first process makes its mount namespace itself, it keeps
    // the whole spec, and its stdio, for that; libcontainer's init then
    // does the rest as for a process joining the container (whose notify
    // descriptor only libcontainer's intermediate process uses).
    let own_mounts = mounts.is_ok();
    let (container_type, init_spec) = match own_mounts {
        true => (
            ContainerType::TenantContainer { exec_notify_fd: -1 },
            Rc::new(crate::mounts::for_libcontainer(&spec)),
        ),
        false => (ContainerType::InitContainer, Rc::clone(&spec)),
    };
    let stdio_fds = stdio.as_ref().map(|s| {
        [
            s.stdin.as_raw_fd(),
            s.stdout.as_raw_fd(),
            s.stderr.as_raw_fd(),
        ]
    });
    let console_socket_fd = console_fd.as_ref().map(AsRawFd::as_raw_fd);
    // libcontainer's init sets up only what the first process did not.
    let [stdin, stdout, stderr] = match stdio_fds.filter(|_| !own_mounts) {
        Some(fds) => fds.map(Some),
        None => [None; 3],
    };
    let args = ContainerArgs {
        container_type,
        syscall: SyscallType::default(),
        spec: init_spec,
        rootfs,
        console_socket: console_socket_fd.filter(|_| !own_mounts),
        notify_listener,
        preserve_fds: 0,
        container: Some(container.clone()),
        user_ns_config: None,
        cgroup_config: CgroupConfig {
            cgroup_path: cgroups_path.clone(),
            systemd_cgroup: false,
            container_name: id.to_string(),
        },
        detached: true,
        executor: Box::new(ShimExecutor),
        no_pivot: false,
        stdin,
        stdout,
        stderr,
        as_sibling: false,
        pid_file: None,
    };

    // The channels' ends are plain descriptors, closed only by `close`.
    let child = fork_into(PidNamespace::New);
    let pid = match child {
        Ok(Some(pid)) => pid,
        Ok(None) => {
            // The child: the container's pid 1. Never returns.
            let _ = main_receiver.close();
            let _ = init_sender.close();
            drop(gate);
            let first = First {
                args: &args,
                joins: first_joins,
                joined,
                makes_network,
                own_mounts: own_mounts.then_some(OwnMounts {
                    spec: &spec,
                    stdio: stdio_fds,
                    console: console_socket_fd,
                }),
            };
            become_init(first, &mut main_sender, &mut init_receiver)
        }
        Err(e) => {
            let _ = (main_sender.close(), main_receiver.close());
            let _ = (init_sender.close(), init_receiver.close());
            return Err(internal("starting the first process", e));
        }
    };
    drop(joined);
    // Only the child holds the sending end now: if it dies before it is
    // ready, the wait below reads end-of-file.
    let _ = (
        main_sender.close(),
        init_sender.close(),
        init_receiver.close(),
    );
    drop((stdio, console_fd));
    // Meanwhile the first process makes its network namespace, the
    // slowest of what it does alone: the cgroups are made, limited and
    // joined from here, in parallel (or, made ahead and the process born
    // in them, renamed and limited). Then it may go on.
    let linux = spec.linux().as_ref().ok_or_else(|| invalid("no linux"));
    let joined = linux.and_then(|linux| match ready_cgroups.as_mut() {
        Some(ready) => adopt(ready, gate, &cgroups_path, linux),
        None => cgroups_for(gate, pid, &cgroups_path, linux),
    });
    // What the first process does not need is done while it runs
    // libcontainer's init.
    let ready = joined
        .and_then(|()| {
            YoukiConfig::from_spec(&spec, id)
                .and_then(|config| config.save(&dir))
                .map_err(|e| internal("saving libcontainer's config", e))
        })
        .and_then(|()| meanwhile())
        .and_then(|()| match start {
            true => NotifySocket::new(dir.join(NOTIFY_FILE))
                .notify_container_start()
                .map_err(|e| internal("starting the container", e)),
            false => Ok(()),
        })
        .and_then(|()| main_receiver.wait_for_init_ready().map_err(invalid));
    let _ = main_receiver.close();
    if let Err(e) = ready {
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
        return Err(e);
    }
    let status = match start {
        true => ContainerStatus::Running,
        false => ContainerStatus::Created,
    };
    let saved = container
        .set_status(status)
        .set_creator(nix::unistd::geteuid().as_raw())
        .set_pid(pid.as_raw())
        .set_systemd(false)
        .set_annotations(spec.annotations().clone())
        .save();
    if let Err(e) = saved {
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
        return Err(internal("saving libcontainer's state", e));
    }
    Ok(Created {
        container,
        console: console_socket,
        loopback_up: makes_network,
        started: start,
        mounts_by_libcontainer: mounts.err(),
    })
}

/// Makes the container's cgroups, writes its limits and moves the first
/// process, `pid`, into them through `gate`.
fn cgroups_for(
    gate: CgroupGate,
    pid: nix::unistd::Pid,
    cgroups_path: &Path,
    linux: &oci_spec::runtime::Linux,
) -> Result<(), RemoteError> {
    let layout = Layout::create(crate::cgroups::mounts(), cgroups_path)
        .map_err(|e| internal("making the container's cgroups", e))?;
    layout.apply(linux.resources().as_ref()).map_err(invalid)?;
    gate.join(pid, layout.dirs())
        .map_err(|e| internal("joining the container's cgroups", e))
}

/// Makes `ready`, which the first process was forked in, the container's
/// cgroups: renamed to `cgroups_path` and limited, they let it go on, and
/// the shim goes back to its own.
fn adopt(
    ready: &mut ReadyCgroups,
    gate: CgroupGate,
    cgroups_path: &Path,
    linux: &oci_spec::runtime::Linux,
) -> Result<(), RemoteError> {
    let layout = ready
        .adopt(cgroups_path)
        .map_err(|e| internal("naming the container's cgroups", e))?;
    layout.apply(linux.resources().as_ref()).map_err(invalid)?;
    gate.open();
    ready.leave();
    Ok(())
}

/// The first process is moved into its cgroups by the shim (or, born in
/// ready ones, they are renamed and limited) while it sets itself up; it
/// waits at this gate before anything of the container's runs. Made
/// before the fork: the shim keeps the [`CgroupGate`], the child the
/// [`GateWait`].
fn cgroup_gate() -> Result<(CgroupGate, GateWait), Errno> {
    let (wait, open) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    Ok((CgroupGate(open), GateWait(wait)))
}

/// The shim's side of a [`cgroup_gate`]. Dropped without [`CgroupGate::join`]
/// succeeding, the child gives up.
#[derive(Debug)]
struct CgroupGate(OwnedFd);

impl CgroupGate {
    /// Writes `child` into each of `dirs`' `cgroup.procs`, then lets it go
    /// on. (A child that failed on its own is a zombie until it is reaped,
    /// which a join does not fail on: an error here is the join's own.)
    fn join<'a>(
        self,
        child: nix::unistd::Pid,
        mut dirs: impl Iterator<Item = &'a Path>,
    ) -> std::io::Result<()> {
        let pid = child.as_raw().to_string();
        dirs.try_for_each(|dir| std::fs::write(dir.join("cgroup.procs"), &pid))?;
        self.open();
        Ok(())
    }

    /// Lets the child go on: it is in its cgroups already (it was forked
    /// inside them).
    fn open(self) {
        let _ = nix::unistd::write(&self.0, &[1]);
    }
}

/// The child's side of a [`cgroup_gate`].
#[derive(Debug)]
struct GateWait(OwnedFd);

impl GateWait {
    /// Waits until this process is in its cgroups, limited.
    fn wait(&self) -> Result<(), String> {
        let mut byte = [0u8; 1];
        match nix::unistd::read(self.0.as_raw_fd(), &mut byte) {
            Ok(1) => Ok(()),
            _ => Err("the shim could not move the process into its cgroups".into()),
        }
    }
}

/// The builder's own checks of a spec it takes.
fn check_spec(spec: &Spec) -> Result<(), RemoteError> {
    if !spec.version().starts_with("1.") {
        return Err(invalid(format!(
            "ociVersion {}: only 1.x is supported",
            spec.version()
        )));
    }
    libcontainer::validator::Validator::validate_spec(spec).map_err(invalid)?;
    if let Some(mounts) = spec.mounts() {
        libcontainer::utils::validate_mount_options(mounts).map_err(invalid)?;
    }
    Ok(())
}

/// What the first process is given.
struct First<'a> {
    args: &'a ContainerArgs,
    /// Cgroups it moves itself into, first thing (see
    /// [`crate::cgroups::ready`]).
    joins: Option<CgroupEntry>,
    /// Passed once it is in its cgroups.
    joined: GateWait,
    makes_network: bool,
    /// Set when it makes its mount namespace itself.
    own_mounts: Option<OwnMounts<'a>>,
}

/// What the first process needs to make its mount namespace itself.
struct OwnMounts<'a> {
    /// The whole spec (libcontainer's init is given less).
    spec: &'a Spec,
    /// Its stdin, stdout and stderr, when they are not a terminal.
    stdio: Option<[std::os::fd::RawFd; 3]>,
    /// The socket its terminal's master is sent on, when it has one.
    console: Option<std::os::fd::RawFd>,
}

/// In the child, pid 1 of the container's new pid namespace: runs
/// [`init`]; a failure is reported on the channel before the child exits.
fn become_init(
    first: First<'_>,
    main_sender: &mut MainSender,
    init_receiver: &mut InitReceiver,
) -> ! {
    let result = run_child("the first process", || {
        init(&first, main_sender, init_receiver)
    });
    if let Err(e) = result {
        let _ = main_sender.exec_failed(e);
        exit_now(1)
    }
    exit_now(0)
}

/// What libcontainer's intermediate process does for the first process,
/// the mount namespace when it makes that itself, then libcontainer's
/// init, which returns only on failure.
fn init(
    first: &First<'_>,
    main_sender: &mut MainSender,
    init_receiver: &mut InitReceiver,
) -> Result<(), String> {
    let args = first.args;
    if let Some(joins) = &first.joins {
        joins.join()?;
    }
    let process = args.spec.process().as_ref().ok_or("no process")?;
    if let Some(score) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", score.to_string())
            .map_err(|e| format!("process.oomScoreAdj {score}: {e}"))?;
    }
    // Not dumpable, like the shim it is a copy of (see [`create`]): until
    // it execs it holds the shim's memory and descriptors, and nothing in
    // the container may open it through /proc.
    nix::sys::prctl::set_dumpable(false).map_err(|e| format!("dumpable: {e}"))?;
    let syscall = create_syscall();
    for rlimit in process.rlimits().iter().flatten() {
        syscall
            .set_rlimit(rlimit)
            .map_err(|e| format!("process.rlimits {:?}: {e}", rlimit.typ()))?;
    }
    if first.makes_network {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("making the network namespace: {e}"))?;
        crate::network::loopback_up_here().map_err(|e| format!("bringing up the loopback: {e}"))?;
    }
    // In its cgroups before its cgroup namespace is made (that namespace's
    // root is where the process is then) and before anything of the
    // container's runs.
    first.joined.wait()?;
    if let Some(own) = &first.own_mounts {
        // Where libcontainer's init sets up the stdio: before the
        // namespaces, so that the container's /dev/null can replace the
        // host's.
        for (fd, std) in own.stdio.iter().flatten().zip(0..) {
            nix::unistd::dup2(*fd, std).map_err(|e| format!("stdio: {e}"))?;
            nix::unistd::close(*fd).map_err(|e| format!("stdio: {e}"))?;
        }
        crate::mounts::prepare(own.spec, &args.rootfs, own.console)?;
    }
    libcontainer::process::init::container_init_process(args, main_sender, init_receiver)
        .map_err(|e| e.to_string())
}
