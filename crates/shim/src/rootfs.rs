//! The layered root filesystem: the image's layers read-only under the
//! container's own writable layer, merged by overlayfs.
//!
//! The overlay is mounted in the shim's own mount namespace (a copy of the
//! host's, receiving its later mounts but sending none back): the host's
//! mount table never lists it, and it cannot outlive the shim and its
//! container.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use vessel_runtime::ContainerDir;

/// Moves this (single-threaded) process into a mount namespace of its own
/// whose mounts do not propagate to the host, but for the host mounts the
/// spec's shared binds come from: those stay peers of the host's, so that
/// what the container mounts under such a bind reaches the host.
pub fn private_mount_namespace(spec: &oci_spec::runtime::Spec) -> std::io::Result<()> {
    unshare(CloneFlags::CLONE_NEWNS)?;
    let shared = shared_bind_sources(spec);
    if shared.is_empty() {
        return mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_SLAVE,
            None::<&str>,
        )
        .map_err(Into::into);
    }
    let points: Vec<PathBuf> = vessel_runtime::mountinfo::read()?
        .into_iter()
        .map(|m| m.mount_point)
        .collect();
    let keep: Vec<&PathBuf> = shared
        .iter()
        .filter_map(|source| {
            points
                .iter()
                .filter(|p| source.starts_with(p))
                .max_by_key(|p| p.as_os_str().len())
        })
        .collect();
    for point in points.iter().filter(|p| !keep.contains(p)) {
        // A mount point another one hides, or gone meanwhile: nothing to
        // make a slave of.
        let _ = mount(
            None::<&str>,
            point,
            None::<&str>,
            MsFlags::MS_SLAVE,
            None::<&str>,
        );
    }
    Ok(())
}

/// The resolved sources of the spec's binds with a shared propagation.
fn shared_bind_sources(spec: &oci_spec::runtime::Spec) -> Vec<PathBuf> {
    spec.mounts()
        .iter()
        .flatten()
        .filter(|m| {
            let options = m.options().iter().flatten();
            let mut options = options.map(String::as_str);
            let (mut bind, mut shared) = (m.typ().as_deref() == Some("bind"), false);
            for o in &mut options {
                bind |= matches!(o, "bind" | "rbind");
                shared |= matches!(o, "shared" | "rshared");
            }
            bind && shared
        })
        .filter_map(|m| std::fs::canonicalize(m.source().as_ref()?).ok())
        .collect()
}

/// Mounts `layers` (upper-most first) under the writable layer kept in
/// `writable` (or a fresh one in the container's directory) at the
/// container's rootfs mount point.
pub fn mount_overlay(
    cdir: &ContainerDir,
    layers: &[PathBuf],
    writable: Option<&Path>,
) -> std::io::Result<()> {
    let (upper, work) = match writable {
        Some(w) => (w.join("upper"), w.join("work")),
        None => (cdir.upper(), cdir.work()),
    };
    for dir in [&cdir.rootfs(), &upper, &work] {
        std::fs::create_dir_all(dir)?;
    }
    let lower = layers
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let data = format!(
        "lowerdir={lower},upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    mount(
        Some("overlay"),
        &cdir.rootfs(),
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .map_err(std::io::Error::from)
}

/// Unmounts the rootfs if it is mounted (lazily: a process may still hold
/// it while the pid namespace dies).
pub fn unmount(rootfs: &Path) {
    // A path that is not there is no mount point (and the mount table is
    // not read for it).
    if rootfs.exists() && is_mount_point(rootfs) {
        if let Err(e) = umount2(rootfs, MntFlags::MNT_DETACH) {
            tracing::warn!(rootfs = %rootfs.display(), error = %e, "cannot unmount the rootfs");
        }
    }
}

/// Whether `path` is listed as a mount point in this mount namespace.
pub fn is_mount_point(path: &Path) -> bool {
    vessel_runtime::mountinfo::read()
        .is_ok_and(|mounts| mounts.iter().any(|m| m.mount_point == path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_shared_binds_are_kept_peers_of_the_host() {
        let spec: oci_spec::runtime::Spec = serde_json::from_value(serde_json::json!({
            "ociVersion": "1.0.2",
            "mounts": [
                {"destination": "/a", "type": "bind", "source": "/tmp", "options": ["rbind", "rshared"]},
                {"destination": "/b", "type": "bind", "source": "/", "options": ["rbind", "rslave"]},
                {"destination": "/c", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]},
            ]
        }))
        .unwrap();
        assert_eq!(
            shared_bind_sources(&spec),
            [std::fs::canonicalize("/tmp").unwrap()]
        );
    }
}
