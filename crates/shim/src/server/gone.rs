//! A container removed under its shim. The shim's state directory holds
//! its socket, and the container's log directory is its owner's record of
//! it: once either is deleted or moved away by anyone but the shim, no
//! owner can reach the container again, and a shim left running would
//! keep it, its cgroups and its open log forever. The shim watches both
//! and, when one goes, removes the container as a forced delete does.
//!
//! A directory's own deletion is reported only once nothing pins it, and
//! the container's mounts (its rootfs under the state directory, its
//! /etc files from the log's directory) pin both. So the files are
//! watched too, the socket and the log, whose unlinking is reported at
//! once (as a change of their link count); the directories are watched
//! for a move. Whatever wakes the watch, the test is the same: the
//! container is gone when the path of its socket or of its log leads
//! nowhere.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use rustix::io::Errno;

use super::Server;
use crate::verbs;

/// An inotify descriptor watching the files the container needs and
/// their directories.
#[derive(Debug)]
pub struct Watch {
    fd: OwnedFd,
    files: Vec<PathBuf>,
}

impl Watch {
    /// Watches `files` for unlinking and their directories for a move.
    pub fn new(files: Vec<PathBuf>) -> io::Result<Watch> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
        for file in &files {
            inotify::add_watch(&fd, file, WatchFlags::ATTRIB | WatchFlags::DELETE_SELF)?;
            if let Some(dir) = file.parent() {
                inotify::add_watch(&fd, dir, WatchFlags::MOVE_SELF | WatchFlags::DELETE_SELF)?;
            }
        }
        Ok(Watch { fd, files })
    }

    /// Reads what is pending; whether a watched file is gone.
    fn went(&self) -> bool {
        let mut buf = [MaybeUninit::uninit(); 1024];
        let mut events = inotify::Reader::new(&self.fd, &mut buf);
        while let Ok(_) | Err(Errno::INTR) = events.next() {}
        self.files.iter().any(|f| {
            f.symlink_metadata()
                .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
        })
    }
}

impl AsFd for Watch {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Server {
    /// Watches the container's socket and log, if it keeps one (see the
    /// module's page).
    pub fn watch_for_removal(&mut self, log: Option<&Path>) {
        let files = std::iter::once(self.state.cdir.socket())
            .chain(log.map(Path::to_path_buf))
            .collect();
        match Watch::new(files) {
            Ok(w) => self.gone = Some(w),
            Err(e) => {
                tracing::warn!(container = %self.state.id, error = %e, "cannot watch the container's directories")
            }
        }
    }

    /// A watched directory changed: if it went, the container goes too.
    pub(super) fn on_gone(&mut self) {
        if !self.gone.as_ref().is_some_and(Watch::went) || self.state.done {
            return;
        }
        tracing::warn!(container = %self.state.id, "the container's directory was removed under its shim; removing the container");
        self.gone = None;
        // Nobody asked, so nobody is answered: the delete's reply goes
        // to a connection that never exists.
        let nobody = self.next_conn;
        self.next_conn += 1;
        match verbs::delete::delete(&mut self.state, nobody, true) {
            Ok(_) => {}
            Err(e) => {
                tracing::error!(container = %self.state.id, error = %e, "removing the container")
            }
        }
    }
}
