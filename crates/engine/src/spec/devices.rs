//! The host's device nodes, for a privileged container, which gets them
//! all as Docker gives them.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

/// Directories under /dev whose nodes are a container's own.
const OWN: &[&str] = &["pts", "shm", "mqueue"];

/// Every character and block device under `dev` (the host's /dev), with
/// its numbers, mode and owner; links, sockets and pipes are left out.
pub fn host_devices(dev: &Path) -> Vec<LinuxDevice> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![dev.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let t = meta.file_type();
            if t.is_dir() {
                if !(dir == dev && OWN.iter().any(|o| e.file_name() == *o)) {
                    dirs.push(path);
                }
                continue;
            }
            let typ = match (t.is_char_device(), t.is_block_device()) {
                (true, _) => LinuxDeviceType::C,
                (_, true) => LinuxDeviceType::B,
                _ => continue,
            };
            let rdev = meta.rdev();
            let mut d = LinuxDevice::default();
            d.set_path(path)
                .set_typ(typ)
                .set_major(nix::sys::stat::major(rdev) as i64)
                .set_minor(nix::sys::stat::minor(rdev) as i64)
                .set_file_mode(Some(meta.mode() & 0o7777))
                .set_uid(Some(meta.uid()))
                .set_gid(Some(meta.gid()));
            out.push(d);
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_null_device_is_found() {
        let devices = host_devices(Path::new("/dev"));
        let null = devices
            .iter()
            .find(|d| d.path() == Path::new("/dev/null"))
            .expect("/dev/null");
        assert_eq!((null.major(), null.minor()), (1, 3));
        assert!(devices.iter().all(|d| !d.path().starts_with("/dev/pts")));
    }
}
