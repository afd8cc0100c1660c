//! Paths opened as a container sees them: every lookup is the kernel's
//! own `openat2(RESOLVE_IN_ROOT)`, so symlinks, absolute ones too, and
//! `..` never lead out of the rootfs.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// How many times a lookup is tried again when the kernel could not
/// prove that a `..` stayed inside the root. That happens only when a
/// mount or rename anywhere on the host raced the walk, so a handful of
/// tries is plenty; the bound keeps a host that mounts without pause from
/// holding the caller forever.
const RACE_RETRIES: usize = 64;

/// Opens `path` under `root` with `flags` (and `mode` when it creates),
/// resolving it inside `root`; magic links (`/proc/self/fd/...`) are
/// refused. `O_CLOEXEC` is always added.
///
/// With `RESOLVE_IN_ROOT` a path holding `..` fails with `EAGAIN` when a
/// mount or rename elsewhere on the host happened during the walk (the
/// kernel cannot then vouch for where `..` led); the call is made again,
/// as the kernel's documentation says a caller may.
pub fn openat2(root: impl AsFd, path: &Path, flags: OFlags, mode: Mode) -> Result<OwnedFd, Errno> {
    let root = root.as_fd();
    let mut tries = 0;
    loop {
        match rustix::fs::openat2(
            root,
            path,
            flags | OFlags::CLOEXEC,
            mode,
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::AGAIN) if tries < RACE_RETRIES => tries += 1,
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_dot_dot_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/inside"), "in").unwrap();
        std::fs::write(dir.path().join("outside"), "out").unwrap();
        std::os::unix::fs::symlink("/../../outside", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../etc", root.join("up")).unwrap();
        let root = std::fs::File::open(&root).unwrap();

        let escaped = openat2(&root, Path::new("abs"), OFlags::RDONLY, Mode::empty());
        assert_eq!(escaped.unwrap_err(), Errno::NOENT);
        let found = openat2(&root, Path::new("up/inside"), OFlags::RDONLY, Mode::empty());
        let text = std::io::read_to_string(std::fs::File::from(found.unwrap())).unwrap();
        assert_eq!(text, "in");
    }

    /// A mount anywhere on the host while a path with `..` is walked
    /// makes the kernel answer `EAGAIN`; the lookup is made again and
    /// succeeds. (Needs root, as the suite does: it mounts a tmpfs.)
    #[test]
    fn a_mount_racing_a_walk_up_is_tried_again() {
        use rustix::mount::{mount, unmount, MountFlags, UnmountFlags};
        use std::sync::atomic::{AtomicBool, Ordering};

        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("a/b/c/d")).unwrap();
        std::fs::write(root.join("inside"), "in").unwrap();
        let target = dir.path().join("busy");
        std::fs::create_dir(&target).unwrap();
        let stop = AtomicBool::new(false);
        let walk = Path::new("a/b/c/d/../../../../inside");
        let root = std::fs::File::open(&root).unwrap();

        let (raced, failed) = std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    mount("tmpfs", &target, "tmpfs", MountFlags::empty(), None).unwrap();
                    unmount(&target, UnmountFlags::empty()).unwrap();
                }
            });
            let (mut raced, mut failed) = (0, Vec::new());
            for _ in 0..50_000 {
                let once = rustix::fs::openat2(
                    &root,
                    walk,
                    OFlags::RDONLY | OFlags::CLOEXEC,
                    Mode::empty(),
                    ResolveFlags::IN_ROOT,
                );
                if once.is_err_and(|e| e == Errno::AGAIN) {
                    raced += 1;
                }
                if let Err(e) = openat2(&root, walk, OFlags::RDONLY, Mode::empty()) {
                    failed.push(e);
                }
            }
            stop.store(true, Ordering::Relaxed);
            (raced, failed)
        });
        assert!(
            raced > 0,
            "no lookup raced a mount: the test proves nothing"
        );
        assert!(
            failed.is_empty(),
            "{} of {raced} raced lookups failed: {:?}",
            failed.len(),
            &failed[..1]
        );
    }
}
