//! Unpacking a layer tar into its directory, refusing every entry that
//! would write outside it, with its whiteouts made overlayfs's.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::tarsplit::Contents;
use crate::error::{EngineError, Result};

/// A layer's mark that a file below was deleted (`.wh.NAME`) and that a
/// directory hides what lower layers have in it (`.wh..wh..opq`).
const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Unpacks a layer tar into `root`, refusing any entry that would write
/// outside it: absolute paths, `..`, hard links to outside, and writes
/// through a symlink the archive made earlier. Whiteouts become what
/// overlayfs reads as such: a 0/0 character device in place of the
/// deleted name, and the `trusted.overlay.opaque` attribute on an opaque
/// directory. `contents`, when given, is told where each regular file's
/// contents lie in the tar.
pub(super) fn unpack_layer(tar: impl Read, root: &Path, contents: Option<&Contents>) -> Result<()> {
    let mut files = HashSet::new();
    let mut archive = tar::Archive::new(tar);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    let entries = archive
        .entries()
        .map_err(|e| EngineError::InvalidParameter(format!("reading the layer tar: {e}")))?;
    for entry in entries {
        let mut entry = entry
            .map_err(|e| EngineError::InvalidParameter(format!("reading the layer tar: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| EngineError::InvalidParameter(format!("reading the layer tar: {e}")))?
            .into_owned();
        let rel = inside(&path).ok_or_else(|| escape(&path, "its path leaves the layer"))?;
        if rel.as_os_str().is_empty() {
            continue; // "./" itself
        }
        if through_symlink(root, &rel) {
            return Err(escape(&path, "it would be written through a symbolic link"));
        }
        let kind = entry.header().entry_type();
        if files.contains(&rel) {
            return Err(escape(
                &path,
                "the layer writes it twice, which Vessel cannot keep reproducibly",
            ));
        }
        if whiteout(root, &path, &rel, &files)? {
            continue;
        }
        check_link(root, &path, &rel, &entry)?;
        if kind.is_file() || kind.is_contiguous() {
            if let Some(contents) = contents {
                contents.file(entry.raw_file_position(), entry.size(), &rel);
            }
            files.insert(rel.clone());
        } else if kind.is_gnu_sparse() {
            return Err(escape(&path, "sparse files are not supported"));
        }
        if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
            // The tar crate would write these as empty regular files.
            special(root, &rel, entry.header()).map_err(|e| EngineError::Io {
                context: format!("making {}", path.display()),
                source: e,
            })?;
            continue;
        }
        // A file's capabilities (`setcap`) come as a PAX record; of the
        // extended attributes a layer may carry, only these are kept
        // (overlayfs's own, `trusted.overlay.*`, never come from a layer).
        let capability = match kind.is_file() || kind.is_contiguous() {
            true => file_capability(&mut entry),
            false => None,
        };
        let unpacked = entry.unpack_in(root).map_err(|e| {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            EngineError::InvalidParameter(format!("unpacking {}: {e}{cause}", path.display()))
        })?;
        if !unpacked {
            return Err(escape(&path, "its path leaves the layer"));
        }
        if let Some(value) = capability {
            let set = rustix::fs::lsetxattr(
                root.join(&rel),
                CAPABILITY,
                &value,
                rustix::fs::XattrFlags::empty(),
            );
            set.map_err(|e| EngineError::Io {
                context: format!("giving {} its capabilities", path.display()),
                source: e.into(),
            })?;
        }
    }
    Ok(())
}

const CAPABILITY: &str = "security.capability";

/// The `security.capability` a PAX record gives a file, if any.
fn file_capability<R: Read>(entry: &mut tar::Entry<'_, R>) -> Option<Vec<u8>> {
    let wanted = format!("SCHILY.xattr.{CAPABILITY}");
    let exts = entry.pax_extensions().ok().flatten()?;
    exts.flatten()
        .find(|e| e.key_bytes() == wanted.as_bytes())
        .map(|e| e.value_bytes().to_vec())
}

/// A device node or a FIFO at `rel`, with its header's mode and owner.
fn special(root: &Path, rel: &Path, h: &tar::Header) -> std::io::Result<()> {
    use rustix::fs::FileType;
    let target = root.join(rel);
    if fs::symlink_metadata(&target).is_ok() {
        fs::remove_file(&target)?;
    }
    let kind = match h.entry_type() {
        tar::EntryType::Char => FileType::CharacterDevice,
        tar::EntryType::Block => FileType::BlockDevice,
        _ => FileType::Fifo,
    };
    let (major, minor) = (
        h.device_major()?.unwrap_or(0),
        h.device_minor()?.unwrap_or(0),
    );
    let mode = rustix::fs::Mode::from_bits_truncate(h.mode()? & 0o7777);
    let dev = rustix::fs::makedev(major, minor);
    rustix::fs::mknodat(rustix::fs::CWD, &target, kind, mode, dev)?;
    let (uid, gid) = (h.uid()? as u32, h.gid()? as u32);
    std::os::unix::fs::lchown(&target, Some(uid), Some(gid))?;
    // mknod's mode went through the umask: the header's, exactly.
    rustix::fs::chmodat(rustix::fs::CWD, &target, mode, rustix::fs::AtFlags::empty())?;
    Ok(())
}

/// Refuses a hard link to outside the layer or through a symbolic link,
/// and a symbolic link whose relative target climbs out of the layer.
fn check_link<R: Read>(
    root: &Path,
    path: &Path,
    rel: &Path,
    entry: &tar::Entry<'_, R>,
) -> Result<()> {
    let kind = entry.header().entry_type();
    let target = || entry.link_name().ok().flatten().map(|t| t.into_owned());
    if kind.is_hard_link() {
        let target = target().ok_or_else(|| escape(path, "its hard link has no target"))?;
        let target_rel = inside(&target)
            .filter(|t| !t.as_os_str().is_empty())
            .ok_or_else(|| escape(path, "its hard link points outside the layer"))?;
        if through_symlink(root, &target_rel) {
            return Err(escape(path, "its hard link points through a symbolic link"));
        }
    }
    if kind.is_symlink() {
        let target = target().ok_or_else(|| escape(path, "its symbolic link has no target"))?;
        // Absolute targets resolve inside the container's root; relative
        // ones must not climb above it.
        if target.is_relative()
            && inside(&rel.parent().unwrap_or(Path::new("")).join(&target)).is_none()
        {
            return Err(escape(path, "its symbolic link points outside the layer"));
        }
    }
    Ok(())
}

/// Makes the whiteout entry `rel` overlayfs's; answers whether it was one.
/// `files` are the regular files the layer wrote so far: a whiteout that
/// would delete one is refused (the file's contents are kept in the tree
/// only, for the layer's tar to be made again).
fn whiteout(root: &Path, path: &Path, rel: &Path, files: &HashSet<PathBuf>) -> Result<bool> {
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        return Ok(false);
    };
    let Some(hidden) = name.strip_prefix(WHITEOUT) else {
        return Ok(false);
    };
    if matches!(hidden, "" | "." | "..") {
        return Err(escape(path, "its whiteout names no entry"));
    }
    let parent = rel.parent().unwrap_or(Path::new(""));
    let target = parent.join(hidden);
    if name != OPAQUE && files.iter().any(|f| f.starts_with(&target)) {
        return Err(escape(path, "it deletes what the same layer wrote"));
    }
    let dir = root.join(parent);
    let fail = |e: std::io::Error| EngineError::Io {
        context: format!("applying the whiteout {}", rel.display()),
        source: e,
    };
    fs::create_dir_all(&dir).map_err(fail)?;
    if name == OPAQUE {
        rustix::fs::lsetxattr(
            &dir,
            "trusted.overlay.opaque",
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .map_err(|e| fail(e.into()))?;
    } else if !hidden.starts_with(WHITEOUT) && !hidden.is_empty() {
        let target = dir.join(hidden);
        if let Ok(m) = fs::symlink_metadata(&target) {
            match m.is_dir() {
                true => super::remove_tree(&target),
                false => fs::remove_file(&target),
            }
            .map_err(fail)?;
        }
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &target,
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::empty(),
            0,
        )
        .map_err(|e| fail(e.into()))?;
    }
    // Other `.wh..wh.` names are aufs's bookkeeping: nothing to make.
    Ok(true)
}

fn escape(path: &Path, why: &str) -> EngineError {
    EngineError::InvalidParameter(format!(
        "layer tar entry {:?} is refused: {why}",
        path.display().to_string()
    ))
}

/// `path` as a normalized relative path that stays inside its root, or
/// `None` when it is absolute or climbs out with `..`.
fn inside(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Whether a proper ancestor of `rel` under `root` is a symbolic link.
fn through_symlink(root: &Path, rel: &Path) -> bool {
    let mut cur = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        cur.push(part);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tar whose entries are written with raw names (so that `..` and
    /// absolute paths get in, as a hostile archive would have them).
    pub(crate) fn tar_of(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, link, data) in entries {
            let mut h = tar::Header::new_gnu();
            let raw = &mut h.as_gnu_mut().unwrap().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            h.set_entry_type(*kind);
            h.set_mode(0o755);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_size(data.len() as u64);
            if !link.is_empty() {
                let raw = &mut h.as_gnu_mut().unwrap().linkname;
                raw[..link.len()].copy_from_slice(link.as_bytes());
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn unpack(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> (tempfile::TempDir, Result<()>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("layer")).unwrap();
        let r = unpack_layer(&tar_of(entries)[..], &dir.path().join("layer"), None);
        (dir, r)
    }

    use tar::EntryType::{Directory, Link, Regular, Symlink};

    #[test]
    fn an_ordinary_layer_unpacks() {
        let (dir, r) = unpack(&[
            ("./", Directory, "", b""),
            ("./bin/", Directory, "", b""),
            ("./bin/busybox", Regular, "", b"elf"),
            ("./bin/sh", Symlink, "/bin/busybox", b""),
            ("./bin/ash", Link, "bin/busybox", b""),
        ]);
        r.unwrap();
        let l = dir.path().join("layer");
        assert_eq!(std::fs::read(l.join("bin/ash")).unwrap(), b"elf");
        assert_eq!(
            std::fs::read_link(l.join("bin/sh")).unwrap(),
            Path::new("/bin/busybox")
        );
    }

    #[test]
    fn entries_that_escape_the_layer_are_refused_and_nothing_is_written_outside() {
        for (entries, what) in [
            (vec![("../escaped", Regular, "", &b"x"[..])], "../escaped"),
            (vec![("/escaped", Regular, "", &b"x"[..])], "/escaped"),
            (
                vec![("a/../../escaped", Regular, "", &b"x"[..])],
                "a/../../escaped",
            ),
            (vec![("link", Link, "../escaped", &b""[..])], "link"),
            (vec![("up", Symlink, "../..", &b""[..])], "up"),
            (
                vec![
                    ("out", Symlink, "/", &b""[..]),
                    ("out/escaped", Regular, "", &b"x"[..]),
                ],
                "out/escaped",
            ),
        ] {
            let (dir, r) = unpack(&entries);
            let e = r.expect_err(what).to_string();
            assert!(e.contains(what), "{what}: {e}");
            assert!(!dir.path().join("escaped").exists(), "{what} wrote outside");
        }
    }

    #[test]
    fn devices_fifos_and_file_capabilities_are_made_as_the_layer_says() {
        use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
        // cap_net_raw, effective: a VFS_CAP_REVISION_2 record.
        let mut cap = vec![0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00];
        cap.resize(20, 0);
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Char);
        h.set_device_major(1).unwrap();
        h.set_device_minor(3).unwrap();
        h.set_mode(0o666);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        b.append_data(&mut h, "null", std::io::empty()).unwrap();
        h.set_entry_type(tar::EntryType::Fifo);
        h.set_mode(0o600);
        b.append_data(&mut h, "pipe", std::io::empty()).unwrap();
        b.append_pax_extensions([("SCHILY.xattr.security.capability", &cap[..])])
            .unwrap();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o755);
        h.set_size(3);
        b.append_data(&mut h, "ping", &b"elf"[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        unpack_layer(&tar[..], dir.path(), None).unwrap();
        let null = std::fs::symlink_metadata(dir.path().join("null")).unwrap();
        assert!(null.file_type().is_char_device());
        assert_eq!(null.rdev(), rustix::fs::makedev(1, 3));
        assert_eq!(null.permissions().mode() & 0o7777, 0o666);
        let pipe = std::fs::symlink_metadata(dir.path().join("pipe")).unwrap();
        assert!(pipe.file_type().is_fifo());
        let mut got = [0u8; 32];
        let n = rustix::fs::getxattr(dir.path().join("ping"), CAPABILITY, &mut got).unwrap();
        assert_eq!(&got[..n], &cap[..]);
    }

    #[test]
    fn whiteouts_that_name_nothing_or_the_layers_own_files_are_refused() {
        for (entries, why) in [
            (
                vec![
                    ("d/", Directory, "", &b""[..]),
                    ("d/.wh..", Regular, "", &b""[..]),
                ],
                "names no entry",
            ),
            (
                vec![
                    ("d/", Directory, "", &b""[..]),
                    ("d/.wh.", Regular, "", &b""[..]),
                ],
                "names no entry",
            ),
            (
                vec![
                    ("a", Regular, "", &b"x"[..]),
                    (".wh.a", Regular, "", &b""[..]),
                ],
                "deletes what the same layer wrote",
            ),
        ] {
            let (dir, r) = unpack(&entries);
            let e = r.expect_err(why).to_string();
            assert!(e.contains(why), "{why}: {e}");
            assert!(dir.path().join("layer").exists(), "{why}: the root went");
        }
        // A whiteout of what a lower layer has: a 0/0 device in its place.
        let (dir, r) = unpack(&[(".wh.gone", Regular, "", b"")]);
        r.unwrap();
        use std::os::unix::fs::FileTypeExt;
        let m = std::fs::symlink_metadata(dir.path().join("layer/gone")).unwrap();
        assert!(m.file_type().is_char_device());
    }
}
