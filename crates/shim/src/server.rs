//! The shim's event loop: one thread, one `poll(2)`.
//!
//! It waits on SIGCHLD (a signalfd; the signal was blocked before any child
//! existed, so no exit is missed), the control socket, every connection,
//! and every output of every process. Output goes to the log and to the
//! attached connections; an exit is recorded on disk at once and announced
//! once the process's output is drained.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use libcontainer::container::Container;
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use vessel_runtime::bundle::RuntimeBundle;
use vessel_runtime::frame;
use vessel_runtime::launch::Foreground;
use vessel_runtime::logs::{LogWriter, Stream};
use vessel_runtime::protocol::{
    ContainerState, ErrorKind, RemoteError, Request, Response, Status, INIT,
};
use vessel_runtime::record::write_json;
use vessel_runtime::ContainerDir;

use crate::process::{exit_status, Proc};
use crate::verbs;

/// An attached connection may fall this far behind before it is dropped.
const MAX_PENDING: usize = 4 << 20;

/// What a verb answers.
#[derive(Debug)]
pub enum Reply {
    Now(Response),
    /// The verb keeps the connection and answers later.
    Later,
    /// Answer, then stream `process`'s output on the connection.
    Attach {
        response: Response,
        process: String,
        stdin: bool,
    },
}

impl From<RemoteError> for Reply {
    fn from(e: RemoteError) -> Self {
        Reply::Now(Response::Error(e))
    }
}

#[derive(Debug)]
enum Mode {
    Control,
    Attached { process: String, stdin: bool },
}

#[derive(Debug)]
struct Conn {
    stream: UnixStream,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    mode: Mode,
}

/// The container under supervision.
#[derive(Debug)]
pub struct Shim {
    pub id: String,
    pub cdir: ContainerDir,
    pub container: Container,
    pub bundle: RuntimeBundle,
    pub created: String,
    pub status: Status,
    pub init: Proc,
    pub execs: BTreeMap<String, Proc>,
    pub log: LogWriter,
    pub listener: UnixListener,
    pub sigfd: SignalFd,
    /// When the first process gets SIGKILL (a shutdown's timeout).
    pub kill_deadline: Option<Instant>,
    /// Connections answered when the first process has exited.
    pub shutdown_waiters: Vec<usize>,
    /// A delete that waits for the first process to exit.
    pub delete_waiter: Option<usize>,
    pub done: bool,
    /// The deleted container's state, removed once the delete is answered.
    pub tombstone: Option<crate::cleanup::Tombstone>,
    /// A foreground run's connection and what it asked for.
    foreground: Option<(usize, Foreground)>,
    conns: BTreeMap<usize, Conn>,
    next_conn: usize,
}

#[derive(Debug, Clone)]
enum Source {
    Signal,
    Listener,
    Conn(usize),
    Output(String, usize),
}

impl Shim {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        cdir: ContainerDir,
        container: Container,
        bundle: RuntimeBundle,
        created: String,
        init: Proc,
        log: LogWriter,
        listener: UnixListener,
        sigfd: SignalFd,
    ) -> Self {
        Shim {
            id,
            cdir,
            container,
            bundle,
            created,
            status: Status::Created,
            init,
            execs: BTreeMap::new(),
            log,
            listener,
            sigfd,
            kill_deadline: None,
            shutdown_waiters: Vec::new(),
            delete_waiter: None,
            done: false,
            tombstone: None,
            foreground: None,
            conns: BTreeMap::new(),
            next_conn: 0,
        }
    }

    /// The container's state as callers see it.
    pub fn state(&self) -> ContainerState {
        ContainerState {
            id: self.id.clone(),
            status: self.status,
            pid: if self.init.running() {
                self.init.pid.map_or(0, |p| p.as_raw())
            } else {
                0
            },
            bundle: self.bundle.source.display().to_string(),
            rootfs: self.bundle.rootfs.display().to_string(),
            created: self.created.clone(),
            exit: self.init.exit.clone(),
        }
    }

    /// Records the state on disk (for callers that find no shim).
    pub fn save_state(&self) {
        if let Err(e) = write_json(&self.cdir.state(), &self.state()) {
            tracing::error!(error = %e, "cannot record the container state");
        }
    }

    pub fn process(&self, id: &str) -> Result<&Proc, RemoteError> {
        if id == INIT {
            return Ok(&self.init);
        }
        self.execs
            .get(id)
            .ok_or_else(|| no_such_process(&self.id, id))
    }

    pub fn process_mut(&mut self, id: &str) -> Result<&mut Proc, RemoteError> {
        if id == INIT {
            return Ok(&mut self.init);
        }
        self.execs
            .get_mut(id)
            .ok_or_else(|| no_such_process(&self.id, id))
    }

    /// The first process and every exec.
    fn processes(&self) -> impl Iterator<Item = &Proc> {
        std::iter::once(&self.init).chain(self.execs.values())
    }

    fn processes_mut(&mut self) -> impl Iterator<Item = &mut Proc> {
        std::iter::once(&mut self.init).chain(self.execs.values_mut())
    }

    /// Runs until the container is deleted.
    pub fn run(mut self) {
        while !self.done {
            self.finish_exited();
            if self.done {
                break;
            }
            if let Err(e) = self.turn() {
                tracing::error!(error = %e, "poll failed");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // The delete has been answered; what is left is out of sight.
        if let Some(t) = self.tombstone.take() {
            t.remove();
        }
    }

    fn turn(&mut self) -> io::Result<()> {
        let mut sources = vec![
            (Source::Signal, self.sigfd.as_fd().as_raw_fd(), libc::POLLIN),
            (Source::Listener, self.listener.as_raw_fd(), libc::POLLIN),
        ];
        for (&id, conn) in &self.conns {
            let mut events = 0;
            let reading = match &conn.mode {
                Mode::Control => true,
                Mode::Attached { stdin, .. } => *stdin,
            };
            if reading {
                events |= libc::POLLIN;
            }
            if !conn.outbuf.is_empty() {
                events |= libc::POLLOUT;
            }
            sources.push((Source::Conn(id), conn.stream.as_raw_fd(), events));
        }
        // A foreground run's caller is never dropped for falling behind
        // (it would lose the exit status): the first process's output
        // waits in its pipe instead until the caller has caught up.
        let caller_behind = self
            .foreground_conn()
            .and_then(|conn| self.conns.get(&conn))
            .is_some_and(|c| c.outbuf.len() > MAX_PENDING);
        for p in self.processes() {
            if caller_behind && p.id == INIT {
                continue;
            }
            for (i, out) in p.outputs.iter().enumerate() {
                sources.push((
                    Source::Output(p.id.clone(), i),
                    out.fd.as_raw_fd(),
                    libc::POLLIN,
                ));
            }
        }
        let ready = poll(&sources, self.next_deadline())?;
        for (source, revents) in ready {
            match source {
                Source::Signal => self.reap(),
                Source::Listener => self.accept(),
                Source::Conn(id) => self.on_conn(id, revents),
                Source::Output(pid, i) => self.on_output(&pid, i),
            }
        }
        if let Some(deadline) = self.kill_deadline {
            if Instant::now() >= deadline {
                self.kill_deadline = None;
                if let Some(pid) = self.init.pid.filter(|_| self.init.running()) {
                    tracing::info!(container = %self.id, "shutdown timed out, sending SIGKILL");
                    let _ = kill(pid, Signal::SIGKILL);
                }
            }
        }
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.processes()
            .filter(|p| !p.finished)
            .filter_map(|p| p.drain_deadline)
            .chain(self.kill_deadline)
            .min()
    }

    /// Collects every exited child; SIGCHLD may stand for several.
    fn reap(&mut self) {
        while let Ok(Some(_)) = self.sigfd.read_signal() {}
        loop {
            let status = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(s) => s,
            };
            let (Some(pid), Some(exit)) = (status.pid(), exit_status(status)) else {
                continue;
            };
            if self.init.pid == Some(pid) && self.init.exit.is_none() {
                let mut exit = exit;
                exit.oom_killed = crate::cgroups::oom_kills(&self.bundle.cgroups_path) > 0;
                tracing::info!(container = %self.id, code = exit.code, oom_killed = exit.oom_killed, "container exited");
                self.init.exited(exit);
                self.status = Status::Stopped;
            } else if let Some(p) = self.execs.values_mut().find(|p| p.pid == Some(pid)) {
                tracing::info!(container = %self.id, exec = %p.id, code = exit.code, "exec exited");
                p.exited(exit);
            }
        }
    }

    /// Writes process `id`'s exit to disk (with the container's state, for
    /// the first process).
    fn record_exit(&self, id: &str, exit: &vessel_runtime::ExitStatus) {
        let record = match id {
            INIT => self.cdir.exit(),
            exec => self.cdir.exec_exit(exec),
        };
        if let Err(e) = write_json(&record, exit) {
            tracing::error!(process = %id, error = %e, "cannot record the exit");
        }
        if id == INIT {
            self.save_state();
        }
    }

    fn accept(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            self.add_conn(stream);
        }
    }

    fn add_conn(&mut self, stream: UnixStream) -> usize {
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

    /// Takes a foreground run's stream (see [`Foreground`]) as an attached
    /// connection of the first process.
    pub fn attach_foreground(&mut self, stream: UnixStream, fg: Foreground) {
        let id = self.add_conn(stream);
        let stdin = self.init.stdin.is_some();
        self.attach_conn(id, INIT, stdin);
        self.foreground = Some((id, fg));
    }

    /// Takes the stream a create that started the first process answered
    /// on (see [`vessel_runtime::launch::Start`]) as an attached
    /// connection of that process, feeding its stdin if `stdin` (and it
    /// has one).
    pub fn attach_first(&mut self, stream: UnixStream, stdin: bool) {
        let id = self.add_conn(stream);
        let stdin = stdin && self.init.stdin.is_some();
        self.attach_conn(id, INIT, stdin);
    }

    /// Streams `process`'s output on connection `id` from now on.
    fn attach_conn(&mut self, id: usize, process: &str, stdin: bool) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let _ = conn.stream.set_nonblocking(true);
        conn.mode = Mode::Attached {
            process: process.to_string(),
            stdin,
        };
        match self.process_mut(process) {
            Ok(p) if !p.finished => p.attached.push(id),
            _ => self.close_conn(id),
        }
    }

    fn on_conn(&mut self, id: usize, revents: i16) {
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
                while let Some(line) =
                    take_line(&mut self.conns.get_mut(&id).expect("present").inbuf)
                {
                    let reply = match serde_json::from_slice::<Request>(&line) {
                        Ok(req) => verbs::handle(self, id, req),
                        Err(e) => RemoteError::new(
                            ErrorKind::InvalidParameter,
                            format!("unreadable request: {e}"),
                        )
                        .into(),
                    };
                    self.reply(id, reply);
                    if !matches!(self.conns.get(&id).map(|c| &c.mode), Some(Mode::Control)) {
                        break;
                    }
                }
            }
            Mode::Attached { process, stdin } => {
                let process = process.clone();
                if n == 0 {
                    // The client is done sending: that is stdin's end.
                    let fed = std::mem::replace(stdin, false);
                    if let (true, Ok(p)) = (fed, self.process_mut(&process)) {
                        p.close_stdin();
                    }
                    // Gone altogether: nothing can reach it any more.
                    if revents & libc::POLLHUP != 0 {
                        self.drop_conn(id);
                    }
                    return;
                }
                if let Ok(p) = self.process_mut(&process) {
                    p.write_stdin(&buf[..n]);
                }
            }
        }
    }

    /// Sends a verb's answer on connection `id`.
    pub fn reply(&mut self, id: usize, reply: Reply) {
        let (response, attach) = match reply {
            Reply::Later => return,
            Reply::Now(r) => (r, None),
            Reply::Attach {
                response,
                process,
                stdin,
            } => (response, Some((process, stdin))),
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
        if let Some((process, stdin)) = attach {
            self.attach_conn(id, &process, stdin);
        }
    }

    fn on_output(&mut self, pid: &str, index: usize) {
        let Ok(p) = self.process_mut(pid) else { return };
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
        let Ok(p) = self.process(pid) else { return };
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
                    tracing::warn!(container = %self.id, "an attached client fell behind; dropping it");
                    self.drop_conn(id);
                    continue;
                }
                conn.outbuf.extend_from_slice(&framed);
                self.flush_conn(id);
            }
        }
    }

    fn flush_conn(&mut self, id: usize) {
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
    fn close_conn(&mut self, id: usize) {
        self.send_and_drop(id, Some(Duration::from_millis(500)));
    }

    /// Sends what is queued for connection `id`, waiting at most `limit`
    /// (`None`: as long as the client takes), then drops it.
    fn send_and_drop(&mut self, id: usize, limit: Option<Duration>) {
        if let Some(conn) = self.conns.get_mut(&id) {
            let _ = conn.stream.set_nonblocking(false);
            let _ = conn.stream.set_write_timeout(limit);
            let _ = conn.stream.write_all(&std::mem::take(&mut conn.outbuf));
            self.drop_conn(id);
        }
    }

    /// A foreground run's connection, while it is open.
    fn foreground_conn(&self) -> Option<usize> {
        self.foreground.map(|(conn, _)| conn)
    }

    fn drop_conn(&mut self, id: usize) {
        if self.conns.remove(&id).is_some() {
            for p in self.processes_mut() {
                p.waiters.retain(|&w| w != id);
                p.attached.retain(|&w| w != id);
            }
            self.shutdown_waiters.retain(|&w| w != id);
        }
    }

    /// Announces exits whose output is drained (or has had its time).
    fn finish_exited(&mut self) {
        let now = Instant::now();
        let ids: Vec<String> = self
            .processes()
            .filter(|p| {
                !p.finished
                    && p.exit.is_some()
                    && (p.outputs.is_empty() || p.drain_deadline.is_some_and(|d| now >= d))
            })
            .map(|p| p.id.clone())
            .collect();
        for id in ids {
            let p = self.process_mut(&id).expect("listed above");
            p.finished = true;
            let outputs = std::mem::take(&mut p.outputs);
            let waiters = std::mem::take(&mut p.waiters);
            let attached = std::mem::take(&mut p.attached);
            let exit = p.exit.clone().expect("exited");
            if p.logged {
                for out in &outputs {
                    let _ = self.log.flush_stream(out.stream);
                }
            }
            drop(outputs);
            let foreground = self.foreground_conn();
            for conn in attached.into_iter().filter(|&c| Some(c) != foreground) {
                self.close_conn(conn);
            }
            for conn in waiters {
                self.reply(conn, Reply::Now(Response::Exited(exit.clone())));
            }
            if id == INIT {
                for conn in std::mem::take(&mut self.shutdown_waiters) {
                    self.reply(conn, Reply::Now(Response::Exited(exit.clone())));
                }
                if let Some(conn) = self.delete_waiter.take() {
                    let reply = verbs::delete::finish(self);
                    self.reply(conn, reply);
                }
                if let Some((conn, fg)) = self.foreground.take() {
                    self.end_foreground(conn, fg, &exit);
                }
            }
            // On disk once it has been announced, so that no one waits for
            // the write (until then a crash of the shim, which loses the
            // container's supervision anyway, would lose it); not at all
            // if the container is gone.
            if !self.done {
                self.record_exit(&id, &exit);
            }
        }
    }

    /// Ends a foreground run once its first process has exited and its
    /// output is drained: deletes the container unless asked to keep it
    /// (the caller may have gone; the run still cleans up after itself),
    /// then sends the exit status and closes the stream.
    fn end_foreground(&mut self, conn: usize, fg: Foreground, exit: &vessel_runtime::ExitStatus) {
        if !fg.keep && !self.done {
            tracing::info!(container = %self.id, "foreground run over; deleting the container");
            verbs::delete::finish(self);
        }
        let status = serde_json::to_vec(exit).expect("exit statuses serialize");
        if let Some(c) = self.conns.get_mut(&conn) {
            c.outbuf
                .extend_from_slice(&frame::encode(frame::EXIT, &status));
        }
        // All of it, however long the caller takes to read it (a closed
        // caller fails the write at once): without the last frame the
        // caller has no exit status.
        self.send_and_drop(conn, None);
    }
}

fn no_such_process(container: &str, id: &str) -> RemoteError {
    RemoteError::new(
        ErrorKind::NotFound,
        format!("no process {id:?} in container {container}"),
    )
}

fn take_line(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let i = buf.iter().position(|&b| b == b'\n')?;
    let mut line: Vec<u8> = buf.drain(..=i).collect();
    line.pop();
    Some(line)
}

/// Waits for any of `sources`; returns the ready ones with their events.
#[allow(unsafe_code)]
fn poll<T: Clone>(
    sources: &[(T, RawFd, i16)],
    deadline: Option<Instant>,
) -> io::Result<Vec<(T, i16)>> {
    let mut fds: Vec<libc::pollfd> = sources
        .iter()
        .map(|(_, fd, events)| libc::pollfd {
            fd: *fd,
            events: *events,
            revents: 0,
        })
        .collect();
    let timeout = deadline.map_or(-1, |d| {
        let left = d.saturating_duration_since(Instant::now());
        i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(0) + 1
    });
    // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()`
    // pollfd structs for the duration of the call.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(Vec::new());
        }
        return Err(err);
    }
    Ok(fds
        .iter()
        .zip(sources)
        .filter(|(p, _)| p.revents != 0)
        .map(|(p, (s, _, _))| (s.clone(), p.revents))
        .collect())
}
