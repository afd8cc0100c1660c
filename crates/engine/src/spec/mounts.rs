//! A container's mounts: the file systems every container gets, the
//! user's binds (`-v /host:/ctr[:ro]`), and the container's own /etc
//! files over the image's.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Mount, MountBuilder};

use super::namespaces::{Mode, Modes};
use super::oci_error;
use crate::container::Container;
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

/// Every mount of the container, in Docker's order: the defaults, the
/// init (`init`, the host's path of the one to bind), the tmpfs mounts,
/// the binds, and the container's own /etc files (when `etc` is given: at
/// start). A missing bind source is made only then: a create that fails
/// later must leave nothing on the host.
pub fn all(
    c: &Container,
    modes: &Modes,
    etc: Option<&Path>,
    init: Option<&Path>,
) -> Result<Vec<Mount>> {
    let hc = &c.host_config;
    let mut mounts = defaults(hc.privileged.unwrap_or(false))?;
    mounts.push(shm(modes, hc.shm_size.unwrap_or(0))?);
    if let Some(init) = init {
        let source = init.to_string_lossy();
        mounts.push(mount(
            crate::init::IN_CONTAINER,
            "bind",
            &source,
            &["bind", "ro"],
        )?);
    }
    mounts.extend(tmpfs(hc.tmpfs.as_ref())?);
    let binds = hc
        .binds
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, b)| bind(b, i, etc.is_some()))
        .collect::<Result<Vec<_>>>()?;
    let readonly = hc.readonly_rootfs.unwrap_or(false);
    let etc_files = match etc {
        Some(dir) => etc_files(dir, &binds, readonly)?,
        None => Vec::new(),
    };
    mounts.extend(binds);
    mounts.extend(etc_files);
    Ok(mounts)
}

/// `/dev/shm`: a tmpfs of `size` bytes (Docker's 64 MiB when 0) for a
/// container with its own IPC namespace, the host's with the host's, and
/// the one on the host that the modes name (a shareable container's own,
/// a peer's when it joins one) bound in.
fn shm(modes: &Modes, size: i64) -> Result<Mount> {
    if size < 0 {
        return Err(EngineError::InvalidParameter(format!(
            "HostConfig.ShmSize: {size}: SHM size can not be less than 0"
        )));
    }
    let size = if size == 0 { SHM_SIZE } else { size };
    if let Some(dir) = &modes.shm {
        return mount(
            "/dev/shm",
            "bind",
            &dir.to_string_lossy(),
            &["rbind", "rprivate"],
        );
    }
    match &modes.ipc {
        Mode::Own => mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &[
                "nosuid",
                "noexec",
                "nodev",
                "mode=1777",
                &format!("size={size}"),
            ],
        ),
        Mode::Host => mount("/dev/shm", "bind", "/dev/shm", &["rbind", "rprivate"]),
        // Only while checking a create: at start, a joined peer's /dev/shm
        // is on the host, or the join was refused.
        Mode::Joined { .. } => mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev"]),
    }
}

/// `--tmpfs DEST[:OPTIONS]`: Docker's `noexec,nosuid,nodev` first, then
/// the options given.
fn tmpfs(given: Option<&std::collections::HashMap<String, String>>) -> Result<Vec<Mount>> {
    let mut dests: Vec<(&String, &String)> = given.into_iter().flatten().collect();
    dests.sort();
    dests
        .into_iter()
        .map(|(dest, opts)| {
            if !dest.starts_with('/') {
                return Err(EngineError::InvalidParameter(format!(
                    "HostConfig.Tmpfs: {dest:?} is not an absolute path in the container"
                )));
            }
            let mut options = vec!["noexec", "nosuid", "nodev", "rprivate"];
            options.extend(opts.split(',').filter(|o| !o.is_empty()));
            mount(dest, "tmpfs", "tmpfs", &options)
        })
        .collect()
}

/// `/proc`, `/dev` and its pseudo-terminals, message queues, `/sys` and
/// the container's own cgroups at `/sys/fs/cgroup` (both read-only unless
/// `privileged`), with Docker's options.
fn defaults(privileged: bool) -> Result<Vec<Mount>> {
    let nodev = ["nosuid", "noexec", "nodev"];
    let (sys, cgroup): (&[&str], &[&str]) = match privileged {
        true => (&nodev, &nodev),
        false => (
            &["nosuid", "noexec", "nodev", "ro"],
            &["ro", "nosuid", "noexec", "nodev"],
        ),
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
        mount("/sys/fs/cgroup", "cgroup", "cgroup", cgroup)?,
        mount("/dev/mqueue", "mqueue", "mqueue", &nodev)?,
    ])
}

/// `-v /host:/ctr[:ro|rw]`, the `index`th of `HostConfig.Binds`. A
/// missing host directory is made only when `make_missing` (at start: a
/// create that fails later must leave nothing on the host).
fn bind(bind: &str, index: usize, make_missing: bool) -> Result<Mount> {
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
/// such as /etc: they are mounted after the binds), read-only with a
/// read-only root, as Docker's. A file the user binds is left to the
/// user's.
fn etc_files(dir: &Path, binds: &[Mount], readonly: bool) -> Result<Vec<Mount>> {
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
        let options: &[&str] = match readonly {
            true => &["rbind", "rprivate", "ro"],
            false => &["rbind", "rprivate"],
        };
        out.push(mount(destination, "bind", &source, options)?);
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
        let files = etc_files(Path::new("/c"), &binds, false).unwrap();
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
