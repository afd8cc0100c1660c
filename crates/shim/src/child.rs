//! What the children the shim forks itself share: the container's first
//! process ([`crate::boot`]) and an exec ([`crate::join`]). Forking into a
//! pid namespace, running the child's setup so that neither a failure nor
//! a panic unwinds into the code it is a copy of, and the errors of that
//! setup, which the child reports to the shim as text (the only way
//! across; see [`crate::error::chain`]).

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use libcontainer::syscall::SyscallError;
use nix::sched::CloneFlags;
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid};
use oci_spec::runtime::PosixRlimitType;

use crate::cgroups::JoinCgroupError;
use crate::error::BoxError;
use crate::mounts::MountError;

/// Why a forked child could not get to its command; each names the spec
/// field or the step it was for.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error("{0} panicked while being set up")]
    Panicked(&'static str),
    #[error("dumpable")]
    Dumpable(#[source] nix::Error),
    #[error(transparent)]
    Cgroup(#[from] JoinCgroupError),
    #[error("the shim could not move the process into its cgroups")]
    NotMoved,
    #[error("no process")]
    NoProcess,
    #[error("process.oomScoreAdj {0}")]
    OomScoreAdj(i32, #[source] std::io::Error),
    #[error("process.rlimits {0:?}")]
    Rlimit(PosixRlimitType, #[source] SyscallError),
    #[error("making the network namespace")]
    NetworkNamespace(#[source] nix::Error),
    #[error("bringing up the loopback")]
    Loopback(#[source] std::io::Error),
    #[error("setsid")]
    Setsid(#[source] nix::Error),
    #[error("entering the container's namespaces")]
    Namespaces(#[source] nix::Error),
    #[error("stdio")]
    Stdio(#[source] nix::Error),
    #[error("terminal")]
    Terminal(#[source] BoxError),
    #[error("terminal: no console socket")]
    NoConsoleSocket,
    #[error(transparent)]
    Mounts(#[from] MountError),
    #[error("noNewPrivileges")]
    NoNewPrivileges(#[source] nix::Error),
    #[error("user.umask {0:o}: not a file mode")]
    Umask(u32),
    #[error("cwd {}", .0.display())]
    Cwd(PathBuf, #[source] nix::Error),
    #[error("cwd {}: outside the container", .0.display())]
    CwdOutside(PathBuf),
    #[error("user.additionalGids")]
    Groups(#[source] SyscallError),
    #[error("user {0}:{1}")]
    User(u32, u32, #[source] SyscallError),
    #[error("closing inherited descriptors")]
    CloseRange(#[source] SyscallError),
    #[error("capabilities")]
    Capabilities(#[source] BoxError),
    #[error("linux.seccomp")]
    Seccomp(#[source] BoxError),
    #[error("reporting")]
    Report(#[source] nix::Error),
    /// libcontainer's init, as it says it.
    #[error(transparent)]
    Init(BoxError),
}

/// The shim could not fork a child where it was to start.
#[derive(Debug, thiserror::Error)]
#[error("{step}")]
pub struct ForkError {
    step: &'static str,
    #[source]
    source: std::io::Error,
}

fn failed<E: Into<std::io::Error>>(step: &'static str) -> impl FnOnce(E) -> ForkError {
    move |e| ForkError {
        step,
        source: e.into(),
    }
}

/// The pid namespace a forked child starts in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PidNamespace<'a> {
    /// The shim's own.
    Shim,
    /// A running container's, through its first process's pidfd.
    Join(&'a OwnedFd),
    /// A new one, whose first process (pid 1) the child is.
    New,
}

/// Forks, the child starting in `target`. `None` in the child.
///
/// Entering or making a pid namespace only changes where the caller's
/// next children go, so the shim enters it, forks, and goes back: the
/// child is then the shim's own, in that pid namespace, and the shim reaps
/// it like any other.
#[allow(unsafe_code)]
pub(crate) fn fork_into(target: PidNamespace<'_>) -> Result<Option<Pid>, ForkError> {
    let own = match target {
        PidNamespace::Shim => None,
        PidNamespace::Join(_) | PidNamespace::New => Some(
            std::fs::File::open("/proc/self/ns/pid")
                .map_err(failed("opening the shim's pid namespace"))?,
        ),
    };
    match target {
        PidNamespace::Shim => {}
        PidNamespace::Join(pidfd) => nix::sched::setns(pidfd, CloneFlags::CLONE_NEWPID)
            .map_err(failed("entering the container's pid namespace"))?,
        PidNamespace::New => nix::sched::unshare(CloneFlags::CLONE_NEWPID)
            .map_err(failed("making a pid namespace"))?,
    }
    // SAFETY: the shim is single-threaded, so the child is a complete copy
    // of it; the child only sets itself up and then execs or `_exit`s.
    let forked = unsafe { nix::unistd::fork() };
    if let (Ok(ForkResult::Child), Some(_)) = (&forked, &own) {
        return Ok(None);
    }
    let left = match own {
        Some(own) => nix::sched::setns(own, CloneFlags::CLONE_NEWPID),
        None => Ok(()),
    };
    let child = match forked.map_err(failed("fork"))? {
        ForkResult::Child => return Ok(None),
        ForkResult::Parent { child } => child,
    };
    if let Err(e) = left {
        // Every later child would start in that namespace: this one does
        // not run, and the failure is loud.
        tracing::error!(error = %e, "could not go back to the shim's pid namespace");
        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
        let _ = waitpid(child, None);
        return Err(failed("going back to the shim's pid namespace")(e));
    }
    Ok(Some(child))
}

/// Runs a forked child's `work`. A panic must not unwind into the code
/// the child is a copy of: it is the child's error, naming `what`. The
/// child then leaves with [`crate::executor::exit_now`].
pub(crate) fn run_child(
    what: &'static str,
    work: impl FnOnce() -> Result<(), ChildError>,
) -> Result<(), ChildError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or(Err(ChildError::Panicked(what)))
}
