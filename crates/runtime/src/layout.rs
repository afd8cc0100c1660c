//! Where a container's files live under the runtime's state root.
//!
//! ```text
//! <root>/<id>/
//!   shim.sock      the shim's control socket
//!   shim.pid       the shim's PID
//!   state.json     the container record (bundle, pid, created)
//!   exit.json      how the first process ended (written once, atomically)
//!   execs/<x>.json how exec <x> ended
//!   container.log  stdout and stderr, one JSON object per line
//!   shim.log       the shim's own log
//!   bundle/        the bundle libcontainer runs (our copy of config.json)
//!   rootfs/        the overlay mount point, when the rootfs is layered
//!   upper/ work/   the container's writable layer
//!   libcontainer/  libcontainer's own state
//! <root>/.seccomp/<key>.bpf
//!                  a seccomp filter compiled once for every container
//!                  whose spec has that profile (the shim's `seccomp`)
//! ```

use std::path::{Path, PathBuf};

/// The default state root of `vessel runtime`.
pub const DEFAULT_ROOT: &str = "/run/vessel/runtime";

/// The files of one container.
#[derive(Debug, Clone)]
pub struct ContainerDir {
    dir: PathBuf,
}

impl ContainerDir {
    pub fn new(root: &Path, id: &str) -> Self {
        ContainerDir { dir: root.join(id) }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("shim.sock")
    }

    pub fn shim_pid(&self) -> PathBuf {
        self.dir.join("shim.pid")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub fn exit(&self) -> PathBuf {
        self.dir.join("exit.json")
    }

    pub fn exec_exit(&self, exec_id: &str) -> PathBuf {
        self.dir.join("execs").join(format!("{exec_id}.json"))
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("container.log")
    }

    pub fn shim_log(&self) -> PathBuf {
        self.dir.join("shim.log")
    }

    pub fn bundle(&self) -> PathBuf {
        self.dir.join("bundle")
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    pub fn console_socket(&self) -> PathBuf {
        self.dir.join("console.sock")
    }

    pub fn libcontainer_root(&self) -> PathBuf {
        self.dir.join("libcontainer")
    }
}

/// A container or exec ID that cannot name a directory and a cgroup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "container id {id:?} must be 1-128 letters, digits, '_', '-' or '.', not starting with '.'"
)]
pub struct InvalidId {
    pub id: String,
}

/// Checks a container ID: it names a directory and a cgroup, so it is kept
/// to letters, digits, `_`, `-` and `.`, not starting with a dot.
pub fn validate_id(id: &str) -> Result<(), InvalidId> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(InvalidId { id: id.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::validate_id;

    #[test]
    fn ids_are_safe_path_and_cgroup_names() {
        for ok in ["a", "web-1", "x_y.z", "0123"] {
            assert!(validate_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", ".hidden", &"x".repeat(129)] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }
}
