//! Restore: reconciling the records on disk with the shims after an
//! engine (re)start.

use vessel_runtime::record::now_rfc3339;
use vessel_runtime::Status;

use super::{Daemon, Entry};
use crate::container::mounts::Kind;
use crate::container::Container;
use crate::error::{EngineError, Result};
use crate::volume::parse;

impl Daemon {
    /// Loads every container record and reconciles it with its task:
    /// running ones are watched again, ones that exited meanwhile get their
    /// real exit code and a "die" event, stale leftovers are removed.
    /// Returns the containers their restart policy starts again.
    pub(super) fn restore(&self) -> Result<Vec<String>> {
        let mut restarts = Vec::new();
        let entries = std::fs::read_dir(self.paths.containers())
            .map_err(EngineError::io("listing the containers"))?;
        for dir in entries.flatten() {
            let mut c = match Container::load(&dir.path()) {
                Ok(Some(c)) => c,
                Ok(None) => {
                    // A create that crashed before its first record was
                    // written (or, for an auto-remove container, reached
                    // the disk): with any task it may have left.
                    if let Some(id) = dir.file_name().to_str() {
                        if let Err(e) = self.runtime.delete(id) {
                            tracing::warn!(container = %id, error = %e, "removing the task of a container without a record");
                        }
                    }
                    let _ = std::fs::remove_dir_all(dir.path());
                    continue;
                }
                Err(e) => {
                    tracing::error!(dir = %dir.path().display(), error = %e, "skipping an unreadable container record");
                    continue;
                }
            };
            let id = c.id.clone();
            if c.mount_points.is_empty() {
                // A record made before volumes: its binds, read again.
                let binds = c.host_config.binds.iter().flatten();
                c.mount_points = binds.filter_map(|b| parse::bind(b).ok()).collect();
            }
            for p in c.mount_points.iter().filter(|p| p.kind == Kind::Volume) {
                self.volumes.reference(&p.name, &id);
                if c.state.running && !c.state.restarting {
                    self.volumes.adopt_mount(&p.name, &id);
                }
            }
            let auto_remove = c.auto_remove();
            let entry = Entry::new(c);
            self.table().insert(id.clone(), entry.clone());
            let mut c = entry.lock();
            if c.state.removal_in_progress {
                drop(c);
                if let Err(e) = self.finish_remove(&entry, auto_remove) {
                    tracing::error!(container = %id, error = %e, "finishing an interrupted removal");
                }
                continue;
            }
            if c.state.running {
                self.reconcile_running(&id, &mut c);
                if c.state.running {
                    // Its checks go on where they were.
                    self.start_health(&entry, &mut c, true);
                }
            } else {
                if let Err(e) = self.runtime.delete(&id) {
                    // No task should exist; remove one a crash left behind.
                    tracing::warn!(container = %id, error = %e, "removing a stale task");
                }
                self.release_shm(&c);
                self.release_network(&mut c);
            }
            // Docker removes every auto-remove container that is not
            // running when it restarts, one never started included.
            let remove = !c.state.running && c.auto_remove();
            if self.to_restart_at_boot(&c) {
                restarts.push(id.clone());
            }
            drop(c);
            if remove {
                let _ = self.remove(&id, true, true);
            }
        }
        // What a crash left of containers that do not run (their
        // sandboxes, with their veths), then the rules for those that do.
        let running: std::collections::HashSet<String> = self
            .table()
            .iter()
            .filter(|(_, e)| e.lock().state.running)
            .map(|(id, _)| id.clone())
            .collect();
        self.networks.sweep(&|id| running.contains(id));
        self.volumes.sweep_mounts();
        if let Err(e) = self.networks.sync() {
            tracing::error!(error = %e, "writing the engine's firewall rules");
        }
        Ok(restarts)
    }

    /// A container recorded as running: re-watched through its shim, or
    /// given the exit that happened while the engine was down; saved.
    fn reconcile_running(&self, id: &str, c: &mut Container) {
        if c.state.restarting {
            // Its restart was pending: it exited (reported then) and is
            // started again below, by its policy.
            if let Err(e) = self.runtime.delete(id) {
                tracing::warn!(container = %id, error = %e, "removing the task of a restarting container");
            }
            let (code, at, oom) = (
                c.state.exit_code,
                c.state.finished_at.clone(),
                c.state.oom_killed,
            );
            c.state.set_stopped(code, &at, oom);
            if let Err(e) = self.save(c) {
                tracing::error!(container = %id, error = %e, "saving a restored record");
            }
            return;
        }
        match self.runtime.restore(id) {
            Some(task) if matches!(task.status, Status::Running | Status::Paused) => {
                c.state
                    .set_restored(task.pid as i64, task.status == Status::Paused);
                let first = super::network::first_network(c);
                self.networks
                    .adopt(id, &c.network_settings, &first, self.upstream(c));
                tracing::info!(container = %id, "re-attached to a running container");
            }
            Some(task) => {
                let (code, at, oom_killed) = task
                    .exit
                    .map(|e| (e.code as i64, e.exited_at, e.oom_killed))
                    .unwrap_or((255, now_rfc3339(), false));
                self.exited(c, code, &at, oom_killed);
                tracing::info!(container = %id, code, "container exited while the engine was down");
                if let Err(e) = self.runtime.delete(id) {
                    tracing::warn!(container = %id, error = %e, "removing the task of a container that exited");
                }
            }
            None => {
                c.state.error = "the container's shim was gone when the engine restarted".into();
                self.exited(c, 255, &now_rfc3339(), false);
                if let Err(e) = self.runtime.delete(id) {
                    tracing::warn!(container = %id, error = %e, "removing what a lost shim left");
                }
            }
        }
        if let Err(e) = self.save(c) {
            tracing::error!(container = %id, error = %e, "saving a restored record");
        }
    }
}
