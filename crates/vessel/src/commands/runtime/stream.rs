//! Pumping an attached process's stdio between this terminal and the shim.

use std::io::{self, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};
use vessel_runtime::protocol::INIT;
use vessel_runtime::{frame, ContainerDir, ExitStatus, Request, ShimClient};

/// Copies our stdin to the process (EOF included) and its output to our
/// stdout and stderr, until the shim closes the stream.
pub fn pump(
    mut output: BufReader<UnixStream>,
    mut input: UnixStream,
    stdin: bool,
) -> io::Result<()> {
    if stdin {
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut our_stdin = io::stdin().lock();
            loop {
                match our_stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if input.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = input.shutdown(Shutdown::Write);
        });
    } else {
        let _ = input.shutdown(Shutdown::Write);
    }
    loop {
        let (stream, data) = match frame::read_frame(&mut output) {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            // The shim closed the stream with input of ours still unread
            // (the process had exited): what it sent was read first.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        };
        show(stream, &data)?;
    }
    Ok(())
}

/// Writes one frame's output to our stderr or stdout, as it came.
fn show(stream: u8, data: &[u8]) -> io::Result<()> {
    if stream == frame::STDERR {
        let mut err = io::stderr();
        err.write_all(data)?;
        err.flush()
    } else {
        let mut out = io::stdout();
        out.write_all(data)?;
        out.flush()
    }
}

/// Follows a foreground run (see [`vessel_runtime::launch::Foreground`])
/// from this one thread until the shim sends the first process's exit
/// status: our stdin goes to the process (its end too), the process's
/// output to our stdout and stderr, and the signals a user sends us
/// (Ctrl-C, `kill`, terminal size changes) to the process through its shim.
pub fn follow_run(
    stream: BufReader<UnixStream>,
    root: &Path,
    id: &str,
    tty: bool,
) -> anyhow::Result<ExitStatus> {
    let signals = SignalFd::with_flags(&block_forwarded()?, SfdFlags::SFD_CLOEXEC)?;
    let mut pending = stream.buffer().to_vec();
    let mut socket = stream.into_inner();
    let mut stdin_open = true;
    let mut buf = vec![0u8; 65536];
    loop {
        while let Some((stream, data)) = take_frame(&mut pending) {
            match stream {
                frame::EXIT => return Ok(serde_json::from_slice(&data)?),
                _ => show(stream, &data)?,
            }
        }
        let stdin = io::stdin();
        let mut fds = vec![
            PollFd::new(socket.as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            r => r?,
        };
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        if ready[0] {
            match socket.read(&mut buf)? {
                0 => anyhow::bail!("the shim ended the run without the container's exit status"),
                n => pending.extend_from_slice(&buf[..n]),
            }
        }
        if ready[1] {
            if let Ok(Some(info)) = signals.read_signal() {
                forward(root, id, INIT, info.ssi_signo as i32, tty);
            }
        }
        if ready.get(2) == Some(&true) {
            let n = stdin.lock().read(&mut buf).unwrap_or(0);
            if n == 0 || socket.write_all(&buf[..n]).is_err() {
                let _ = socket.shutdown(Shutdown::Write);
                stdin_open = false;
            }
        }
    }
}

/// The next whole frame at the front of `pending`, taken off it.
fn take_frame(pending: &mut Vec<u8>) -> Option<(u8, Vec<u8>)> {
    let header: [u8; 8] = pending.get(..8)?.try_into().ok()?;
    let (stream, len) = frame::decode_header(&header);
    if pending.len() < 8 + len {
        return None;
    }
    let data = pending[8..8 + len].to_vec();
    pending.drain(..8 + len);
    Some((stream, data))
}

/// The signals a user sends an attached caller, blocked (to be read from
/// a signalfd, or waited for).
fn block_forwarded() -> nix::Result<SigSet> {
    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
    ] {
        set.add(sig);
    }
    set.thread_block()?;
    Ok(set)
}

/// Passes signal `signo` on to `process` of container `id`; a terminal
/// size change goes to its terminal.
fn forward(root: &Path, id: &str, process: &str, signo: i32, tty: bool) {
    let request = if signo == Signal::SIGWINCH as i32 {
        match terminal_size().filter(|_| tty) {
            Some((width, height)) => Request::Resize {
                process: process.into(),
                width,
                height,
            },
            None => return,
        }
    } else {
        Request::Signal {
            process: process.into(),
            signal: signo,
            all: false,
        }
    };
    if let Ok(mut client) = ShimClient::connect(&ContainerDir::new(root, id).socket()) {
        let _ = client.call(&request);
    }
}

/// Our terminal in raw mode while a container's terminal is attached;
/// restored when dropped.
pub struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    /// Puts stdin in raw mode if it is a terminal.
    pub fn enter() -> Option<RawTerminal> {
        let stdin = io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// Our terminal's size as (width, height), if stdout is a terminal.
pub fn terminal_size() -> Option<(u16, u16)> {
    let (w, h) = terminal_size::terminal_size_of(io::stdout())?;
    Some((w.0, h.0))
}

/// Forwards the signals a user sends this process (Ctrl-C, `kill`) to the
/// container's process, and terminal size changes to its terminal. Called
/// before any other thread exists, so every thread inherits the mask.
pub fn forward_signals(root: &Path, id: &str, process: &str, tty: bool) {
    let Ok(set) = block_forwarded() else { return };
    let (root, id, process) = (root.to_path_buf(), id.to_string(), process.to_string());
    std::thread::spawn(move || {
        while let Ok(sig) = set.wait() {
            forward(&root, &id, &process, sig as i32, tty);
        }
    });
}
