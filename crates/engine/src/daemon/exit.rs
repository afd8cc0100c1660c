//! Exits: what the engine does when a container's process ends.

use std::sync::atomic::Ordering;

use vessel_runtime::protocol::INIT;

use super::Daemon;
use crate::container::Container;
use crate::runtime::RuntimeEvent;

impl Daemon {
    /// Handles one event of a container's task (called in order, per
    /// container): an exec's exit, or the first process's (the task is
    /// deleted, the exit saved and reported, an auto-remove container
    /// removed).
    pub(super) fn process_event(&self, id: &str, event: RuntimeEvent) {
        let RuntimeEvent::Exit {
            process,
            code,
            exited_at,
            oom_killed,
        } = event;
        if process != INIT {
            self.exec_exited(id, &process, code as i64);
            return;
        }
        let Ok(entry) = self.get(id) else {
            return;
        };
        self.stop_health(&entry);
        let mut c = entry.lock();
        if !c.state.running {
            return;
        }
        if let Err(e) = self.runtime.delete(id) {
            tracing::warn!(container = %id, error = %e, "removing the task of an exited container");
        }
        let restart = self.restart_delay(&entry, &c, code as i64, &exited_at);
        self.exited(&mut c, code as i64, &exited_at, oom_killed);
        entry.ends.fetch_add(1, Ordering::SeqCst);
        if let Some(delay) = restart {
            c.restart_count += 1;
            c.state.set_restarting();
            if let Err(e) = self.save(&c) {
                tracing::error!(container = %id, error = %e, "saving the record of an exit");
            }
            drop(c);
            entry.changed.notify_all();
            self.restart_after(entry, delay);
            return;
        }
        let auto_remove = c.auto_remove() && !c.state.removal_in_progress;
        if auto_remove {
            // Removed at once, without saving the exit or the removal
            // first: an engine that restarts before the files are gone
            // finds a "running" record whose shim is gone, marks it exited
            // and removes it all the same (see restore).
            c.state.set_removing(true);
        } else if let Err(e) = self.save(&c) {
            tracing::error!(container = %id, error = %e, "saving the record of an exit");
        }
        drop(c);
        entry.changed.notify_all();
        if auto_remove {
            if let Err(e) = self.finish_remove(&entry, true) {
                tracing::error!(container = %id, error = %e, "removing an auto-remove container");
            }
        }
    }

    /// Marks `c` stopped with `code` and reports "die" (after "oom" when
    /// the OOM killer killed one of its processes, as Docker does).
    pub(super) fn exited(&self, c: &mut Container, code: i64, at: &str, oom_killed: bool) {
        c.state.set_stopped(code, at, oom_killed);
        self.release_shm(c);
        self.unmount_volumes(c);
        self.release_network(c);
        if oom_killed {
            self.event(c, "oom", &[]);
        }
        self.event(c, "die", &[("exitCode", code.to_string())]);
    }
}
