//! One daemon per root: a lock on the state root and on the runtime root
//! (whose socket and shims it serves), taken before anything under them
//! is touched and held while it runs. A second vesseld given either root
//! refuses to start and leaves the first, and its socket, alone.

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
    if rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
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

    #[test]
    fn a_root_is_one_daemons_until_its_locks_go() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("lib"), dir.path().join("run"));
        let first = lock_roots(&paths).unwrap();
        let e = lock_roots(&paths).unwrap_err().to_string();
        assert!(e.contains("in use by another vesseld"), "{e}");
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        // Another state root on the same runtime root is refused too.
        let other = Paths::new(dir.path().join("lib2"), dir.path().join("run"));
        assert!(lock_roots(&other).is_err());
        drop(first);
        assert!(lock_roots(&paths).is_ok());
    }
}
