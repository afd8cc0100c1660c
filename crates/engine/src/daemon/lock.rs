//! One daemon per root: a lock on the state root and on the runtime root
//! (whose socket and shims it serves), taken before anything under them
//! is touched and held while it runs. A second vesseld given either root
//! refuses to start and leaves the first, and its socket, alone.
//!
//! The locks are POSIX record locks, which belong to the process: a
//! child the daemon has just forked, not yet past its `exec` (a spare
//! shim starts at the lowest priority, and on a busy host that moment
//! lasts), holds a copy of the descriptor but not the lock. A `flock`
//! would be held by that copy too, and a daemon restarted at once after
//! a crash found its root taken by its dead predecessor.

use std::io::{Read, Seek, Write};
use std::path::Path;

use rustix::fs::FlockOperation;

use crate::error::{EngineError, Result};
use crate::paths::Paths;

/// The locks, released when the daemon's process ends.
#[derive(Debug)]
pub(super) struct RootLocks(#[allow(dead_code)] Vec<std::fs::File>);

/// Takes the locks of `paths`' roots, or says which daemon holds them.
pub(super) fn lock_roots(paths: &Paths) -> Result<RootLocks> {
    let mut held = Vec::new();
    for root in [&paths.root, &paths.exec_root] {
        held.push(lock(root)?);
    }
    Ok(RootLocks(held))
}

fn lock(root: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(root)
        .map_err(EngineError::io(format!("creating {}", root.display())))?;
    let path = root.join("vesseld.lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(EngineError::io(format!("opening {}", path.display())))?;
    if rustix::fs::fcntl_lock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        return Err(EngineError::Conflict(format!(
            "{} is in use by another vesseld (pid {}): one daemon per root",
            root.display(),
            holder.trim()
        )));
    }
    // Ours now: who holds it, for the next one to read.
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    written.map_err(EngineError::io(format!("writing {}", path.display())))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether another process can take the lock on `file` now.
    fn free_for_another(file: &Path) -> bool {
        let probe = "import fcntl, sys\nf = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)";
        std::process::Command::new("python3")
            .args(["-c", probe])
            .arg(file)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("python3 runs")
            .success()
    }

    #[test]
    fn a_root_is_one_daemons_until_its_locks_go() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("lib"), dir.path().join("run"));
        let first = lock_roots(&paths).unwrap();
        let lock = dir.path().join("lib/vesseld.lock");
        assert!(!free_for_another(&lock));
        assert!(!free_for_another(&dir.path().join("run/vesseld.lock")));
        let holder = std::fs::read_to_string(&lock).unwrap();
        assert_eq!(holder.trim(), std::process::id().to_string());
        drop(first);
        assert!(free_for_another(&lock));
    }
}
