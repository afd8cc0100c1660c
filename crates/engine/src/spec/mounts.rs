//! A container's mounts: the file systems every container gets, the
//! user's binds (`-v /host:/ctr[:ro]`), and the container's own /etc
//! files over the image's.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Mount, MountBuilder};

use super::oci_error;
use crate::error::{EngineError, Result};

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Result<Mount> {
    MountBuilder::default()
        .destination(destination)
        .typ(kind)
        .source(source)
        .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(oci_error)
}

/// The size of every container's `/dev/shm`, Docker's default.
pub const SHM_SIZE: i64 = 64 << 20;

/// `/proc`, `/dev` and its pseudo-terminals, message queues and shared
/// memory, and `/sys` (read-only unless `privileged`), with Docker's
/// options.
pub fn defaults(privileged: bool) -> Result<Vec<Mount>> {
    let nodev = ["nosuid", "noexec", "nodev"];
    let sys: &[&str] = match privileged {
        true => &nodev,
        false => &["nosuid", "noexec", "nodev", "ro"],
    };
    Ok(vec![
        mount("/proc", "proc", "proc", &nodev)?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        )?,
        mount("/sys", "sysfs", "sysfs", sys)?,
        mount("/dev/mqueue", "mqueue", "mqueue", &nodev)?,
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &[
                "nosuid",
                "noexec",
                "nodev",
                "mode=1777",
                &format!("size={SHM_SIZE}"),
            ],
        )?,
    ])
}

/// `-v /host:/ctr[:ro|rw]`, the `index`th of `HostConfig.Binds`. A
/// missing host directory is made only when `make_missing` (at start: a
/// create that fails later must leave nothing on the host).
pub fn bind(bind: &str, index: usize, make_missing: bool) -> Result<Mount> {
    let field = || format!("HostConfig.Binds[{index}]");
    let parts: Vec<&str> = bind.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, "rw"),
        [s, d, m] => (*s, *d, *m),
        _ => {
            return Err(EngineError::InvalidParameter(format!(
                "{}: {bind:?} is not SOURCE:DESTINATION[:ro|rw]",
                field()
            )))
        }
    };
    if !src.starts_with('/') {
        return Err(EngineError::InvalidParameter(format!(
            "{}: {src:?} is not an absolute host path (named volumes come later)",
            field()
        )));
    }
    if !dst.starts_with('/') {
        return Err(EngineError::InvalidParameter(format!(
            "{}: {dst:?} is not an absolute path in the container",
            field()
        )));
    }
    let ro = match mode {
        "ro" => true,
        "rw" | "" => false,
        other => {
            return Err(EngineError::InvalidParameter(format!(
                "{}: mode {other:?} is not ro or rw",
                field()
            )))
        }
    };
    // As Docker's -v: a missing host path is made, as a directory.
    if make_missing && !Path::new(src).exists() {
        std::fs::create_dir_all(src).map_err(|e| {
            EngineError::InvalidParameter(format!(
                "{}: making the missing bind source {src}: {e}",
                field()
            ))
        })?;
    }
    let access = if ro { "ro" } else { "rw" };
    mount(dst, "bind", src, &["rbind", "rprivate", access])
}

/// The container's own `hostname`, `hosts` and `resolv.conf` in `dir`,
/// bound over the image's (and over a bind of a directory above them,
/// such as /etc: they are mounted after the binds). A file the user binds
/// is left to the user's.
pub fn etc_files(dir: &Path, binds: &[Mount]) -> Result<Vec<Mount>> {
    let mut out = Vec::new();
    for (name, destination) in crate::etc::FILES {
        if binds
            .iter()
            .any(|b| b.destination() == Path::new(destination))
        {
            continue;
        }
        let source: PathBuf = crate::etc::path(dir, name);
        let source = source.to_string_lossy();
        out.push(mount(destination, "bind", &source, &["rbind", "rprivate"])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_are_checked_and_name_the_field() {
        let ro = bind("/tmp:/data:ro", 0, true).unwrap();
        assert!(ro.options().as_ref().unwrap().contains(&"ro".to_string()));
        assert_eq!(ro.source().as_deref(), Some(Path::new("/tmp")));
        let e = bind("rel:/data", 2, true).unwrap_err().to_string();
        assert!(
            e.contains("HostConfig.Binds[2]") && e.contains("rel"),
            "{e}"
        );
        let e = bind("/tmp:/data:zz", 0, true).unwrap_err().to_string();
        assert!(e.contains("zz"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("made/by/the/bind");
        // Checked at create, made at start.
        bind(&format!("{}:/d", missing.display()), 0, false).unwrap();
        assert!(!missing.exists());
        bind(&format!("{}:/d", missing.display()), 0, true).unwrap();
        assert!(missing.is_dir());
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = bind(&format!("{}/under:/d", file.display()), 1, true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("HostConfig.Binds[1]") && e.contains("under"),
            "{e}"
        );
    }

    #[test]
    fn a_bound_etc_file_is_left_to_the_user() {
        let binds = [bind("/tmp/h:/etc/hosts", 0, false).unwrap()];
        let files = etc_files(Path::new("/c"), &binds).unwrap();
        let dests: Vec<_> = files.iter().map(|m| m.destination().clone()).collect();
        assert_eq!(
            dests,
            [
                PathBuf::from("/etc/hostname"),
                PathBuf::from("/etc/resolv.conf")
            ]
        );
    }
}
