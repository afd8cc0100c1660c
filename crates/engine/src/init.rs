//! The init `--init` runs as a container's first process (the
//! `vessel-init` crate, built static by this crate's build script and
//! carried in the binary), installed once under the exec root and bound
//! read-only into each container that asks for it, where Docker binds its
//! docker-init.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The program, a static executable.
const PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vessel-init"));

/// Where a container sees it, as it sees Docker's.
pub const IN_CONTAINER: &str = "/sbin/docker-init";

/// Installs the program in `dir` (unless it is there already, the same)
/// and returns its path. Written whole under another name first: a
/// container never binds half of it.
pub fn install(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join("vessel-init");
    if std::fs::read(&path).is_ok_and(|b| b == PROGRAM) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".vessel-init.{}", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(PROGRAM)?;
            f.set_permissions(std::fs::Permissions::from_mode(0o755))
        })
        .and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map(|()| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_is_installed_once_and_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = install(dir.path()).unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(install(dir.path()).unwrap(), path);
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            modified
        );
        let out = std::process::Command::new(&path)
            .args(["--", "sh", "-c", "echo from the child; exit 7"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(7));
        assert_eq!(out.stdout, b"from the child\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
