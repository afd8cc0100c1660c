//! `docker wait`: blocking until a container stops, exits next, or is
//! removed.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Daemon, Entry};
use crate::error::Result;

/// What `wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl Daemon {
    /// Blocks until `condition`; returns the exit code.
    pub fn wait(&self, name: &str, condition: WaitCondition) -> Result<i64> {
        self.prepare_wait(name)?.wait(self, condition)
    }

    /// Fixes what `wait` compares against now (for `next-exit`: the runs
    /// ended so far), so that an exit right after this call is not missed
    /// however late the waiting starts.
    pub fn prepare_wait(&self, name: &str) -> Result<Waiter> {
        let entry = self.get(name)?;
        let seen = entry.ends.load(Ordering::SeqCst);
        Ok(Waiter { entry, seen })
    }
}

/// A `wait` whose starting point is fixed (see [`Daemon::prepare_wait`]).
#[derive(Debug)]
pub struct Waiter {
    entry: Arc<Entry>,
    seen: u64,
}

impl Waiter {
    /// Blocks until `condition`; returns the exit code.
    pub fn wait(self, d: &Daemon, condition: WaitCondition) -> Result<i64> {
        let entry = self.entry;
        let seen = self.seen;
        let mut c = entry.lock();
        let ends = || entry.ends.load(Ordering::SeqCst);
        let id = c.id.clone();
        match condition {
            WaitCondition::NotRunning => {
                while c.state.running && !c.state.dead {
                    c = c.wait(&entry.changed, None);
                }
                Ok(c.state.exit_code)
            }
            WaitCondition::NextExit => {
                // Until the current or next run has ended (or the container
                // is gone).
                while ends() == seen && !c.state.dead {
                    c = c.wait(&entry.changed, None);
                }
                Ok(c.state.exit_code)
            }
            WaitCondition::Removed => {
                drop(c);
                let mut table = d.table();
                while table.contains_key(&id) {
                    table = d.removed.wait(table).unwrap_or_else(|e| e.into_inner());
                }
                drop(table);
                let code = entry.lock().state.exit_code;
                Ok(code)
            }
        }
    }
}
