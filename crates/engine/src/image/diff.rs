//! `docker diff`: what a container changed, read from its writable layer
//! as Docker's overlay driver reads it. A name there that the image's
//! layers have is changed (kind 0), one they do not is added (1), and an
//! overlayfs whiteout is a deletion (2). The stubs the runtime makes to
//! mount over (`/etc/hostname`, ...) are not changes: Docker keeps them
//! in a layer of its own, below the container's.

use std::io;
use std::path::{Path, PathBuf};

use super::overlay_tar::{is_mount_point_stub, is_whiteout, Root};

/// A change: the path, as the container sees it, and its kind.
pub type Change = (String, u8);

pub const MODIFIED: u8 = 0;
pub const ADDED: u8 = 1;
pub const DELETED: u8 = 2;

/// The changes in `upper` over the image's layers `lowers` (top first),
/// parents before their children.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> io::Result<Vec<Change>> {
    let mut out = Vec::new();
    if upper.is_dir() {
        let lowers: Vec<Root> = lowers.iter().filter_map(|l| Root::open(l).ok()).collect();
        walk(&Root::open(upper)?, &lowers, Path::new(""), &mut out)?;
    }
    Ok(out)
}

/// Appends the changes under `rel`; whether there was any.
fn walk(upper: &Root, lowers: &[Root], rel: &Path, out: &mut Vec<Change>) -> io::Result<bool> {
    let mut any = false;
    for name in upper.list(rel)? {
        let rel = rel.join(&name);
        let Ok((_, meta)) = upper.stat(&rel) else {
            continue; // gone meanwhile
        };
        if is_mount_point_stub(upper, &rel, &meta) {
            continue;
        }
        let path = format!("/{}", rel.display());
        if is_whiteout(&meta) {
            out.push((path, DELETED));
            any = true;
            continue;
        }
        let kind = match in_lower(lowers, &rel) {
            true => MODIFIED,
            false => ADDED,
        };
        let at = out.len();
        out.push((path, kind));
        let below = meta.is_dir() && walk(upper, lowers, &rel, out)?;
        // A directory copied up only to hold mount stubs changed nothing.
        if kind == MODIFIED && meta.is_dir() && !below && only_stubs(upper, &rel) {
            out.remove(at);
            continue;
        }
        any = true;
    }
    Ok(any)
}

/// Whether the image has `rel`: the topmost layer that knows the name
/// decides (a whiteout there hides the layers below).
fn in_lower(lowers: &[Root], rel: &Path) -> bool {
    for layer in lowers {
        if let Ok((_, meta)) = layer.stat(rel) {
            return !is_whiteout(&meta);
        }
    }
    false
}

/// Whether directory `rel` of `upper` holds mount stubs and nothing else.
fn only_stubs(upper: &Root, rel: &Path) -> bool {
    let Ok(names) = upper.list(rel) else {
        return false;
    };
    !names.is_empty()
        && names.iter().all(|n| {
            let rel = rel.join(n);
            upper
                .stat(&rel)
                .is_ok_and(|(_, meta)| is_mount_point_stub(upper, &rel, &meta))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_read_as_dockers_overlay_driver_reads_them() {
        let lower = tempfile::tempdir().unwrap();
        let upper = tempfile::tempdir().unwrap();
        let (l, u) = (lower.path(), upper.path());
        for d in ["etc", "bin", "tmp"] {
            std::fs::create_dir(l.join(d)).unwrap();
        }
        std::fs::write(l.join("etc/passwd"), "root").unwrap();
        std::fs::write(l.join("bin/true"), "x").unwrap();
        // The container's writes: a changed file, a new directory tree, a
        // deletion, and the stubs the runtime mounts over.
        std::fs::create_dir_all(u.join("etc")).unwrap();
        std::fs::write(u.join("etc/passwd"), "root\nu").unwrap();
        std::fs::write(u.join("etc/hostname"), "").unwrap();
        std::fs::create_dir_all(u.join("new/sub")).unwrap();
        std::fs::create_dir(u.join("bin")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            u.join("bin/true"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::empty(),
            0,
        )
        .unwrap();
        let got = changes(u, &[l.to_path_buf()]).unwrap();
        let want: Vec<Change> = vec![
            ("/bin".into(), MODIFIED),
            ("/bin/true".into(), DELETED),
            ("/etc".into(), MODIFIED),
            ("/etc/passwd".into(), MODIFIED),
            ("/new".into(), ADDED),
            ("/new/sub".into(), ADDED),
        ];
        assert_eq!(got, want);
        // A layer holding only the stubs has no changes.
        let stubs = tempfile::tempdir().unwrap();
        std::fs::create_dir(stubs.path().join("etc")).unwrap();
        std::fs::write(stubs.path().join("etc/resolv.conf"), "").unwrap();
        assert!(changes(stubs.path(), &[l.to_path_buf()])
            .unwrap()
            .is_empty());
    }
}
