//! Where the engine keeps its files.

use std::path::{Path, PathBuf};

/// Default state root: records, images, logs (survives reboots).
pub const DEFAULT_ROOT: &str = "/var/lib/vessel";
/// Default runtime root: sockets and the shims' state (gone at reboot).
pub const DEFAULT_EXEC_ROOT: &str = "/run/vessel";

#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    pub exec_root: PathBuf,
}

impl Paths {
    pub fn new(root: impl Into<PathBuf>, exec_root: impl Into<PathBuf>) -> Self {
        Paths {
            root: root.into(),
            exec_root: exec_root.into(),
        }
    }

    /// The image store.
    pub fn images(&self) -> PathBuf {
        self.root.join("image")
    }

    /// One directory per container: its record, bundle and log.
    pub fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }

    pub fn container(&self, id: &str) -> PathBuf {
        self.containers().join(id)
    }

    /// The volumes: a directory each, its data in `_data`.
    pub fn volumes(&self) -> PathBuf {
        self.root.join("volumes")
    }

    /// The shims' state (`vessel runtime --root`).
    pub fn runtime(&self) -> PathBuf {
        self.exec_root.join("runtime")
    }

    /// The API socket.
    pub fn socket(&self) -> PathBuf {
        self.exec_root.join("vessel.sock")
    }

    /// Scratch space on the same filesystem as the store (for atomic
    /// renames into it).
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

/// Deletes the entries of the scratch directory `tmp` whose names start
/// with `prefix`: what a crash left of work in progress there. Best
/// effort.
pub fn clear_scratch(tmp: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// `<dir>/config.v2.json`: the container's record.
pub fn record_file(container_dir: &Path) -> PathBuf {
    container_dir.join("config.v2.json")
}
