//! A process the shim supervises: the container's first one or an exec,
//! with the ends of its stdio the shim holds.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use libcontainer::container::builder::ContainerBuilder;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::wait::WaitStatus;
use nix::unistd::{pipe2, Pid};
use vessel_runtime::logs::Stream;
use vessel_runtime::protocol::ExitStatus;
use vessel_runtime::record::now_rfc3339;

use crate::console::ConsoleSocket;

/// One output the shim reads: a pipe, or a terminal's master.
#[derive(Debug)]
pub struct Output {
    pub fd: OwnedFd,
    pub stream: Stream,
}

/// How long output is still read after its process exits (a child that
/// keeps the pipe open must not hold the exit back forever).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// A supervised process.
#[derive(Debug)]
pub struct Proc {
    pub id: String,
    pub pid: Option<Pid>,
    /// Where its stdin is written (a pipe, or the pty master).
    pub stdin: Option<OwnedFd>,
    pub outputs: Vec<Output>,
    /// The pty master, for resizing.
    pub pty: Option<OwnedFd>,
    pub exit: Option<ExitStatus>,
    /// Output still being drained after exit stops being waited for then.
    pub drain_deadline: Option<Instant>,
    /// Exit handled: logs flushed, waiters answered, streams closed.
    pub finished: bool,
    /// Connections waiting for the exit.
    pub waiters: Vec<usize>,
    /// Connections streaming its output.
    pub attached: Vec<usize>,
    /// Whether its output goes to the container log.
    pub logged: bool,
}

impl Proc {
    pub fn new(id: &str, logged: bool) -> Self {
        Proc {
            id: id.to_string(),
            pid: None,
            stdin: None,
            outputs: Vec::new(),
            pty: None,
            exit: None,
            drain_deadline: None,
            finished: false,
            waiters: Vec::new(),
            attached: Vec::new(),
            logged,
        }
    }

    /// Notes that the process exited with `exit`; its output is drained
    /// for at most [`DRAIN_GRACE`] more.
    pub fn exited(&mut self, exit: ExitStatus) {
        self.exit = Some(exit);
        self.drain_deadline = Some(Instant::now() + DRAIN_GRACE);
        self.stdin = None;
    }

    pub fn running(&self) -> bool {
        self.pid.is_some() && self.exit.is_none()
    }

    /// The process reads end-of-file on stdin. A terminal has no such end:
    /// closing our copy of its master would not reach the process.
    pub fn close_stdin(&mut self) {
        if self.pty.is_none() {
            self.stdin = None;
        }
    }

    /// Feeds the process's stdin; a failed write closes it.
    pub fn write_stdin(&mut self, mut data: &[u8]) {
        let Some(fd) = &self.stdin else { return };
        while !data.is_empty() {
            match nix::unistd::write(fd, data) {
                Ok(n) => data = &data[n..],
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => {
                    self.stdin = None;
                    return;
                }
            }
        }
    }
}

/// The child's ends of a process's stdio, handed to libcontainer.
#[derive(Debug)]
pub struct ChildStdio {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Pipes for a process without a terminal. Without `open_stdin` the child
/// reads /dev/null.
pub(crate) fn pipes(proc_: &mut Proc, open_stdin: bool) -> std::io::Result<ChildStdio> {
    let stdin = if open_stdin {
        let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
        proc_.stdin = Some(w);
        r
    } else {
        std::fs::File::open("/dev/null")?.into()
    };
    let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC)?;
    for (fd, stream) in [(out_r, Stream::Stdout), (err_r, Stream::Stderr)] {
        set_nonblocking(&fd)?;
        proc_.outputs.push(Output { fd, stream });
    }
    Ok(ChildStdio {
        stdin,
        stdout: out_w,
        stderr: err_w,
    })
}

/// Hands `builder` the stdio of the process `proc_` is about to be: a
/// terminal (libcontainer sends its master to a console socket listening
/// at `console`), or pipes. Returns the socket to take the master from
/// once the process exists.
pub fn wire_stdio(
    builder: ContainerBuilder,
    proc_: &mut Proc,
    console: Option<&Path>,
    open_stdin: bool,
) -> std::io::Result<(ContainerBuilder, Option<ConsoleSocket>)> {
    match console {
        Some(path) => {
            let socket = ConsoleSocket::listen(path)?;
            let builder = builder.with_console_socket(Some(socket.path()));
            Ok((builder, Some(socket)))
        }
        None => {
            let stdio = pipes(proc_, open_stdin)?;
            let builder = builder
                .with_stdin(stdio.stdin)
                .with_stdout(stdio.stdout)
                .with_stderr(stdio.stderr);
            Ok((builder, None))
        }
    }
}

/// After the process exists: takes its terminal's master, if it has one.
pub fn take_terminal(proc_: &mut Proc, console: Option<ConsoleSocket>) -> std::io::Result<()> {
    match console {
        Some(socket) => attach_pty(proc_, socket.receive_master()?),
        None => Ok(()),
    }
}

/// Takes a terminal's master: its output, its input and its size.
pub(crate) fn attach_pty(proc_: &mut Proc, master: OwnedFd) -> std::io::Result<()> {
    set_nonblocking(&master)?;
    proc_.stdin = Some(master.try_clone()?);
    proc_.outputs.push(Output {
        fd: master.try_clone()?,
        stream: Stream::Stdout,
    });
    proc_.pty = Some(master);
    Ok(())
}

pub fn set_nonblocking(fd: &OwnedFd) -> std::io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// How a wait status reads as an exit: 128+N for signal N.
pub fn exit_status(status: WaitStatus) -> Option<ExitStatus> {
    let (code, signal) = match status {
        WaitStatus::Exited(_, code) => (code, None),
        WaitStatus::Signaled(_, sig, _) => (128 + sig as i32, Some(sig as i32)),
        _ => return None,
    };
    Some(ExitStatus {
        code,
        signal,
        exited_at: now_rfc3339(),
        oom_killed: false,
    })
}
