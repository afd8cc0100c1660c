//! Records on disk, written atomically: a crash leaves the old file or the
//! new one, never half of one.
//!
//! Atomicity (write a temporary, rename it over) protects against a crash
//! of the writing process. Against a crash of the machine, a record must
//! also be synced; records under the runtime root (`/run`, gone at reboot
//! anyway) skip that, records meant to outlive a reboot do not.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// How far a record must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A crash of the writer: rename only.
    ProcessCrash,
    /// A crash of the machine: fsync the file, rename, fsync the directory.
    MachineCrash,
}

/// Writes `bytes` to `path` through a temporary file and a rename. On
/// failure `path` is as it was and the temporary is removed.
pub fn write_atomic(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("record")
    ));
    let written = File::create(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        if durability == Durability::MachineCrash {
            file.sync_all()?;
        }
        drop(file);
        fs::rename(&tmp, path)
    });
    if let Err(e) = written {
        // A full disk, say: the old record stays, and no half of the new.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if durability == Durability::MachineCrash {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Serializes `value` as JSON into `path`, atomically, for the runtime root
/// (see [`Durability::ProcessCrash`]).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    write_json_with(path, value, Durability::ProcessCrash)
}

/// Serializes `value` as JSON into `path`, atomically, as durable as asked.
pub fn write_json_with<T: Serialize>(
    path: &Path,
    value: &T,
    durability: Durability,
) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_atomic(path, &bytes, durability)
}

/// Reads a JSON record; `Ok(None)` if the file does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Now, as RFC 3339 with nanoseconds in UTC (what Docker's logs use).
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_json(&path, &vec![1, 2]).unwrap();
        write_json_with(&path, &vec![3], Durability::MachineCrash).unwrap();
        assert_eq!(read_json::<Vec<i32>>(&path).unwrap(), Some(vec![3]));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["r.json"]);
        assert_eq!(
            read_json::<Vec<i32>>(&dir.path().join("none")).unwrap(),
            None
        );
    }

    /// On a full filesystem (a 64 KiB tmpfs; needs root, as the suite
    /// does) the old record stays whole and no temporary is left.
    #[test]
    fn a_write_that_fails_leaves_the_old_record_and_nothing_else() {
        use rustix::mount::{mount, unmount, MountFlags, UnmountFlags};
        let dir = tempfile::tempdir().unwrap();
        mount(
            "tmpfs",
            dir.path(),
            "tmpfs",
            MountFlags::empty(),
            Some(c"size=64k"),
        )
        .unwrap();
        let path = dir.path().join("r.json");
        write_json(&path, &"old").unwrap();
        let big = "x".repeat(1 << 20);
        let full = write_json(&path, &big).unwrap_err();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let old = read_json::<String>(&path);
        unmount(dir.path(), UnmountFlags::DETACH).unwrap();
        assert_eq!(full.raw_os_error(), Some(28), "{full}");
        assert_eq!(names, ["r.json"]);
        assert_eq!(old.unwrap().as_deref(), Some("old"));
    }

    #[test]
    fn timestamps_have_nanoseconds() {
        let t = now_rfc3339();
        // 2026-11-23T11:21:28.123456789Z
        assert_eq!(t.len(), 30, "{t}");
        assert!(t.ends_with('Z'));
    }
}
