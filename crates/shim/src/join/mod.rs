//! Exec without libcontainer's tenant builder: the shim starts the process
//! inside the running container itself.
//!
//! libcontainer starts an exec the way it starts a container: it reloads
//! the container's state and spec from disk, builds a cgroup manager (on
//! cgroups v1 that re-reads /proc/self/mountinfo once per controller),
//! forks an intermediate process and then the process. The shim already
//! holds all of that, so for a process it can describe fully it does the
//! work with one fork, straight into the container's pid namespace. The
//! child moves itself into the container's cgroups (see
//! `cgroups::CgroupEntry`), enters its other namespaces through
//! the first process's pidfd, and then takes on the process's terminal,
//! user, capabilities and seccomp filter in libcontainer's order and with
//! libcontainer's own functions for those. Anything this path does not do
//! (a user or time namespace, AppArmor, SELinux, scheduling and I/O
//! priorities, CPU affinity, personality, seccomp notify) is left to
//! libcontainer: see [`Plan::new`].
//!
//! `plan` works out what the child needs, before the fork; this module
//! forks it and reads its report; `child` is the child's side.

mod child;
mod plan;

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

pub use plan::Plan;

use crate::cgroups::CgroupEntry;
use crate::child::{fork_into, run_child, ForkError, PidNamespace};
use crate::executor;
use crate::process::ChildStdio;
use crate::seccomp::Filter;

/// Why the process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("the container's first process is gone: {0}")]
    InitGone(Errno),
    #[error("{what}")]
    Os {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Fork(#[from] ForkError),
    #[error("the process ended while it was being set up")]
    Ended,
    /// What the child reported before it could run the command.
    #[error("{0}")]
    Setup(String),
}

impl JoinError {
    fn os(what: &'static str) -> impl FnOnce(Errno) -> Self {
        move |source| JoinError::Os {
            what,
            source: source.into(),
        }
    }
}

/// The child's stdio: pipes, or a terminal made inside the container
/// whose master comes back over a socket.
#[derive(Debug)]
pub enum Stdio {
    Pipes(ChildStdio),
    Terminal,
}

/// A started process.
#[derive(Debug)]
pub struct Started {
    pub pid: Pid,
    /// The terminal's master, when the process has one.
    pub master: Option<OwnedFd>,
}

/// Starts `plan`'s process in the container whose first process is `init`,
/// under the container's seccomp `filter`. Returns once the process is
/// about to run its command; a failure before that (joining, user,
/// capabilities, seccomp) is returned, and the child is reaped.
pub fn spawn(
    plan: &Plan,
    filter: Option<&Filter>,
    init: Pid,
    stdio: Stdio,
) -> Result<Started, JoinError> {
    let init_fd =
        rustix::process::Pid::from_raw(init.as_raw()).ok_or(JoinError::InitGone(Errno::ESRCH))?;
    let pidfd = rustix::process::pidfd_open(init_fd, rustix::process::PidfdFlags::empty())
        .map_err(|e| match Errno::from_raw(e.raw_os_error()) {
            Errno::ESRCH => JoinError::InitGone(Errno::ESRCH),
            other => JoinError::os("opening the first process's pidfd")(other),
        })?;
    let (report_r, report_w) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(JoinError::os("a pipe"))?;
    let cgroups = CgroupEntry::open(&plan.cgroups).map_err(|source| JoinError::Os {
        what: "opening the container's cgroups",
        source,
    })?;
    let console = match &stdio {
        Stdio::Terminal => Some(
            socketpair(
                AddressFamily::Unix,
                SockType::Stream,
                None,
                SockFlag::SOCK_CLOEXEC,
            )
            .map_err(JoinError::os("a console socket"))?,
        ),
        Stdio::Pipes(_) => None,
    };
    let target = match plan.pid_namespace {
        true => PidNamespace::Join(&pidfd),
        false => PidNamespace::Shim,
    };
    let Some(child) = fork_into(target)? else {
        // The child: never returns.
        drop(report_r);
        let console = console.map(|(_, child_end)| child_end);
        let result = run_child("the process", || {
            let Err(err) =
                child::become_process(plan, filter, &pidfd, stdio, console, &report_w, cgroups);
            Err(err)
        });
        if let Err(err) = result {
            let _ = nix::unistd::write(&report_w, crate::error::chain(&err).as_bytes());
        }
        executor::exit_now(1)
    };
    drop((report_w, cgroups));
    drop(stdio);
    // The child joins the cgroups, enters the namespaces and takes its
    // user, capabilities and seccomp filter on its own; a failure is in
    // its report.
    let console = console.map(|(parent_end, _)| parent_end);
    if let Err(e) = read_report(report_r) {
        let _ = waitpid(child, None);
        return Err(e);
    }
    let master = match console.map(|sock| crate::console::receive_fd(sock.as_fd())) {
        Some(Ok(master)) => Some(master),
        Some(Err(source)) => {
            // Not supervised without its terminal: it must not run on.
            let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(child, None);
            return Err(JoinError::Os {
                what: "receiving the terminal",
                source,
            });
        }
        None => None,
    };
    Ok(Started { pid: child, master })
}

/// The child's report: one zero byte when it is about to run the command,
/// or a message when it could not get there.
fn read_report(report: OwnedFd) -> Result<(), JoinError> {
    let mut file = std::fs::File::from(report);
    let mut first = [0u8; 1];
    loop {
        match file.read(&mut first) {
            Ok(0) => return Err(JoinError::Ended),
            Ok(_) if first[0] == 0 => return Ok(()),
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(JoinError::Os {
                    what: "reading the process's setup report",
                    source,
                })
            }
        }
    }
    let mut rest = Vec::new();
    let _ = file.read_to_end(&mut rest);
    let mut message = vec![first[0]];
    message.extend(rest);
    Err(JoinError::Setup(
        String::from_utf8_lossy(&message).into_owned(),
    ))
}
