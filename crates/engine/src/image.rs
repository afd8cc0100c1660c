//! Images, first part: a content-addressed layer store and `import`.
//!
//! A layer is stored once, under the sha256 of its uncompressed tar (its
//! diff id): `image/layers/sha256/<hex>/` holds the unpacked tree. An
//! image is a record `image/images/<hex>.json` naming its layers, bottom
//! first, and its run config; its id is the sha256 of that record's
//! content. Tags (`name:tag` -> image id) live in `image/repositories.json`.
//! Every record is written atomically; a layer directory appears under its
//! final name only once it is complete.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vessel_runtime::record::{now_rfc3339, read_json, write_atomic, Durability};

use crate::error::{EngineError, Result};

/// The run configuration an image carries (what `docker import --change`
/// and image configs set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageConfig {
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: String,
    pub user: String,
}

/// An image record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Image {
    /// `sha256:<hex>`, filled in from the record's file name.
    #[serde(skip)]
    pub id: String,
    pub created: String,
    /// Diff ids (`sha256:<hex>`), bottom layer first.
    pub layers: Vec<String>,
    pub size: u64,
    pub config: ImageConfig,
    pub comment: String,
}

/// The layer and image store.
#[derive(Debug)]
pub struct ImageStore {
    dir: PathBuf,
    tmp: PathBuf,
}

type Tags = BTreeMap<String, String>;

impl ImageStore {
    pub fn open(dir: &Path, tmp: &Path) -> Result<Self> {
        for d in [
            dir.join("layers/sha256"),
            dir.join("images"),
            tmp.to_path_buf(),
        ] {
            fs::create_dir_all(&d).map_err(EngineError::io(format!("creating {}", d.display())))?;
        }
        let store = ImageStore {
            dir: dir.to_path_buf(),
            tmp: tmp.to_path_buf(),
        };
        store.remove_partial_imports();
        Ok(store)
    }

    /// Removes what an import that crashed half-way left in the scratch
    /// directory (finished layers and records are never there).
    fn remove_partial_imports(&self) {
        crate::paths::clear_scratch(&self.tmp, "import-");
    }

    /// The unpacked tree of a layer.
    pub fn layer_dir(&self, diff_id: &str) -> PathBuf {
        self.dir
            .join("layers/sha256")
            .join(diff_id.trim_start_matches("sha256:"))
    }

    /// Imports a rootfs tarball (plain or gzip) as a one-layer image and
    /// tags it `reference` when given. Returns the new image.
    pub fn import(
        &self,
        body: impl Read,
        reference: Option<&str>,
        config: ImageConfig,
        comment: &str,
    ) -> Result<Image> {
        let reference = reference.map(normalize_reference).transpose()?;
        let work = tempdir_in(&self.tmp, "import-")?;
        let result = self.import_into(&work, body, config, comment);
        let _ = remove_tree(&work);
        let image = result?;
        if let Some(r) = reference {
            self.tag(&r, &image.id)?;
        }
        Ok(image)
    }

    fn import_into(
        &self,
        work: &Path,
        body: impl Read,
        config: ImageConfig,
        comment: &str,
    ) -> Result<Image> {
        // Keep the uncompressed tar while hashing it: the digest names the
        // layer, and the tree is unpacked from the copy.
        let tar_path = work.join("layer.tar");
        let mut tar_file =
            fs::File::create(&tar_path).map_err(EngineError::io("storing the uploaded layer"))?;
        let mut body = BufReader::new(body);
        let gzip = body
            .fill_buf()
            .map_err(EngineError::io("reading the uploaded layer"))?
            .starts_with(&[0x1f, 0x8b]);
        let mut hasher = Sha256::new();
        let mut reader: Box<dyn Read> = if gzip {
            Box::new(flate2::read::GzDecoder::new(body))
        } else {
            Box::new(body)
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(EngineError::InvalidParameter(format!(
                        "reading the uploaded layer: {e}"
                    )))
                }
            };
            hasher.update(&buf[..n]);
            tar_file
                .write_all(&buf[..n])
                .map_err(EngineError::io("storing the uploaded layer"))?;
        }
        tar_file
            .sync_all()
            .map_err(EngineError::io("storing the uploaded layer"))?;
        let diff_id = format!("sha256:{}", hex(&hasher.finalize()));

        let layer = self.layer_dir(&diff_id);
        let size = if layer.is_dir() {
            tree_size(&layer)
        } else {
            let tree = work.join("tree");
            fs::create_dir(&tree).map_err(EngineError::io("unpacking the layer"))?;
            let file = fs::File::open(&tar_path).map_err(EngineError::io("unpacking the layer"))?;
            unpack_layer(file, &tree)?;
            let size = tree_size(&tree);
            match fs::rename(&tree, &layer) {
                Ok(()) => {}
                // Another import of the same content won the race.
                Err(_) if layer.is_dir() => {}
                Err(e) => return Err(EngineError::io("storing the layer")(e)),
            }
            size
        };

        let mut image = Image {
            id: String::new(),
            created: now_rfc3339(),
            layers: vec![diff_id],
            size,
            config,
            comment: comment.to_string(),
        };
        let bytes = serde_json::to_vec_pretty(&image)
            .map_err(|e| EngineError::Internal(format!("encoding the image record: {e}")))?;
        let hexid = hex(&Sha256::digest(&bytes));
        write_atomic(
            &self.dir.join("images").join(format!("{hexid}.json")),
            &bytes,
            Durability::MachineCrash,
        )
        .map_err(EngineError::io("writing the image record"))?;
        image.id = format!("sha256:{hexid}");
        Ok(image)
    }

    fn tags(&self) -> Result<Tags> {
        Ok(read_json(&self.dir.join("repositories.json"))
            .map_err(EngineError::io("reading the image tags"))?
            .unwrap_or_default())
    }

    fn save_tags(&self, tags: &Tags) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(tags)
            .map_err(|e| EngineError::Internal(format!("encoding the image tags: {e}")))?;
        write_atomic(
            &self.dir.join("repositories.json"),
            &bytes,
            Durability::MachineCrash,
        )
        .map_err(EngineError::io("writing the image tags"))
    }

    /// Points `reference` (normalized `name:tag`) at image `id`.
    pub fn tag(&self, reference: &str, id: &str) -> Result<()> {
        let mut tags = self.tags()?;
        tags.insert(reference.to_string(), id.to_string());
        self.save_tags(&tags)
    }

    /// Every image, with its tags.
    pub fn list(&self) -> Result<Vec<(Image, Vec<String>)>> {
        let tags = self.tags()?;
        let mut out = Vec::new();
        let entries =
            fs::read_dir(self.dir.join("images")).map_err(EngineError::io("listing the images"))?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(hexid) = name.strip_suffix(".json") else {
                continue;
            };
            if let Ok(image) = self.load(hexid) {
                let refs = tags
                    .iter()
                    .filter(|(_, id)| **id == image.id)
                    .map(|(r, _)| r.clone())
                    .collect();
                out.push((image, refs));
            }
        }
        out.sort_by(|a, b| b.0.created.cmp(&a.0.created));
        Ok(out)
    }

    fn load(&self, hexid: &str) -> Result<Image> {
        let mut image: Image = read_json(&self.dir.join("images").join(format!("{hexid}.json")))
            .map_err(EngineError::io("reading an image record"))?
            .ok_or_else(|| EngineError::NotFound(format!("No such image: {hexid}")))?;
        image.id = format!("sha256:{hexid}");
        Ok(image)
    }

    /// Finds an image by `name[:tag]`, full id, or unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<Image> {
        let not_found = || EngineError::NotFound(format!("No such image: {name}"));
        if let Ok(reference) = normalize_reference(name) {
            if let Some(id) = self.tags()?.get(&reference) {
                return self.load(id.trim_start_matches("sha256:"));
            }
        }
        let prefix = name.trim_start_matches("sha256:");
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let mut found = Vec::new();
        let entries =
            fs::read_dir(self.dir.join("images")).map_err(EngineError::io("listing the images"))?;
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            if let Some(hexid) = file.strip_suffix(".json") {
                if hexid.starts_with(prefix) {
                    found.push(hexid.to_string());
                }
            }
        }
        match found.as_slice() {
            [one] => self.load(one),
            [] => Err(not_found()),
            _ => Err(EngineError::InvalidParameter(format!(
                "image id prefix {name} is ambiguous"
            ))),
        }
    }

    /// `docker rmi`, with Docker's rules. A tag is only untagged while
    /// the image has others; removing an image's last tag while a
    /// container uses it takes `force`, and then leaves the image,
    /// untagged, to its containers. An image is deleted only when no
    /// running container uses it (not even with `force`), no stopped one
    /// does unless forced, and, when named by id, it has at most one tag
    /// unless forced. A stopped container's image is kept, untagged, even
    /// when forced: the container still needs it to start again. Answers
    /// the `Untagged` and `Deleted` records, in order.
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        users: impl Fn(&str) -> ImageUsers,
    ) -> Result<Vec<(String, String)>> {
        let image = self.resolve(name)?;
        let id12 = short_id(&image.id).to_string();
        let mut tags = self.tags()?;
        let mut done = Vec::new();
        let image_tags: Vec<String> = tags
            .iter()
            .filter(|(_, id)| **id == image.id)
            .map(|(r, _)| r.clone())
            .collect();
        let users = users(&image.id);
        let by_tag = normalize_reference(name)
            .ok()
            .filter(|r| tags.get(r) == Some(&image.id));
        if let Some(reference) = by_tag {
            if !force && image_tags.len() == 1 {
                if let Some(c) = users.running.as_ref().or(users.stopped.as_ref()) {
                    return Err(EngineError::Conflict(format!(
                        "conflict: unable to remove repository reference {name:?} (must force) - container {} is using its referenced image {id12}",
                        short_id(c)
                    )));
                }
            }
            tags.remove(&reference);
            self.save_tags(&tags)?;
            done.push(("Untagged".to_string(), reference));
            if image_tags.len() > 1 || users.running.is_some() || users.stopped.is_some() {
                // Other tags still name it, or its containers keep it.
                return Ok(done);
            }
        } else {
            if let Some(c) = &users.running {
                return Err(EngineError::Conflict(format!(
                    "conflict: unable to delete {id12} (cannot be forced) - image is being used by running container {}",
                    short_id(c)
                )));
            }
            if !force {
                if let Some(c) = &users.stopped {
                    return Err(EngineError::Conflict(format!(
                        "conflict: unable to delete {id12} (must be forced) - image is being used by stopped container {}",
                        short_id(c)
                    )));
                }
                if image_tags.len() > 1 {
                    return Err(EngineError::Conflict(format!(
                        "conflict: unable to delete {id12} (must be forced) - image is referenced in multiple repositories"
                    )));
                }
            }
            for r in &image_tags {
                tags.remove(r);
                done.push(("Untagged".to_string(), r.clone()));
            }
            self.save_tags(&tags)?;
            if let Some(c) = &users.stopped {
                if done.is_empty() {
                    // Already untagged: there is nothing more -f can do
                    // until that container goes.
                    return Err(EngineError::Conflict(format!(
                        "conflict: unable to delete {id12} - image is kept for stopped container {} until it is removed",
                        short_id(c)
                    )));
                }
                return Ok(done);
            }
        }
        let hexid = image.id.trim_start_matches("sha256:");
        fs::remove_file(self.dir.join("images").join(format!("{hexid}.json")))
            .map_err(EngineError::io("removing the image record"))?;
        done.push(("Deleted".to_string(), image.id.clone()));
        // Layers no other image names go too.
        let still_used: Vec<String> = self
            .list()?
            .into_iter()
            .flat_map(|(i, _)| i.layers)
            .collect();
        for layer in image.layers.iter().filter(|l| !still_used.contains(l)) {
            if let Err(e) = remove_tree(&self.layer_dir(layer)) {
                tracing::warn!(layer = %layer, error = %e, "cannot remove a layer");
            }
        }
        Ok(done)
    }
}

/// The containers that use an image, one of each kind, for `rmi`'s
/// conflicts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImageUsers {
    pub running: Option<String>,
    pub stopped: Option<String>,
}

/// `name` or `name:tag` -> `name:tag` (default tag `latest`); refuses
/// what Docker's reference grammar refuses (upper case, spaces, digests).
pub fn normalize_reference(reference: &str) -> Result<String> {
    let invalid = || {
        EngineError::InvalidParameter(format!(
            "invalid reference format: repository name {reference:?} must be lowercase letters, digits and separators (. _ - /), optionally with :tag"
        ))
    };
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, "latest"),
    };
    let name_ok = !name.is_empty()
        && name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
        });
    let tag_ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !tag.starts_with(['.', '-']);
    if name_ok && tag_ok {
        Ok(format!("{name}:{tag}"))
    } else {
        Err(invalid())
    }
}

/// The 12-digit form of an id.
pub fn short_id(id: &str) -> &str {
    let hexid = id.trim_start_matches("sha256:");
    &hexid[..hexid.len().min(12)]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tempdir_in(parent: &Path, prefix: &str) -> Result<PathBuf> {
    for n in 0..100u32 {
        let dir = parent.join(format!("{prefix}{}-{n}", std::process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(EngineError::io("creating a scratch directory")(e)),
        }
    }
    Err(EngineError::Internal(
        "cannot create a scratch directory".into(),
    ))
}

/// Removes a tree that may hold read-only directories.
pub(crate) fn remove_tree(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

/// Unpacks a layer tar into `root`, refusing any entry that would write
/// outside it: absolute paths, `..`, hard links to outside, and writes
/// through a symlink the archive made earlier.
pub fn unpack_layer(tar: impl Read, root: &Path) -> Result<()> {
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
        if kind.is_hard_link() {
            let target = entry
                .link_name()
                .ok()
                .flatten()
                .ok_or_else(|| escape(&path, "its hard link has no target"))?
                .into_owned();
            let target_rel = inside(&target)
                .filter(|t| !t.as_os_str().is_empty())
                .ok_or_else(|| escape(&path, "its hard link points outside the layer"))?;
            if through_symlink(root, &target_rel) {
                return Err(escape(
                    &path,
                    "its hard link points through a symbolic link",
                ));
            }
        }
        if kind.is_symlink() {
            let target = entry.link_name().ok().flatten().map(|t| t.into_owned());
            let Some(target) = target else {
                return Err(escape(&path, "its symbolic link has no target"));
            };
            // Absolute targets resolve inside the container's root; relative
            // ones must not climb above it.
            if target.is_relative()
                && inside(&rel.parent().unwrap_or(Path::new("")).join(&target)).is_none()
            {
                return Err(escape(&path, "its symbolic link points outside the layer"));
            }
        }
        let unpacked = entry.unpack_in(root).map_err(|e| {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            EngineError::InvalidParameter(format!("unpacking {}: {e}{cause}", path.display()))
        })?;
        if !unpacked {
            return Err(escape(&path, "its path leaves the layer"));
        }
    }
    Ok(())
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
mod tests {
    use super::*;

    /// A tar whose entries are written with raw names (so that `..` and
    /// absolute paths get in, as a hostile archive would have them).
    fn tar_of(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
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
        let r = unpack_layer(&tar_of(entries)[..], &dir.path().join("layer"));
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
    fn references_are_normalized_or_refused_by_name() {
        assert_eq!(normalize_reference("busybox").unwrap(), "busybox:latest");
        assert_eq!(normalize_reference("a/b:1.0").unwrap(), "a/b:1.0");
        let e = normalize_reference("Busy Box").unwrap_err().to_string();
        assert!(e.contains("Busy Box"), "{e}");
    }

    #[test]
    fn an_import_is_stored_once_by_content_and_removed_with_its_last_image() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(&dir.path().join("image"), &dir.path().join("tmp")).unwrap();
        let tar = tar_of(&[("./f", Regular, "", b"data")]);
        let a = store
            .import(&tar[..], Some("one"), ImageConfig::default(), "")
            .unwrap();
        let b = store
            .import(&tar[..], Some("two:x"), ImageConfig::default(), "")
            .unwrap();
        assert_eq!(a.layers, b.layers, "same content, same layer");
        assert_eq!(store.resolve("one").unwrap().id, a.id);
        assert_eq!(store.resolve(&a.id[7..15]).unwrap().id, a.id);
        store
            .remove("one", false, |_| ImageUsers::default())
            .unwrap();
        assert!(
            store.layer_dir(&a.layers[0]).exists(),
            "still used by two:x"
        );
        store
            .remove("two:x", false, |_| ImageUsers::default())
            .unwrap();
        assert!(!store.layer_dir(&a.layers[0]).exists());
        assert!(std::fs::read_dir(dir.path().join("tmp"))
            .unwrap()
            .next()
            .is_none());
    }
}
