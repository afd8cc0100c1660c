//! A container's files copied in and out (`docker cp`, the archive API),
//! as Docker's daemon does it: a path's stat, a tar of a path, a tar
//! extracted into a directory. The work is done by a helper process (the
//! daemon's own binary, run with [`HELPER_ARG`]) that takes the
//! container's filesystem for its root: a running container's mount
//! namespace, or a stopped one's layers (and volumes) mounted in a mount
//! namespace of its own. Every path then resolves inside the container,
//! symlinks included, as the container sees it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

pub mod helper;
mod tar;

pub use tar::{extract, write as write_tar};

/// The first argument that makes the daemon's binary the helper.
pub const HELPER_ARG: &str = "--archive-helper";

/// Where the helper finds the container's files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Target {
    /// A running container: its first process's mount namespace.
    Running { pid: i64 },
    /// A stopped one: its image's layers (top first) under its writable
    /// layer, and its volumes and binds (source, destination, writable),
    /// mounted at `scratch` in the helper's own mount namespace.
    Stopped {
        layers: Vec<PathBuf>,
        upper: PathBuf,
        work: PathBuf,
        mounts: Vec<(PathBuf, String, bool)>,
        scratch: PathBuf,
    },
}

/// What the helper does there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Op {
    /// The path's stat (JSON, one line).
    Stat { path: String },
    /// The stat line, then a tar of the path.
    Get { path: String },
    /// A tar on stdin extracted into the directory at the path.
    Put {
        path: String,
        no_overwrite_dir_non_dir: bool,
        copy_uid_gid: bool,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub target: Target,
    pub op: Op,
}

/// Docker's `ContainerPathStat` (its `mode` in Go's `os.FileMode` bits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    pub mode: u32,
    pub mtime: String,
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// How the helper says why it failed (its exit status).
pub(crate) const NOT_FOUND: i32 = 2;
pub(crate) const INVALID: i32 = 3;

/// A running helper: its stdin (for a put) and stdout.
#[derive(Debug)]
pub struct Helper {
    child: Child,
}

impl Helper {
    /// Starts the helper for `req`, from the daemon's own binary.
    pub fn start(req: &Request) -> Result<Helper> {
        let exe =
            std::env::current_exe().map_err(EngineError::io("finding the daemon's binary"))?;
        let arg = serde_json::to_string(req).map_err(|e| EngineError::Internal(e.to_string()))?;
        let child = Command::new(exe)
            .arg(HELPER_ARG)
            .arg(arg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(EngineError::io("starting the archive helper"))?;
        Ok(Helper { child })
    }

    /// The stat line the helper answers first (for a stat or a get), or
    /// its error.
    pub fn stat(&mut self) -> Result<(PathStat, BufReader<std::process::ChildStdout>)> {
        let out = self
            .child
            .stdout
            .take()
            .ok_or_else(|| EngineError::Internal("no helper output".into()))?;
        let mut out = BufReader::new(out);
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        match serde_json::from_str(&line) {
            Ok(stat) => Ok((stat, out)),
            Err(_) => Err(self.failure()),
        }
    }

    /// Feeds a tar to a put and waits for the helper's answer.
    pub fn put(mut self, mut tar: impl Read) -> Result<()> {
        if let Some(mut stdin) = self.child.stdin.take() {
            // A helper that refused early closes its end: its answer says why.
            let _ = std::io::copy(&mut tar, &mut stdin).and_then(|_| stdin.flush());
        }
        match self.child.wait() {
            Ok(s) if s.success() => Ok(()),
            _ => Err(self.failure()),
        }
    }

    /// The helper's error, from its status and its message.
    fn failure(&mut self) -> EngineError {
        let mut message = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut message);
        }
        let status = self.child.wait().ok().and_then(|s| s.code());
        let message = message.trim().to_string();
        match status {
            Some(NOT_FOUND) => EngineError::NotFound(message),
            Some(INVALID) => EngineError::InvalidParameter(message),
            _ => EngineError::Internal(format!("copying files of the container: {message}")),
        }
    }

    /// Waits for the helper after its output was read.
    pub fn finish(mut self) -> Result<()> {
        match self.child.wait() {
            Ok(s) if s.success() => Ok(()),
            _ => Err(self.failure()),
        }
    }
}

/// Go's `os.FileMode` of a Unix mode.
pub fn go_file_mode(mode: u32) -> u32 {
    let kind = mode & libc::S_IFMT;
    let mut out = mode & 0o777;
    out |= match kind {
        libc::S_IFDIR => 1 << 31,
        libc::S_IFLNK => 1 << 27,
        libc::S_IFBLK => 1 << 26,
        libc::S_IFCHR => (1 << 26) | (1 << 21),
        libc::S_IFIFO => 1 << 25,
        libc::S_IFSOCK => 1 << 24,
        _ => 0,
    };
    if mode & libc::S_ISUID != 0 {
        out |= 1 << 23;
    }
    if mode & libc::S_ISGID != 0 {
        out |= 1 << 22;
    }
    if mode & libc::S_ISVTX != 0 {
        out |= 1 << 20;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_gos() {
        assert_eq!(go_file_mode(libc::S_IFREG | 0o644), 0o644);
        assert_eq!(go_file_mode(libc::S_IFDIR | 0o755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(libc::S_IFLNK | 0o777), (1 << 27) | 0o777);
        assert_eq!(
            go_file_mode(libc::S_IFDIR | 0o1777),
            (1 << 31) | (1 << 20) | 0o777
        );
        assert_eq!(go_file_mode(libc::S_IFREG | 0o4755), (1 << 23) | 0o755);
    }
}
