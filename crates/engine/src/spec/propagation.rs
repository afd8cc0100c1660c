//! A bind's propagation against the host: a `shared` bind needs its
//! source on a shared mount, a `slave` one on a shared or slave mount, or
//! nothing would propagate; Docker refuses such a bind with the mount
//! named, and so does Vessel.

use std::path::Path;

use vessel_runtime::mountinfo::{self, Mount};

use crate::error::{EngineError, Result};

/// The mount in `mounts` (this namespace's) that `path` is on: the one
/// with the longest mount point above it, the last of those (the one on
/// top).
fn mount_of(mounts: &[Mount], path: &Path) -> Option<Mount> {
    let mut best: Option<&Mount> = None;
    for m in mounts.iter().filter(|m| path.starts_with(&m.mount_point)) {
        let longer =
            best.is_none_or(|b| m.mount_point.as_os_str().len() >= b.mount_point.as_os_str().len());
        if longer {
            best = Some(m);
        }
    }
    best.cloned()
}

/// Refuses a bind of `source` with `propagation` that its host mount
/// cannot give.
pub fn check(source: &Path, propagation: &str) -> Result<()> {
    let needs_shared = match propagation {
        "shared" | "rshared" => true,
        "slave" | "rslave" => false,
        _ => return Ok(()),
    };
    let source = std::fs::canonicalize(source).map_err(EngineError::io(format!(
        "resolving the bind source {}",
        source.display()
    )))?;
    let mounts = mountinfo::read().map_err(EngineError::io("reading /proc/self/mountinfo"))?;
    let Some(m) = mount_of(&mounts, &source) else {
        return Ok(());
    };
    let ok = m.shared || (!needs_shared && m.slave);
    if ok {
        return Ok(());
    }
    let what = if needs_shared {
        "shared"
    } else {
        "shared or slave"
    };
    Err(EngineError::InvalidParameter(format!(
        "path {} is mounted on {} but it is not a {what} mount",
        source.display(),
        m.mount_point.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime - ext4 /dev/vda rw
30 22 0:30 / /srv rw shared:5 - tmpfs tmpfs rw
31 30 0:31 / /srv/in\\040it rw master:5 - tmpfs tmpfs rw
32 22 0:32 / /srv2 rw - tmpfs tmpfs rw
";

    #[test]
    fn the_longest_mount_above_a_path_is_its_mount() {
        let mounts: Vec<Mount> = MOUNTINFO.lines().filter_map(mountinfo::parse).collect();
        let m = mount_of(&mounts, Path::new("/srv/a/b")).unwrap();
        assert_eq!(
            (m.mount_point.as_path(), m.shared, m.slave),
            (Path::new("/srv"), true, false)
        );
        let m = mount_of(&mounts, Path::new("/srv/in it/x")).unwrap();
        assert_eq!((m.shared, m.slave), (false, true));
        let m = mount_of(&mounts, Path::new("/srv2")).unwrap();
        assert_eq!((m.shared, m.slave), (false, false));
        assert_eq!(
            mount_of(&mounts, Path::new("/srv22")).unwrap().mount_point,
            Path::new("/")
        );
    }

    #[test]
    fn a_private_source_is_refused_by_name() {
        assert!(check(Path::new("/"), "rprivate").is_ok());
        let dir = tempfile::tempdir().unwrap();
        let mounts = mountinfo::read().unwrap();
        let m = mount_of(&mounts, &std::fs::canonicalize(dir.path()).unwrap()).unwrap();
        let result = check(dir.path(), "rshared");
        match m.shared {
            true => assert!(result.is_ok()),
            false => {
                let e = result.unwrap_err().to_string();
                assert!(e.contains("but it is not a shared mount"), "{e}");
                assert!(e.contains(&m.mount_point.display().to_string()), "{e}");
            }
        }
    }
}
