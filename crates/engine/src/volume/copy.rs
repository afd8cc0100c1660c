//! Filling a new volume from the image, as Docker does at create: the
//! contents of a directory copied with their owners, modes, times,
//! extended attributes and hard links (files, directories, symlinks,
//! devices and fifos), the directory's own owner and mode given to the
//! volume's root.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};

/// Copies `src`'s contents into `dst` if `dst` is empty (a volume that
/// has data keeps it); says whether it copied.
pub fn fill(src: &Path, dst: &Path) -> io::Result<bool> {
    if std::fs::read_dir(dst)?.next().is_some() {
        return Ok(false);
    }
    let mut links = HashMap::new();
    copy_dir(src, dst, &mut links)?;
    // `src` itself is followed: it may be a descriptor's magic link.
    set_metadata(dst, &std::fs::metadata(src)?, None)?;
    Ok(true)
}

/// Copies the entries of `src` into `dst`, recursively; `links` maps the
/// (device, inode) of a file with several links to its first copy.
fn copy_dir(src: &Path, dst: &Path, links: &mut HashMap<(u64, u64), PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        let meta = std::fs::symlink_metadata(&from)?;
        let ft = meta.file_type();
        if ft.is_dir() {
            std::fs::create_dir(&to)?;
            copy_dir(&from, &to, links)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else {
            if meta.nlink() > 1 {
                if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                    std::fs::hard_link(first, &to)?;
                    continue;
                }
                links.insert((meta.dev(), meta.ino()), to.clone());
            }
            if ft.is_file() {
                std::fs::copy(&from, &to)?;
            } else if ft.is_socket() {
                // A socket is only a name without its listener.
                continue;
            } else {
                let kind = SFlag::from_bits_truncate(meta.mode() & SFlag::S_IFMT.bits());
                let perm = Mode::from_bits_truncate(meta.mode() & 0o7777);
                nix::sys::stat::mknod(&to, kind, perm, meta.rdev())?;
            }
        }
        set_metadata(&to, &meta, Some(&from))?;
    }
    Ok(())
}

/// Gives `path` the owner, mode and times of `meta` (a symlink its owner
/// and times only), and the extended attributes of `xattrs_from`.
fn set_metadata(
    path: &Path,
    meta: &std::fs::Metadata,
    xattrs_from: Option<&Path>,
) -> io::Result<()> {
    let owner = (
        Some(Uid::from_raw(meta.uid())),
        Some(Gid::from_raw(meta.gid())),
    );
    let symlink = meta.file_type().is_symlink();
    let follow = match symlink {
        true => nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        false => nix::fcntl::AtFlags::empty(),
    };
    nix::unistd::fchownat(None, path, owner.0, owner.1, follow)?;
    // After the owner, which clears a file's capabilities.
    if let Some(from) = xattrs_from {
        copy_xattrs(from, path)?;
    }
    if !symlink {
        // After the owner: a chown clears the set-id bits.
        let mode = Mode::from_bits_truncate(meta.mode() & 0o7777);
        nix::sys::stat::fchmodat(
            None,
            path,
            mode,
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )?;
    }
    let atime = TimeSpec::new(meta.atime(), meta.atime_nsec());
    let mtime = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
    nix::sys::stat::utimensat(
        None,
        path,
        &atime,
        &mtime,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )?;
    Ok(())
}

/// Copies the extended attributes of `from` to `to` (neither followed),
/// as Docker does: those the filesystem does not take are skipped, and so
/// are overlayfs's own.
fn copy_xattrs(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::io::Errno;
    use std::os::unix::ffi::OsStrExt;
    let size = match rustix::fs::llistxattr_query(from) {
        Ok(0) | Err(Errno::NOTSUP) => return Ok(()),
        Ok(n) => n,
        Err(e) => return Err(e.into()),
    };
    let mut names = vec![0u8; size];
    let n = rustix::fs::llistxattr(from, &mut names[..])?;
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(b"trusted.overlay.") {
            continue;
        }
        let name = std::ffi::OsStr::from_bytes(name);
        let mut value = vec![0u8; rustix::fs::lgetxattr_query(from, name)?];
        let len = rustix::fs::lgetxattr(from, name, &mut value[..])?;
        match rustix::fs::lsetxattr(to, name, &value[..len], rustix::fs::XattrFlags::empty()) {
            Ok(()) | Err(Errno::NOTSUP) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn contents_are_copied_with_their_metadata_into_an_empty_volume_only() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let s = src.path();
        std::fs::create_dir(s.join("sub")).unwrap();
        std::fs::write(s.join("sub/file"), "data").unwrap();
        std::fs::set_permissions(s.join("sub/file"), std::fs::Permissions::from_mode(0o4751))
            .unwrap();
        std::fs::hard_link(s.join("sub/file"), s.join("link")).unwrap();
        std::os::unix::fs::symlink("sub/file", s.join("sym")).unwrap();
        nix::unistd::mkfifo(&s.join("fifo"), Mode::from_bits_truncate(0o640)).unwrap();
        std::fs::set_permissions(s, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let owned = nix::unistd::geteuid().is_root();
        if owned {
            nix::unistd::chown(
                &s.join("sub"),
                Some(Uid::from_raw(7)),
                Some(Gid::from_raw(8)),
            )
            .unwrap();
        }
        let cap =
            b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        let capable = owned
            && rustix::fs::lsetxattr(
                s.join("sub/file"),
                "security.capability",
                cap,
                rustix::fs::XattrFlags::empty(),
            )
            .is_ok();
        let d = dst.path();
        assert!(fill(s, d).unwrap());
        if capable {
            let mut got = [0u8; 64];
            let n = rustix::fs::lgetxattr(d.join("sub/file"), "security.capability", &mut got[..])
                .unwrap();
            assert_eq!(&got[..n], cap);
        }
        assert_eq!(std::fs::read_to_string(d.join("sub/file")).unwrap(), "data");
        let file = std::fs::metadata(d.join("sub/file")).unwrap();
        assert_eq!(file.mode() & 0o7777, 0o4751);
        assert_eq!(file.ino(), std::fs::metadata(d.join("link")).unwrap().ino());
        assert_eq!(
            std::fs::read_link(d.join("sym")).unwrap(),
            Path::new("sub/file")
        );
        assert!(std::fs::metadata(d.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(std::fs::metadata(d).unwrap().mode() & 0o7777, 0o1777);
        let mtime = |p: &Path| std::fs::metadata(p).unwrap().mtime();
        assert_eq!(mtime(&d.join("sub")), mtime(&s.join("sub")));
        if owned {
            let sub = std::fs::metadata(d.join("sub")).unwrap();
            assert_eq!((sub.uid(), sub.gid()), (7, 8));
        }
        // A volume with data keeps it.
        std::fs::write(s.join("new"), "").unwrap();
        assert!(!fill(s, d).unwrap());
        assert!(!d.join("new").exists());
    }
}
