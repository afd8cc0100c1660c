//! A shareable container's /dev/shm (`--ipc shareable`, Docker's): a tmpfs
//! the daemon mounts on the host, in the container's directory, before it
//! starts, and binds into it; a container that joins its IPC namespace
//! (`--ipc container:NAME`) binds the same one. Unmounted when the
//! container stops, as Docker does, and whenever the daemon finds one
//! left mounted for a container that does not run.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

use super::Daemon;
use crate::container::Container;
use crate::error::{EngineError, Result};
use crate::spec::{SHM_DIR, SHM_SIZE};

/// Whether the container's /dev/shm lives on the host.
pub(super) fn shareable(c: &Container) -> bool {
    c.host_config.ipc_mode.as_deref() == Some("shareable")
}

impl Daemon {
    /// Where a shareable container's /dev/shm is on the host.
    pub(super) fn shm_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join(SHM_DIR)
    }

    /// Mounts a shareable container's /dev/shm (of its `ShmSize`) unless
    /// it is mounted already.
    pub(super) fn mount_shm(&self, c: &Container) -> Result<()> {
        let dir = self.shm_dir(&c.id);
        std::fs::create_dir_all(&dir)
            .map_err(EngineError::io("making the /dev/shm mount point"))?;
        if is_mount_point(&dir) {
            return Ok(());
        }
        let size = match c.host_config.shm_size.unwrap_or(0) {
            0 => SHM_SIZE,
            size => size,
        };
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        let data = format!("mode=1777,size={size}");
        nix::mount::mount(Some("shm"), &dir, Some("tmpfs"), flags, Some(data.as_str()))
            .map_err(|e| EngineError::io("mounting the container's /dev/shm")(e.into()))
    }

    /// Unmounts a container's /dev/shm from the host, if it is there.
    pub(super) fn release_shm(&self, c: &Container) {
        if !shareable(c) {
            return;
        }
        let dir = self.shm_dir(&c.id);
        match nix::mount::umount2(&dir, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => {}
            Err(e) => {
                tracing::warn!(container = %c.id, error = %e, "unmounting the container's /dev/shm")
            }
        }
    }
}

/// Whether `dir` is the root of a mount (its device differs from its
/// parent's).
fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let parent = dir.parent().unwrap_or(dir);
    match (std::fs::metadata(dir), std::fs::metadata(parent)) {
        (Ok(d), Ok(p)) => d.dev() != p.dev(),
        _ => false,
    }
}
