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
//! into them ([`super::gate`]). Only then does it make its other
//! namespaces and its mount namespace's contents (rootfs, devices, masked
//! and read-only paths; [`crate::mounts`], when the spec fits) and run
//! libcontainer's `container_init_process` for everything after that:
//! user, capabilities, seccomp, waiting for start, the executor
//! ([`super::first`]). (For a spec that does not fit, libcontainer's init
//! does the namespaces and mounts as well.)

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use libcontainer::config::YoukiConfig;
use libcontainer::container::{Container, ContainerStatus};
use libcontainer::notify_socket::{NotifyListener, NotifySocket, NOTIFY_FILE};
use libcontainer::process::args::ContainerArgs;
use libcontainer::process::channel::{self, InitReceiver, InitSender, MainReceiver, MainSender};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::args::ContainerArgsFor;
use super::first::{become_init, First, OwnMounts};
use super::gate::{adopt, cgroup_gate, cgroups_for, CgroupGate, GateWait};
use super::plan::Plan;
use super::{write_bundle, BootRequest, Created};
use crate::cgroups::ready::ReadyCgroups;
use crate::child::{fork_into, PidNamespace};
use crate::console::ConsoleSocket;
use crate::error::ShimError;
use crate::fallback::Unsupported;
use crate::process::{pipes, ChildStdio};
use crate::seccomp::Filter;

/// The spec itself is refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("ociVersion {0}: only 1.x is supported")]
    Version(String),
    #[error("no root")]
    NoRoot,
    #[error("root.path {}", .0.display())]
    Rootfs(PathBuf, #[source] std::io::Error),
    #[error("no linux")]
    NoLinux,
}

/// A first process forked and running libcontainer's init: the container
/// exists once [`OwnBoot::finish`] has seen it ready. Dropped before that,
/// the process is killed and reaped.
#[derive(Debug)]
pub(super) struct OwnBoot {
    first: FirstProcess,
    container: Container,
    /// libcontainer's state directory of the container.
    dir: PathBuf,
    spec: Rc<Spec>,
    start: bool,
    console: Option<ConsoleSocket>,
    makes_network: bool,
    mounts: Result<(), Unsupported>,
    /// The filter the first process loaded, kept for the execs.
    seccomp: Option<Filter>,
}

/// The first process, and the end of its channel the shim reads, while it
/// is being made: dropped before it is ready, it is killed and reaped.
struct FirstProcess {
    pid: Pid,
    main_receiver: MainReceiver,
    /// What libcontainer's init was given, its start listener with it:
    /// held until the process is ready, so that a start queued meanwhile
    /// goes through even if the process has died (the wait for it then
    /// reads its own failure).
    _args: ContainerArgs,
    /// Whether the process is the container's now (and not to be killed).
    ready: bool,
}

impl std::fmt::Debug for FirstProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstProcess")
            .field("pid", &self.pid)
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

impl Drop for FirstProcess {
    fn drop(&mut self) {
        let _ = self.main_receiver.close();
        if !self.ready {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = waitpid(self.pid, None);
        }
    }
}

/// The ends of the channels between the shim and the first process, made
/// before the fork.
struct Channels {
    main_sender: MainSender,
    main_receiver: MainReceiver,
    init_sender: InitSender,
    init_receiver: InitReceiver,
    gate: CgroupGate,
    joined: GateWait,
}

impl Channels {
    fn open() -> Result<Channels, ShimError> {
        let (main_sender, main_receiver) = channel::main_channel()
            .map_err(ShimError::internal("a channel to the first process"))?;
        let (init_sender, init_receiver) = channel::init_channel()
            .map_err(ShimError::internal("a channel to the first process"))?;
        // The first process makes what needs no cgroups, then waits here.
        let (gate, joined) =
            cgroup_gate().map_err(ShimError::internal("a pipe to the first process"))?;
        Ok(Channels {
            main_sender,
            main_receiver,
            init_sender,
            init_receiver,
            gate,
            joined,
        })
    }
}

/// The first process's stdio as it is given: pipes, or the socket its
/// terminal's master is sent on. The child's ends are kept open here until
/// it has forked.
struct Stdio {
    pipes: Option<ChildStdio>,
    console: Option<ConsoleSocket>,
    console_fd: Option<OwnedFd>,
}

impl Stdio {
    fn open(req: &mut BootRequest<'_>, dir: &Path) -> Result<Stdio, ShimError> {
        Ok(match req.console {
            Some(path) => {
                let socket = ConsoleSocket::listen(path)
                    .map_err(ShimError::internal("listening for the terminal"))?;
                let fd =
                    libcontainer::tty::setup_console_socket(dir, socket.path(), "console-socket")
                        .map_err(ShimError::internal("connecting the terminal socket"))?;
                Stdio {
                    pipes: None,
                    console: Some(socket),
                    console_fd: Some(fd),
                }
            }
            None => Stdio {
                pipes: Some(
                    pipes(req.init, req.open_stdin)
                        .map_err(ShimError::internal("setting up the stdio"))?,
                ),
                console: None,
                console_fd: None,
            },
        })
    }

    fn fds(&self) -> Option<[RawFd; 3]> {
        self.pipes.as_ref().map(|s| {
            [
                s.stdin.as_raw_fd(),
                s.stdout.as_raw_fd(),
                s.stderr.as_raw_fd(),
            ]
        })
    }
}

/// The rootfs as libcontainer's init takes it: absolute, without
/// symlinks.
fn rootfs(spec: &Spec) -> Result<PathBuf, ShimError> {
    let rootfs = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .ok_or_else(|| ShimError::create(SpecError::NoRoot))?;
    std::fs::canonicalize(&rootfs).map_err(|e| ShimError::create(SpecError::Rootfs(rootfs, e)))
}

/// libcontainer's state directory of the container, and its state in it,
/// `Creating`.
fn libcontainer_state(req: &BootRequest<'_>) -> Result<(PathBuf, Container), ShimError> {
    let dir = req.root.join(req.id);
    std::fs::create_dir_all(&dir).map_err(ShimError::internal("making libcontainer's state"))?;
    let container = Container::new(
        req.id,
        ContainerStatus::Creating,
        None,
        &req.bundle.dir,
        &dir,
    )
    .map_err(ShimError::internal("making libcontainer's state"))?;
    Ok((dir, container))
}

/// Forks the first process of `plan`'s container, as `req` describes it,
/// and sets up what it waits for: its cgroups, libcontainer's config and
/// the runtime bundle. Cgroups a spare shim made ahead become the
/// container's when they can: the first process is then forked inside
/// them, and waits only for their renaming and limits.
pub(super) fn create(plan: Plan, mut req: BootRequest<'_>) -> Result<OwnBoot, ShimError> {
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
    let rootfs = rootfs(&spec)?;
    let (dir, container) = libcontainer_state(&req)?;
    // As libcontainer's builder does: the shim, which holds the
    // container's descriptors and forks its processes (an exec's child
    // starts inside the container's pid namespace), is not dumpable, so
    // nothing in the container can open it through /proc.
    nix::sys::prctl::set_dumpable(false)
        .map_err(ShimError::internal("making the shim not dumpable"))?;
    let stdio = Stdio::open(&mut req, &dir)?;
    let notify_listener = NotifyListener::new(&dir.join(NOTIFY_FILE))
        .map_err(ShimError::internal("listening for the start"))?;
    let channels = Channels::open()?;
    // Ready cgroups that cannot be this container's are given up (the shim
    // leaves and removes them) before the fork.
    let mut ready_cgroups = req.ready_cgroups.take().filter(|r| r.fits(&cgroups_path));
    let first_joins = ready_cgroups
        .as_ref()
        .map(ReadyCgroups::first_joins)
        .transpose()
        .map_err(ShimError::internal("opening the container's cgroups"))?;
    let own_mounts = mounts.is_ok();
    // Loaded by the first process once its mounts are made, compiled (or
    // found compiled) here from the bundle's spec (the plan's has no
    // profile); where libcontainer's init mounts, it loads the spec's
    // filter itself, after them.
    let linux = req.bundle.spec.linux().as_ref();
    let seccomp = match linux.and_then(|l| l.seccomp().as_ref()) {
        Some(seccomp) if own_mounts => {
            Some(Filter::for_spec(seccomp, req.state_root).map_err(ShimError::create)?)
        }
        _ => None,
    };
    let cgroup_views = crate::cgroups::v1_views(&cgroups_path);
    let spec = Rc::new(spec);
    let args = ContainerArgsFor {
        id: req.id,
        spec: &spec,
        own_mounts,
        rootfs,
        container: &container,
        cgroups_path: &cgroups_path,
        stdio: stdio.fds(),
        console: stdio.console_fd.as_ref().map(AsRawFd::as_raw_fd),
    }
    .args(notify_listener)?;
    let first = |joined| First {
        args: &args,
        joins: first_joins,
        joined,
        makes_network,
        own_mounts: own_mounts.then_some(OwnMounts {
            spec: &spec,
            stdio: stdio.fds(),
            console: stdio.console_fd.as_ref().map(AsRawFd::as_raw_fd),
            seccomp: seccomp.as_ref(),
            cgroups: &cgroup_views,
        }),
    };
    let (pid, main_receiver, gate) = fork_first(channels, first)?;
    drop((stdio.pipes, stdio.console_fd));
    let mut booting = OwnBoot {
        first: FirstProcess {
            pid,
            main_receiver,
            _args: args,
            ready: false,
        },
        container,
        dir,
        spec,
        start: req.start,
        console: stdio.console,
        makes_network,
        mounts,
        seccomp,
    };
    booting.set_up(gate, ready_cgroups.as_mut(), &cgroups_path, req)?;
    Ok(booting)
}

/// Forks the first process, which runs `first` (given the gate it waits
/// at) and never returns. Returns its pid, the receiving end of its
/// channel and the shim's side of the gate; only the child holds the
/// sending ends then: if it dies before it is ready, the wait for it reads
/// end-of-file.
fn fork_first<'a>(
    channels: Channels,
    first: impl FnOnce(GateWait) -> First<'a>,
) -> Result<(Pid, MainReceiver, CgroupGate), ShimError> {
    let Channels {
        mut main_sender,
        main_receiver,
        init_sender,
        mut init_receiver,
        gate,
        joined,
    } = channels;
    // The channels' ends are plain descriptors, closed only by `close`.
    let pid = match fork_into(PidNamespace::New) {
        Ok(Some(pid)) => pid,
        Ok(None) => {
            // The child: the container's pid 1. Never returns.
            let _ = main_receiver.close();
            let _ = init_sender.close();
            drop(gate);
            become_init(first(joined), &mut main_sender, &mut init_receiver)
        }
        Err(e) => {
            let _ = (main_sender.close(), main_receiver.close());
            let _ = (init_sender.close(), init_receiver.close());
            return Err(ShimError::internal("starting the first process")(e));
        }
    };
    drop(joined);
    let _ = (
        main_sender.close(),
        init_sender.close(),
        init_receiver.close(),
    );
    Ok((pid, main_receiver, gate))
}

impl OwnBoot {
    /// While the first process makes its network namespace, the slowest
    /// of what it does alone, its cgroups are made, limited and joined
    /// from here (or, made ahead and the process born in them, renamed and
    /// limited); then it may go on. What it does not need (libcontainer's
    /// config, the runtime bundle) is written while it runs libcontainer's
    /// init.
    fn set_up(
        &mut self,
        gate: CgroupGate,
        ready_cgroups: Option<&mut ReadyCgroups>,
        cgroups_path: &Path,
        req: BootRequest<'_>,
    ) -> Result<(), ShimError> {
        let linux = self
            .spec
            .linux()
            .as_ref()
            .ok_or_else(|| ShimError::create(SpecError::NoLinux))?;
        match ready_cgroups {
            Some(ready) => adopt(ready, gate, cgroups_path, linux)?,
            None => cgroups_for(gate, self.first.pid, cgroups_path, linux)?,
        }
        YoukiConfig::from_spec(&self.spec, req.id)
            .and_then(|config| config.save(&self.dir))
            .map_err(ShimError::internal("saving libcontainer's config"))?;
        write_bundle(req.bundle)
    }

    /// Starts the process, when asked, without a round trip: the start is
    /// queued on its listener (a plan has no hooks, the only other thing
    /// libcontainer's start does), so it goes on to exec the moment it is
    /// ready instead of waiting for this process to read that and answer.
    /// Then waits until it is ready and saves libcontainer's state.
    pub(super) fn finish(mut self) -> Result<Created, ShimError> {
        if self.start {
            NotifySocket::new(self.dir.join(NOTIFY_FILE))
                .notify_container_start()
                .map_err(ShimError::internal("starting the container"))?;
        }
        self.first
            .main_receiver
            .wait_for_init_ready()
            .map_err(ShimError::create)?;
        let status = match self.start {
            true => ContainerStatus::Running,
            false => ContainerStatus::Created,
        };
        self.container
            .set_status(status)
            .set_creator(nix::unistd::geteuid().as_raw())
            .set_pid(self.first.pid.as_raw())
            .set_systemd(false)
            .set_annotations(self.spec.annotations().clone())
            .save()
            .map_err(ShimError::internal("saving libcontainer's state"))?;
        self.first.ready = true;
        Ok(Created {
            container: self.container,
            console: self.console,
            loopback_up: self.makes_network,
            started: self.start,
            through_builder: None,
            mounts_by_libcontainer: self.mounts.err(),
            seccomp: self.seccomp,
        })
    }
}

/// The builder's own checks of a spec it takes.
fn check_spec(spec: &Spec) -> Result<(), ShimError> {
    if !spec.version().starts_with("1.") {
        return Err(ShimError::create(SpecError::Version(
            spec.version().clone(),
        )));
    }
    libcontainer::validator::Validator::validate_spec(spec).map_err(ShimError::create)?;
    if let Some(mounts) = spec.mounts() {
        libcontainer::utils::validate_mount_options(mounts).map_err(ShimError::create)?;
    }
    Ok(())
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
