//! Terminals: receiving a pty master from the process that made it, and
//! resizing it.
//!
//! The pty is made inside the container, so that it belongs to the
//! container's devpts, and its master is sent back over a unix socket. For
//! libcontainer that is a socket we listen on before the process is
//! created; the connection waits in the backlog until the builder returns,
//! then it is accepted here. The shim's own exec path ([`crate::join`])
//! uses one end of a socket pair instead.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

/// A listening console socket, removed when dropped.
#[derive(Debug)]
pub struct ConsoleSocket {
    path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    pub fn listen(path: &Path) -> std::io::Result<Self> {
        let _ = std::fs::remove_file(path);
        // A unix socket's address holds 107 bytes, and an exec's socket
        // path (root, container id, exec id) can be longer: it is bound
        // through its directory's descriptor instead.
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(std::io::Error::other(format!(
                "console socket {}: not a file path",
                path.display()
            )));
        };
        let dir = std::fs::File::open(dir)?;
        let short = Path::new("/proc/self/fd")
            .join(dir.as_raw_fd().to_string())
            .join(name);
        Ok(ConsoleSocket {
            path: path.to_path_buf(),
            listener: UnixListener::bind(short)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the pty master libcontainer sent.
    pub fn receive_master(&self) -> std::io::Result<OwnedFd> {
        self.listener.set_nonblocking(true)?;
        let (conn, _) = self.listener.accept()?;
        conn.set_nonblocking(false)?;
        receive_fd(conn.as_fd())
    }
}

/// Takes the one descriptor (a pty master) sent on a connected unix
/// socket.
#[allow(unsafe_code)]
pub fn receive_fd(conn: BorrowedFd<'_>) -> std::io::Result<OwnedFd> {
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed `fd` in this process
                // for us (SCM_RIGHTS); nothing else owns it.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err(std::io::Error::other(
        "the console socket carried no descriptor",
    ))
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Makes `tty` (a terminal's slave) the controlling terminal of this
/// process's session; this process must lead the session. Succeeds when it
/// already is.
#[allow(unsafe_code)]
pub fn make_controlling(tty: BorrowedFd<'_>) -> std::io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal the
    // terminal from another session) and touches no memory of ours; `tty`
    // is an open descriptor.
    let rc = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSCTTY, 0) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sets a terminal's size (through its master, or its slave).
#[allow(unsafe_code)]
pub fn resize(tty: BorrowedFd<'_>, width: u16, height: u16) -> std::io::Result<()> {
    let size = libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which points
    // at a live, initialised value; `tty` is an open descriptor.
    let rc = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSWINSZ, &size) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
