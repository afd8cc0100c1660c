//! A client's connection as the daemon can see it from its side: how much
//! of what it was sent the client has not read yet.
//!
//! A client that switches protocols (`101`) and then reads the raw socket
//! itself, not through the buffer its HTTP library read the response
//! headers with, loses whatever that buffer took beyond the headers. The
//! Docker SDK for Python does so for exec and attach streams, and an exec
//! here starts fast enough for its first output to arrive with the
//! headers. So a stream's first bytes wait until the client has read all
//! it was sent ([`Conn::wait_read`]): then they arrive in a read of their
//! own, as they do from dockerd, whose exec starts later.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A duplicate of a connection's socket, kept with its requests (in
/// their extensions) while the connection lasts.
#[derive(Debug, Clone)]
pub struct Conn(Arc<OwnedFd>);

impl Conn {
    pub fn of(stream: &tokio::net::UnixStream) -> std::io::Result<Conn> {
        Ok(Conn(Arc::new(stream.as_fd().try_clone_to_owned()?)))
    }

    /// How much of what was sent on the connection its client has not
    /// read: bytes, or for a unix socket the memory the kernel holds them
    /// in; 0 once all is read.
    #[allow(unsafe_code)]
    fn unread(&self) -> std::io::Result<usize> {
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (SIOCOUTQ) on a socket this value owns writes
        // one int, to a local that outlives the call.
        let rc = unsafe { libc::ioctl(self.0.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
        match rc {
            0 => Ok(usize::try_from(queued).unwrap_or(0)),
            _ => Err(std::io::Error::last_os_error()),
        }
    }

    /// Waits until the client has read everything sent to it so far (or
    /// `limit` has passed, or the connection cannot tell). Blocking: for
    /// a thread of its own.
    pub fn wait_read(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut tries = 0;
        while self.unread().is_ok_and(|n| n > 0) && Instant::now() < deadline {
            // A client reading right now is seen at once; one that is not
            // is not spun for.
            tries += 1;
            match tries {
                ..=50 => std::thread::yield_now(),
                _ => std::thread::sleep(Duration::from_micros(100)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn what_the_peer_has_not_read_is_counted_until_it_reads() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let ours = rt.block_on(async { tokio::net::UnixStream::from_std(ours).unwrap() });
        let conn = Conn::of(&ours).unwrap();
        assert_eq!(conn.unread().unwrap(), 0);
        let mut dup = std::os::unix::net::UnixStream::from(conn.0.try_clone().unwrap());
        dup.write_all(b"HTTP/1.1 101 UPGRADED\r\n\r\n").unwrap();
        // Counted as the kernel holds it (with its buffer's overhead).
        assert!(conn.unread().unwrap() >= 25);
        let mut buf = [0u8; 64];
        assert_eq!(theirs.read(&mut buf).unwrap(), 25);
        assert_eq!(conn.unread().unwrap(), 0);
        conn.wait_read(Duration::from_secs(5));
    }
}
