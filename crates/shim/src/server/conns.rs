//! The server's connections: control connections (a request per line, a
//! reply per line) and attached ones (a process's output out, its stdin
//! in).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use vessel_runtime::protocol::{RemoteError, Request, Response};

use super::Server;
use crate::error::ShimError;
use crate::shim_state::ConnId;
use crate::verbs::{self, Feed, Reply};

#[derive(Debug)]
pub(super) enum Mode {
    Control,
    Attached { process: String, feed: Feed },
}

#[derive(Debug)]
pub(super) struct Conn {
    pub(super) stream: UnixStream,
    inbuf: Vec<u8>,
    pub(super) outbuf: Vec<u8>,
    pub(super) mode: Mode,
}

impl Server {
    pub(super) fn accept(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            self.add_conn(stream);
        }
    }

    pub(super) fn add_conn(&mut self, stream: UnixStream) -> ConnId {
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            Conn {
                stream,
                inbuf: Vec::new(),
                outbuf: Vec::new(),
                mode: Mode::Control,
            },
        );
        id
    }

    /// Streams `process`'s output on connection `id` from now on.
    pub(super) fn attach_conn(&mut self, id: ConnId, process: &str, feed: Feed) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let _ = conn.stream.set_nonblocking(true);
        conn.mode = Mode::Attached {
            process: process.to_string(),
            feed,
        };
        match self.state.process_mut(process) {
            Ok(p) if !p.finished => p.attached.push(id),
            _ => self.close_conn(id),
        }
    }

    pub(super) fn on_conn(&mut self, id: ConnId, revents: i16) {
        if revents & libc::POLLOUT != 0 {
            self.flush_conn(id);
        }
        if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) == 0 {
            return;
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let mut buf = [0u8; 65536];
        let n = match conn.stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => 0,
        };
        match &mut conn.mode {
            Mode::Control if n == 0 => self.drop_conn(id),
            Mode::Control => {
                conn.inbuf.extend_from_slice(&buf[..n]);
                self.on_requests(id);
            }
            Mode::Attached { process, feed } => {
                let process = process.clone();
                if n == 0 {
                    // The client is done sending: that is stdin's end,
                    // unless the attach leaves it open.
                    let fed = std::mem::replace(feed, Feed::No);
                    if let (Feed::Closing, Ok(p)) = (fed, self.state.process_mut(&process)) {
                        p.close_stdin();
                    }
                    // Gone altogether: nothing can reach it any more.
                    if revents & libc::POLLHUP != 0 {
                        self.drop_conn(id);
                    }
                    return;
                }
                if let Ok(p) = self.state.process_mut(&process) {
                    p.write_stdin(&buf[..n]);
                }
            }
        }
    }

    /// Answers each whole request line connection `id` has sent, until it
    /// turns into an attached stream.
    fn on_requests(&mut self, id: ConnId) {
        while let Some(line) = self
            .conns
            .get_mut(&id)
            .and_then(|c| take_line(&mut c.inbuf))
        {
            let reply = serde_json::from_slice::<Request>(&line)
                .map_err(ShimError::UnreadableRequest)
                .and_then(|req| verbs::handle(&mut self.state, id, req))
                .unwrap_or_else(|e| Reply::Now(Response::Error(RemoteError::from(&e))));
            self.reply(id, reply);
            if !matches!(self.conns.get(&id).map(|c| &c.mode), Some(Mode::Control)) {
                break;
            }
        }
    }

    /// Sends a verb's answer on connection `id`.
    pub(super) fn reply(&mut self, id: ConnId, reply: Reply) {
        let (response, attach) = match reply {
            Reply::Later => return,
            Reply::Now(r) => (r, None),
            Reply::Attach {
                response,
                process,
                feed,
            } => (response, Some((process, feed))),
        };
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let mut line = serde_json::to_vec(&response).expect("responses serialize");
        line.push(b'\n');
        if conn.stream.write_all(&line).is_err() {
            self.drop_conn(id);
            return;
        }
        if let Some((process, feed)) = attach {
            self.attach_conn(id, &process, feed);
        }
    }

    pub(super) fn flush_conn(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        while !conn.outbuf.is_empty() {
            match conn.stream.write(&conn.outbuf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.outbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.drop_conn(id);
                    return;
                }
            }
        }
    }

    /// Closes a connection once what is queued for it has been sent, or
    /// has had a moment to go out: the loop does not block for long on a
    /// stuck client.
    pub(super) fn close_conn(&mut self, id: ConnId) {
        self.send_and_drop(id, Some(Duration::from_millis(500)));
    }

    /// Sends what is queued for connection `id`, waiting at most `limit`
    /// (`None`: as long as the client takes), then drops it.
    pub(super) fn send_and_drop(&mut self, id: ConnId, limit: Option<Duration>) {
        if let Some(conn) = self.conns.get_mut(&id) {
            let _ = conn.stream.set_nonblocking(false);
            let _ = conn.stream.set_write_timeout(limit);
            let _ = conn.stream.write_all(&std::mem::take(&mut conn.outbuf));
            self.drop_conn(id);
        }
    }

    /// A foreground run's connection, while it is open.
    pub(super) fn foreground_conn(&self) -> Option<ConnId> {
        self.foreground.map(|(conn, _)| conn)
    }

    pub(super) fn drop_conn(&mut self, id: ConnId) {
        if self.conns.remove(&id).is_some() {
            self.state.forget_conn(id);
        }
    }
}

fn take_line(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let i = buf.iter().position(|&b| b == b'\n')?;
    let mut line: Vec<u8> = buf.drain(..=i).collect();
    line.pop();
    Some(line)
}
