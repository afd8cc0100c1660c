//! Tars of a container's filesystem: its changes as a layer (`commit`:
//! the writable layer, overlayfs's whiteouts written as `.wh.` entries)
//! and the whole of it as the container sees it (`export`: the layers
//! merged, top first, whiteouts and opaque directories honoured).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

const OPAQUE: &str = ".wh..wh..opq";

/// What the runtime makes in a writable layer to mount over: not the
/// container's changes while they stay empty (Docker keeps them in a
/// layer of their own, below the container's).
const MOUNT_POINTS: &[&str] = &[
    "etc/hostname",
    "etc/hosts",
    "etc/resolv.conf",
    "dev",
    "proc",
    "sys",
];

fn is_mount_point_stub(rel: &Path, meta: &Metadata, path: &Path) -> bool {
    let listed = MOUNT_POINTS.iter().any(|m| rel == Path::new(m));
    let empty = match meta.is_dir() {
        true => fs::read_dir(path).is_ok_and(|mut d| d.next().is_none()),
        false => meta.is_file() && meta.len() == 0,
    };
    listed && empty
}

/// Writes the changes held in the writable layer `upper` as a layer tar.
pub fn diff_tar(upper: &Path, out: impl Write) -> io::Result<()> {
    let mut tar = Tar::new(out);
    if upper.is_dir() {
        diff_dir(upper, Path::new(""), &mut tar)?;
    }
    tar.finish()
}

fn diff_dir(upper: &Path, rel: &Path, tar: &mut Tar<impl Write>) -> io::Result<()> {
    for (name, path) in sorted(&upper.join(rel))? {
        let rel = rel.join(&name);
        let meta = fs::symlink_metadata(&path)?;
        if is_mount_point_stub(&rel, &meta, &path) {
            continue;
        }
        if is_whiteout(&meta) {
            let wh = rel.with_file_name(format!(".wh.{}", name.to_string_lossy()));
            tar.empty(&wh)?;
            continue;
        }
        tar.entry(&path, &rel, &meta)?;
        if meta.is_dir() {
            if is_opaque(&path) {
                tar.empty(&rel.join(OPAQUE))?;
            }
            diff_dir(upper, &rel, tar)?;
        }
    }
    Ok(())
}

/// Writes the filesystem the layers `top_first` (writable layer first)
/// make, as one tar.
pub fn merged_tar(top_first: &[PathBuf], out: impl Write) -> io::Result<()> {
    let mut tar = Tar::new(out);
    merged_dir(top_first, Path::new(""), &mut tar)?;
    tar.finish()
}

fn merged_dir(layers: &[PathBuf], rel: &Path, tar: &mut Tar<impl Write>) -> io::Result<()> {
    // Each name from the upper-most layer that has it.
    let mut names: BTreeMap<OsString, usize> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for (name, _) in sorted(&layer.join(rel)).unwrap_or_default() {
            names.entry(name).or_insert(i);
        }
    }
    for (name, top) in names {
        let rel = rel.join(&name);
        let path = layers[top].join(&rel);
        let meta = fs::symlink_metadata(&path)?;
        if is_whiteout(&meta) {
            continue;
        }
        tar.entry(&path, &rel, &meta)?;
        if !meta.is_dir() {
            continue;
        }
        // The layers below that still show into this directory: down to
        // an opaque one, or to one where the name is not a directory.
        let mut below = Vec::new();
        for layer in &layers[top..] {
            match fs::symlink_metadata(layer.join(&rel)) {
                Ok(m) if m.is_dir() => {
                    below.push(layer.clone());
                    if is_opaque(&layer.join(&rel)) {
                        break;
                    }
                }
                Ok(_) => break,
                Err(_) => {}
            }
        }
        merged_dir(&below, &rel, tar)?;
    }
    Ok(())
}

/// A 0/0 character device: overlayfs's mark of a deleted name.
fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

fn is_opaque(dir: &Path) -> bool {
    let mut value = [0u8; 4];
    matches!(
        rustix::fs::lgetxattr(dir, "trusted.overlay.opaque", &mut value),
        Ok(1) if value[0] == b'y'
    )
}

/// The entries of `dir`, by name.
fn sorted(dir: &Path) -> io::Result<Vec<(OsString, PathBuf)>> {
    let mut out: Vec<(OsString, PathBuf)> = fs::read_dir(dir)?
        .map(|e| e.map(|e| (e.file_name(), e.path())))
        .collect::<io::Result<_>>()?;
    out.sort();
    Ok(out)
}

/// Entries out, hard links kept as such.
struct Tar<W: Write> {
    builder: tar::Builder<W>,
    /// (device, inode) of a file with several links -> its first name.
    linked: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> Tar<W> {
    fn new(out: W) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Complete);
        builder.follow_symlinks(false);
        Tar {
            builder,
            linked: HashMap::new(),
        }
    }

    fn entry(&mut self, path: &Path, rel: &Path, meta: &Metadata) -> io::Result<()> {
        if meta.is_file() && meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.linked.get(&key) {
                let mut h = tar::Header::new_gnu();
                h.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                return self.builder.append_link(&mut h, rel, first);
            }
            self.linked.insert(key, rel.to_path_buf());
        }
        self.builder.append_path_with_name(path, rel)
    }

    /// An empty regular file (a whiteout or an opaque marker).
    fn empty(&mut self, rel: &Path) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        self.builder.append_data(&mut h, rel, io::empty())
    }

    fn finish(self) -> io::Result<()> {
        self.builder.into_inner()?.flush()
    }
}
