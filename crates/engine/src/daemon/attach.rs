//! `docker attach`: the first process's streams, now or at its next
//! start.

use std::path::PathBuf;

use vessel_runtime::protocol::INIT;

use super::{Daemon, PendingAttach, Streams};
use crate::error::Result;

impl Daemon {
    /// Removes (and returns) the attaches waiting for `id`'s next start;
    /// dropping one ends its client's stream.
    pub(super) fn take_pending_attach(&self, id: &str) -> Vec<PendingAttach> {
        self.pending_attach
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .unwrap_or_default()
    }

    /// Attaches to the first process: at once when the container runs,
    /// else when it next starts. Returns where the streams will arrive,
    /// and whether the container has a terminal.
    /// The log an attach with `logs` replays: its file (none when the
    /// container keeps no log), and whether the container has a terminal.
    pub fn attach_log(&self, name: &str) -> Result<(Option<PathBuf>, bool)> {
        let entry = self.get(name)?;
        let c = entry.lock();
        Ok((c.logs().then(|| PathBuf::from(&c.log_path)), c.tty()))
    }

    pub fn attach(&self, name: &str, stdin: bool) -> Result<Attached> {
        let entry = self.get(name)?;
        let c = entry.lock();
        let (tx, rx) = std::sync::mpsc::channel();
        let keep_stdin = !c.attach_closes_stdin();
        if c.state.running {
            let _ = tx.send(self.runtime.attach(&c.id, INIT, stdin, keep_stdin)?);
        } else {
            self.pending_attach
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(c.id.clone())
                .or_default()
                .push(PendingAttach { stdin, to: tx });
        }
        Ok(Attached {
            streams: rx,
            tty: c.tty(),
            closes_stdin: c.attach_closes_stdin(),
        })
    }
}

/// An attach to a container's first process.
#[derive(Debug)]
pub struct Attached {
    /// Where the streams arrive: at once, or at the next start.
    pub streams: std::sync::mpsc::Receiver<Streams>,
    /// Whether the process has a terminal.
    pub tty: bool,
    /// Whether the end of the client's input closes the process's stdin
    /// (else it ends the attach; see
    /// [`crate::container::Container::attach_closes_stdin`]).
    pub closes_stdin: bool,
}
