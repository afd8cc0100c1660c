//! Pumping an attached process's stdio between this terminal and the shim.

use std::io::{self, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use std::path::Path;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::termios::{self, SetArg, Termios};
use vessel_runtime::{frame, ContainerDir, Request, ShimClient};

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
    let mut out = io::stdout();
    let mut err = io::stderr();
    loop {
        let (stream, data) = match frame::read_frame(&mut output) {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            // The shim closed the stream with input of ours still unread
            // (the process had exited): what it sent was read first.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        };
        if stream == frame::STDERR {
            err.write_all(&data)?;
            err.flush()?;
        } else {
            out.write_all(&data)?;
            out.flush()?;
        }
    }
    Ok(())
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
    if set.thread_block().is_err() {
        return;
    }
    let (root, id, process) = (root.to_path_buf(), id.to_string(), process.to_string());
    std::thread::spawn(move || loop {
        let Ok(sig) = set.wait() else { return };
        let request = if sig == Signal::SIGWINCH {
            match terminal_size().filter(|_| tty) {
                Some((width, height)) => Request::Resize {
                    process: process.clone(),
                    width,
                    height,
                },
                None => continue,
            }
        } else {
            Request::Signal {
                process: process.clone(),
                signal: sig as i32,
                all: false,
            }
        };
        let socket = ContainerDir::new(&root, &id).socket();
        if let Ok(mut client) = ShimClient::connect(&socket) {
            let _ = client.call(&request);
        }
    });
}
