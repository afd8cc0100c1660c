//! Tars of a container's filesystem: its changes as a layer (`commit`:
//! the writable layer, overlayfs's whiteouts written as `.wh.` entries)
//! and the whole of it as the container sees it (`export`: the layers
//! merged, top first, whiteouts and opaque directories honoured).
//!
//! A running container may change its writable layer while it is read
//! (`export`, `commit --pause=false`), even turn a directory into a link
//! to `/`: every path is opened inside its layer's root
//! (`openat2(RESOLVE_IN_ROOT)`), so that nothing of the host is read.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

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

/// Writes the changes held in the writable layer `upper` as a layer tar.
pub fn diff_tar(upper: &Path, out: impl Write) -> io::Result<()> {
    let mut tar = Tar::new(out);
    if upper.is_dir() {
        diff_dir(&Root::open(upper)?, Path::new(""), &mut tar)?;
    }
    tar.finish()
}

fn diff_dir(upper: &Root, rel: &Path, tar: &mut Tar<impl Write>) -> io::Result<()> {
    for name in upper.list(rel)? {
        let rel = rel.join(&name);
        let Ok((fd, meta)) = upper.stat(&rel) else {
            continue; // gone meanwhile
        };
        if is_mount_point_stub(upper, &rel, &meta) {
            continue;
        }
        if is_whiteout(&meta) {
            let wh = rel.with_file_name(format!(".wh.{}", name.to_string_lossy()));
            tar.empty(&wh)?;
            continue;
        }
        tar.entry(upper, &rel, &fd, &meta)?;
        if meta.is_dir() {
            if upper.is_opaque(&rel) {
                tar.empty(&rel.join(OPAQUE))?;
            }
            diff_dir(upper, &rel, tar)?;
        }
    }
    Ok(())
}

pub(super) fn is_mount_point_stub(root: &Root, rel: &Path, meta: &Metadata) -> bool {
    let listed = MOUNT_POINTS.iter().any(|m| rel == Path::new(m));
    let empty = match meta.is_dir() {
        true => root.list(rel).is_ok_and(|l| l.is_empty()),
        false => meta.is_file() && meta.len() == 0,
    };
    listed && empty
}

/// Writes the filesystem the layers `top_first` (writable layer first)
/// make, as one tar.
pub fn merged_tar(top_first: &[PathBuf], out: impl Write) -> io::Result<()> {
    let mut roots = Vec::new();
    for dir in top_first {
        match Root::open(dir) {
            Ok(r) => roots.push(r),
            // A container never started has no writable layer yet.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let mut tar = Tar::new(out);
    let all: Vec<&Root> = roots.iter().collect();
    merged_dir(&all, Path::new(""), &mut tar)?;
    tar.finish()
}

fn merged_dir(layers: &[&Root], rel: &Path, tar: &mut Tar<impl Write>) -> io::Result<()> {
    // Each name from the upper-most layer that has it.
    let mut names: BTreeMap<OsString, usize> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for name in layer.list(rel).unwrap_or_default() {
            names.entry(name).or_insert(i);
        }
    }
    for (name, top) in names {
        let rel = rel.join(&name);
        let Ok((fd, meta)) = layers[top].stat(&rel) else {
            continue;
        };
        if is_whiteout(&meta) {
            continue;
        }
        tar.entry(layers[top], &rel, &fd, &meta)?;
        if !meta.is_dir() {
            continue;
        }
        // The layers below that still show into this directory: down to
        // an opaque one, or to one where the name is not a directory.
        let mut below = Vec::new();
        for layer in &layers[top..] {
            match layer.stat(&rel) {
                Ok((_, m)) if m.is_dir() => {
                    below.push(*layer);
                    if layer.is_opaque(&rel) {
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
pub(super) fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// A layer's directory, every path under it resolved inside it.
pub(super) struct Root {
    dir: File,
}

impl Root {
    pub(super) fn open(path: &Path) -> io::Result<Root> {
        Ok(Root {
            dir: File::open(path)?,
        })
    }

    fn open_at(&self, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let rel = match rel.as_os_str().is_empty() {
            true => Path::new("."),
            false => rel,
        };
        let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(vessel_runtime::in_root::openat2(
            &self.dir,
            rel,
            flags,
            Mode::empty(),
        )?)
    }

    /// `rel` itself (a final link not followed) and its metadata.
    pub(super) fn stat(&self, rel: &Path) -> io::Result<(OwnedFd, Metadata)> {
        let fd = self.open_at(rel, OFlags::PATH)?;
        let meta = File::from(fd.try_clone()?).metadata()?;
        Ok((fd, meta))
    }

    /// The names in directory `rel`, sorted.
    pub(super) fn list(&self, rel: &Path) -> io::Result<Vec<OsString>> {
        let fd = self.open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY)?;
        // The descriptor's own directory, whatever its path has become.
        let mut names: Vec<OsString> = fs::read_dir(format!("/proc/self/fd/{}", fd.as_raw_fd()))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        Ok(names)
    }

    fn is_opaque(&self, rel: &Path) -> bool {
        let Ok(fd) = self.open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY) else {
            return false;
        };
        let mut value = [0u8; 4];
        matches!(
            rustix::fs::fgetxattr(&fd, "trusted.overlay.opaque", &mut value),
            Ok(1) if value[0] == b'y'
        )
    }
}

/// Entries out, hard links kept as such.
struct Tar<W: Write> {
    builder: tar::Builder<W>,
    /// (device, inode) of a file with several links -> its first name.
    linked: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> Tar<W> {
    fn new(out: W) -> Self {
        Tar {
            builder: tar::Builder::new(out),
            linked: HashMap::new(),
        }
    }

    /// The entry of `rel` (`fd` is it, opened as a path, and `meta` its
    /// metadata), read inside `root`.
    fn entry(&mut self, root: &Root, rel: &Path, fd: &OwnedFd, meta: &Metadata) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
        if meta.is_file() && meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.linked.get(&key) {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                return self.builder.append_link(&mut h, rel, first);
            }
            self.linked.insert(key, rel.to_path_buf());
        }
        if meta.file_type().is_symlink() {
            let target = rustix::fs::readlinkat(fd, "", Vec::new())?;
            let target = PathBuf::from(std::ffi::OsStr::from_bytes(target.as_bytes()));
            h.set_size(0);
            return self.builder.append_link(&mut h, rel, target);
        }
        if meta.is_file() {
            let file = File::from(root.open_at(rel, OFlags::RDONLY)?);
            // Exactly the size announced, however the file changes meanwhile.
            let len = meta.len();
            let data = file.take(len).chain(io::repeat(0)).take(len);
            return self.builder.append_data(&mut h, rel, data);
        }
        h.set_size(0);
        self.builder.append_data(&mut h, rel, io::empty())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_out_of_the_layer_is_read_as_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/", dir.path().join("out")).unwrap();
        fs::write(dir.path().join("own"), b"mine").unwrap();
        let root = Root::open(dir.path()).unwrap();
        // The host's /proc and /etc/hostname are not reached through it.
        assert!(root.stat(Path::new("out/proc")).is_err());
        assert!(root.list(Path::new("out/etc")).is_err());
        // What resolves, resolves inside: out/own is the layer's own.
        let (_, meta) = root.stat(Path::new("out/own")).unwrap();
        assert_eq!(meta.len(), 4);
        let mut tar = Vec::new();
        merged_tar(&[dir.path().to_path_buf()], &mut tar).unwrap();
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["out", "own"]);
    }
}
