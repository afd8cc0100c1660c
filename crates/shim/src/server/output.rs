//! The processes' output: read as it comes, written to the container's
//! log (the first process's) and to every attached connection, framed.

use std::os::fd::AsRawFd;

use vessel_runtime::frame;
use vessel_runtime::logs::Stream;

use super::{Server, MAX_PENDING};

impl Server {
    /// Reads output `index` of process `pid`; at its end, the stream's
    /// last line goes to the log.
    pub(super) fn on_output(&mut self, pid: &str, index: usize) {
        let Ok(p) = self.state.process_mut(pid) else {
            return;
        };
        let Some(out) = p.outputs.get(index) else {
            return;
        };
        let stream = out.stream;
        let mut buf = [0u8; 65536];
        let n = match nix::unistd::read(out.fd.as_raw_fd(), &mut buf) {
            Ok(n) => n,
            Err(nix::errno::Errno::EAGAIN) => return,
            // A pty master reads EIO once the last slave is closed.
            Err(_) => 0,
        };
        if n == 0 {
            p.outputs.remove(index);
            if p.logged {
                let _ = self.log.flush_stream(stream);
            }
            return;
        }
        self.deliver(pid, stream, &buf[..n]);
    }

    fn deliver(&mut self, pid: &str, stream: Stream, data: &[u8]) {
        let Ok(p) = self.state.process(pid) else {
            return;
        };
        let (logged, attached) = (p.logged, p.attached.clone());
        if logged {
            if let Err(e) = self.log.write(stream, data) {
                tracing::error!(error = %e, "cannot write the container log");
            }
        }
        let framed = frame::encode(
            if stream == Stream::Stdout {
                frame::STDOUT
            } else {
                frame::STDERR
            },
            data,
        );
        let foreground = self.foreground_conn();
        for id in attached {
            if let Some(conn) = self.conns.get_mut(&id) {
                if conn.outbuf.len() > MAX_PENDING && Some(id) != foreground {
                    tracing::warn!(container = %self.state.id, "an attached client fell behind; dropping it");
                    self.drop_conn(id);
                    continue;
                }
                conn.outbuf.extend_from_slice(&framed);
                self.flush_conn(id);
            }
        }
    }
}
