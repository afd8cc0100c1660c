//! Removal: `docker rm`, and taking a container's files out of the store.

use std::sync::Arc;
use std::time::Duration;

use vessel_runtime::record::now_rfc3339;

use super::{Daemon, Entry};
use crate::container::Verb;
use crate::error::{EngineError, Result};

/// The prefix of a removed container's directory in the scratch space.
pub(super) const REMOVED: &str = "removed-";

impl Daemon {
    /// `docker rm`: a running container needs `force` (it is killed);
    /// with `volumes` (`-v`) its anonymous volumes go too.
    pub fn remove(&self, name: &str, force: bool, volumes: bool) -> Result<()> {
        let entry = self.get(name)?;
        {
            let mut c = entry.lock();
            c.check(Verb::Remove { force })?;
            c.state.set_removing(true);
            if let Err(e) = self.save(&c) {
                c.state.set_removing(false);
                return Err(e);
            }
        }
        if entry.lock().state.running {
            let id = entry.lock().id.clone();
            let _ = self.kill(&id, Some("KILL"));
            if !self.wait_stopped(&entry, Some(Duration::from_secs(10))) {
                // The task will not report: remove it regardless.
                let _ = self.runtime.delete(&id);
            }
        }
        let (id, att) = {
            let c = entry.lock();
            (c.id.clone(), c.network_settings.clone())
        };
        self.finish_remove(&entry, volumes)?;
        // The veths the kernel is still tearing down go before the
        // answer: nothing of a removed container stays on the host. (A
        // `--rm` container's removal does not wait: its veth goes within
        // tens of milliseconds, off the path of `run --rm`.)
        self.networks.settle(&id, &att);
        Ok(())
    }

    /// Removes the container's task and files; with `volumes`, its
    /// anonymous volumes no other container uses.
    pub(super) fn finish_remove(&self, entry: &Arc<Entry>, volumes: bool) -> Result<()> {
        self.stop_health(entry);
        let mut c = entry.lock();
        if let Err(e) = self.runtime.delete(&c.id) {
            // Keep the container, so that removing it can be tried again.
            c.state.set_removing(false);
            let _ = self.save(&c);
            drop(c);
            entry.changed.notify_all();
            return Err(e);
        }
        if c.state.running {
            // Its exit was never reported (the task would not answer).
            self.exited(&mut c, 137, &now_rfc3339(), false);
        }
        c.state.set_dead();
        self.release_shm(&c);
        if let Err(e) = self.discard_dir(&c.id) {
            // Dead, and removable again: a later rm tries once more.
            c.state.set_removing(false);
            let _ = self.save(&c);
            drop(c);
            entry.changed.notify_all();
            return Err(EngineError::io("removing the container's files")(e));
        }
        self.release_volumes(&c, volumes);
        self.event(&c, "destroy", &[]);
        let id = c.id.clone();
        drop(c);
        self.take_pending_attach(&id);
        self.execs().retain(|_, e| e.container_id != id);
        self.table().remove(&id);
        self.removed.notify_all();
        entry.changed.notify_all();
        Ok(())
    }

    /// Takes a removed container's directory out of the store: renamed
    /// into the scratch directory at once, deleted there in the
    /// background (what a crash leaves there goes at the next start, see
    /// [`Daemon::open`]), at the lowest priority: the deletion is waited
    /// for by nobody, while the answer to the removal, a `run --rm`'s
    /// end, and the next container's start are.
    fn discard_dir(&self, id: &str) -> std::io::Result<()> {
        let trash = self.paths.tmp().join(format!("{REMOVED}{id}"));
        match std::fs::rename(self.dir(id), &trash) {
            Ok(()) => {
                std::thread::spawn(move || {
                    crate::runtime::shim::lowest_priority();
                    if let Err(e) = std::fs::remove_dir_all(&trash) {
                        tracing::warn!(dir = %trash.display(), error = %e, "deleting a removed container's files");
                    }
                });
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            // A leftover of the same name in the way: deleted in place.
            Err(_) => std::fs::remove_dir_all(self.dir(id)),
        }
    }
}
