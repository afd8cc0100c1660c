//! Pumping an attached process's stdio between this terminal and the shim.

use std::io::{self, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use nix::sys::termios::{self, SetArg, Termios};
use vessel_runtime::frame;

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
    while let Some((stream, data)) = frame::read_frame(&mut output)? {
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
