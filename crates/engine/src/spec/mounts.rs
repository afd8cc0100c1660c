//! A container's mounts: the file systems every container gets, the
//! user's binds (`-v /host:/ctr[:ro]`), and the container's own /etc
//! files over the image's.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Mount, MountBuilder};

use super::namespaces::{Mode, Modes};
use super::oci_error;
use crate::container::mounts::{in_mount_order, Kind, MountPoint};
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
/// the mount points (parents first), and the container's own /etc files
/// (when `etc` is given: at start). A missing bind source is made, and a
/// bind's propagation checked against its host mount, only then: a
/// create that fails later must leave nothing on the host.
pub fn all(
    c: &Container,
    modes: &Modes,
    etc: Option<&Path>,
    init: Option<&Path>,
) -> Result<Vec<Mount>> {
    let hc = &c.host_config;
    let mut mounts = defaults(hc.privileged.unwrap_or(false))?;
    let points = in_mount_order(&c.mount_points);
    if !points.iter().any(|p| p.destination == "/dev/shm") {
        mounts.push(shm(modes, hc.shm_size.unwrap_or(0))?);
    }
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
    let points = points
        .into_iter()
        .map(|p| point(p, etc.is_some()))
        .collect::<Result<Vec<_>>>()?;
    let readonly = hc.readonly_rootfs.unwrap_or(false);
    let etc_files = match etc {
        Some(dir) => etc_files(dir, &points, readonly)?,
        None => Vec::new(),
    };
    mounts.extend(points);
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

/// One mount point. At start (`at_start`), a missing bind source that
/// may be made is made (as a directory, as Docker's `-v`), and a shared
/// or slave bind is checked against the host's mount of its source.
fn point(p: &MountPoint, at_start: bool) -> Result<Mount> {
    let access = if p.rw { "rw" } else { "ro" };
    match p.kind {
        Kind::Tmpfs => {
            let mut options = vec!["noexec", "nosuid", "nodev", "rprivate"];
            options.extend(p.data.split(',').filter(|o| !o.is_empty()));
            mount(&p.destination, "tmpfs", "tmpfs", &options)
        }
        Kind::Volume => mount(
            &p.destination,
            "bind",
            &p.source,
            &["rbind", "rprivate", access],
        ),
        Kind::Bind => {
            if at_start {
                if p.make_source && !Path::new(&p.source).exists() {
                    std::fs::create_dir_all(&p.source).map_err(|e| {
                        EngineError::InvalidParameter(format!(
                            "making the missing bind source {}: {e}",
                            p.source
                        ))
                    })?;
                }
                super::propagation::check(Path::new(&p.source), &p.propagation)?;
            }
            mount(
                &p.destination,
                "bind",
                &p.source,
                &["rbind", &p.propagation, access],
            )
        }
    }
}

/// The container's own `hostname`, `hosts` and `resolv.conf` in `dir`,
/// bound over the image's (and over a bind of a directory above them,
/// such as /etc: they are mounted after the binds), read-only with a
/// read-only root, as Docker's. A file the user binds is left to the
/// user's.
fn etc_files(dir: &Path, points: &[Mount], readonly: bool) -> Result<Vec<Mount>> {
    let mut out = Vec::new();
    for (name, destination) in crate::etc::FILES {
        if points
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

    fn bind_point(raw: &str) -> MountPoint {
        crate::volume::parse::bind(raw).unwrap()
    }

    #[test]
    fn a_missing_bind_source_is_made_at_start_only() {
        let ro = point(&bind_point("/tmp:/data:ro"), true).unwrap();
        let options = ro.options().clone().unwrap();
        assert_eq!(options, ["rbind", "rprivate", "ro"]);
        assert_eq!(ro.source().as_deref(), Some(Path::new("/tmp")));
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("made/by/the/bind");
        let p = bind_point(&format!("{}:/d", missing.display()));
        point(&p, false).unwrap();
        assert!(!missing.exists());
        point(&p, true).unwrap();
        assert!(missing.is_dir());
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = point(&bind_point(&format!("{}/under:/d", file.display())), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("under"), "{e}");
    }

    #[test]
    fn a_bound_etc_file_is_left_to_the_user() {
        let binds = [point(&bind_point("/tmp/h:/etc/hosts"), false).unwrap()];
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
