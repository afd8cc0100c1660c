//! The shim's event loop: one thread, one `poll(2)`.
//!
//! It waits on SIGCHLD (a signalfd; the signal was blocked before any child
//! existed, so no exit is missed), the control socket, every connection,
//! and every output of every process. The server owns the connections
//! (`conns`: requests read and dispatched to [`crate::verbs`], replies
//! written, attached streams) and the container's log; the verbs act on
//! the container's state ([`ShimState`]) and never see a connection.
//! Output goes to the log and to the attached connections (`output`);
//! an exit is recorded on disk at once and announced once the process's
//! output is drained (`exits`).

mod conns;
mod exits;
mod gone;
mod output;

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use vessel_runtime::launch::{Foreground, Start};
use vessel_runtime::logs::LogWriter;
use vessel_runtime::protocol::INIT;

use crate::shim_state::{ConnId, ShimState};
use crate::verbs::Feed;
use conns::{Conn, Mode};

/// An attached connection may fall this far behind before it is dropped.
const MAX_PENDING: usize = 4 << 20;

/// The container's supervision: its state, its log, and the shim's
/// control socket and connections.
#[derive(Debug)]
pub struct Server {
    state: ShimState,
    log: LogWriter,
    listener: UnixListener,
    sigfd: SignalFd,
    conns: BTreeMap<ConnId, Conn>,
    next_conn: ConnId,
    /// A foreground run's connection and what it asked for.
    foreground: Option<(ConnId, Foreground)>,
    /// The container's directories, watched for a removal under the shim.
    gone: Option<gone::Watch>,
}

#[derive(Debug, Clone)]
enum Source {
    Signal,
    Listener,
    Gone,
    Conn(ConnId),
    Output(String, usize),
}

impl Server {
    /// Supervises the container `state`, writing its log to `log`, taking
    /// connections on `listener` and reaping through `sigfd`.
    pub fn new(state: ShimState, log: LogWriter, listener: UnixListener, sigfd: SignalFd) -> Self {
        Server {
            state,
            log,
            listener,
            sigfd,
            conns: BTreeMap::new(),
            next_conn: 0,
            foreground: None,
            gone: None,
        }
    }

    /// Takes a foreground run's stream (see [`Foreground`]) as an attached
    /// connection of the first process.
    pub fn attach_foreground(&mut self, stream: UnixStream, fg: Foreground) {
        let id = self.add_conn(stream);
        let feed = Feed::asked(self.state.init.stdin.is_some(), false);
        self.attach_conn(id, INIT, feed);
        self.foreground = Some((id, fg));
    }

    /// Takes the stream a create that started the first process answered
    /// on (see [`vessel_runtime::launch::Start`]) as an attached
    /// connection of that process, feeding its stdin if `start` asks
    /// (and it has one).
    pub fn attach_first(&mut self, stream: UnixStream, start: Start) {
        let id = self.add_conn(stream);
        let stdin = start.stdin && self.state.init.stdin.is_some();
        self.attach_conn(id, INIT, Feed::asked(stdin, start.keep_stdin));
    }

    /// Runs until the container is deleted.
    pub fn run(mut self) {
        while !self.state.done {
            self.finish_exited();
            if self.state.done {
                break;
            }
            if let Err(e) = self.turn() {
                tracing::error!(error = %e, "poll failed");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // The delete has been answered; what is left is out of sight.
        if let Some(t) = self.state.tombstone.take() {
            t.remove();
        }
    }

    /// One wait for whatever is ready, and what it calls for.
    fn turn(&mut self) -> io::Result<()> {
        let ready = poll(&self.sources(), self.next_deadline())?;
        for (source, revents) in ready {
            match source {
                Source::Signal => self.reap(),
                Source::Listener => self.accept(),
                Source::Gone => self.on_gone(),
                Source::Conn(id) => self.on_conn(id, revents),
                Source::Output(pid, i) => self.on_output(&pid, i),
            }
        }
        if let Some(deadline) = self.state.kill_deadline {
            if Instant::now() >= deadline {
                self.state.kill_deadline = None;
                let init = &self.state.init;
                if let Some(pid) = init.pid.filter(|_| init.running()) {
                    tracing::info!(container = %self.state.id, "shutdown timed out, sending SIGKILL");
                    let _ = kill(pid, Signal::SIGKILL);
                }
            }
        }
        Ok(())
    }

    /// What the loop waits on, and for what.
    fn sources(&self) -> Vec<(Source, RawFd, i16)> {
        let mut sources = vec![
            (Source::Signal, self.sigfd.as_fd().as_raw_fd(), libc::POLLIN),
            (Source::Listener, self.listener.as_raw_fd(), libc::POLLIN),
        ];
        if let Some(gone) = &self.gone {
            sources.push((Source::Gone, gone.as_fd().as_raw_fd(), libc::POLLIN));
        }
        for (&id, conn) in &self.conns {
            let mut events = 0;
            let reading = match &conn.mode {
                Mode::Control => true,
                Mode::Attached { feed, .. } => *feed != Feed::No,
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
        for p in self.state.processes() {
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
        sources
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.state
            .processes()
            .filter(|p| !p.finished)
            .filter_map(|p| p.drain_deadline)
            .chain(self.state.kill_deadline)
            .min()
    }
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
