//! Exits: reaped as SIGCHLD comes, announced (waiters answered, attached
//! streams closed, a waiting delete finished, a foreground run ended) once
//! the process's output is drained, and recorded on disk after that.

use std::time::Instant;

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use vessel_runtime::frame;
use vessel_runtime::launch::Foreground;
use vessel_runtime::protocol::{ExitStatus, Response, Status, INIT};

use super::Server;
use crate::process::exit_status;
use crate::shim_state::ConnId;
use crate::verbs::{self, Reply};

impl Server {
    /// Collects every exited child; SIGCHLD may stand for several.
    pub(super) fn reap(&mut self) {
        while let Ok(Some(_)) = self.sigfd.read_signal() {}
        let state = &mut self.state;
        loop {
            let status = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(s) => s,
            };
            let (Some(pid), Some(exit)) = (status.pid(), exit_status(status)) else {
                continue;
            };
            if state.init.pid == Some(pid) && state.init.exit.is_none() {
                let mut exit = exit;
                exit.oom_killed = crate::cgroups::oom_kills(&state.bundle.cgroups_path) > 0;
                tracing::info!(container = %state.id, code = exit.code, oom_killed = exit.oom_killed, "container exited");
                state.init.exited(exit);
                state.status = Status::Stopped;
            } else if let Some(p) = state.execs.values_mut().find(|p| p.pid == Some(pid)) {
                tracing::info!(container = %state.id, exec = %p.id, code = exit.code, "exec exited");
                p.exited(exit);
            }
        }
    }

    /// Announces exits whose output is drained (or has had its time).
    pub(super) fn finish_exited(&mut self) {
        let now = Instant::now();
        let ids: Vec<String> = self
            .state
            .processes()
            .filter(|p| {
                !p.finished
                    && p.exit.is_some()
                    && (p.outputs.is_empty() || p.drain_deadline.is_some_and(|d| now >= d))
            })
            .map(|p| p.id.clone())
            .collect();
        for id in ids {
            self.finish(&id);
        }
    }

    /// Announces process `id`'s exit, then records it.
    fn finish(&mut self, id: &str) {
        let p = self.state.process_mut(id).expect("listed above");
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
            for conn in std::mem::take(&mut self.state.shutdown_waiters) {
                self.reply(conn, Reply::Now(Response::Exited(exit.clone())));
            }
            if let Some(conn) = self.state.delete_waiter.take() {
                let reply = verbs::delete::finish(&mut self.state);
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
        if !self.state.done {
            self.state.record_exit(id, &exit);
        }
    }

    /// Ends a foreground run once its first process has exited and its
    /// output is drained: deletes the container unless asked to keep it
    /// (the caller may have gone; the run still cleans up after itself),
    /// then sends the exit status and closes the stream.
    fn end_foreground(&mut self, conn: ConnId, fg: Foreground, exit: &ExitStatus) {
        if !fg.keep && !self.state.done {
            tracing::info!(container = %self.state.id, "foreground run over; deleting the container");
            verbs::delete::finish(&mut self.state);
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
