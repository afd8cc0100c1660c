//! The image store: records, tags, look-ups and removal.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use vessel_runtime::record::{read_json, write_atomic, Durability};

use super::config::LegacyRecord;
use super::{normalize_reference, short_id, ConfigFile, Image, ImageUsers};
use crate::error::{EngineError, Result};

/// The layer and image store.
#[derive(Debug)]
pub struct ImageStore {
    pub(super) dir: PathBuf,
    pub(super) tmp: PathBuf,
    /// Held by every change of the tags, the digests and the set of
    /// images, and by a removal throughout: an image is only written
    /// while every layer it names is there, and a removal never takes a
    /// layer from under an image being written.
    records: Mutex<()>,
}

type Tags = BTreeMap<String, String>;

impl ImageStore {
    pub fn open(dir: &Path, tmp: &Path) -> Result<Self> {
        for d in [
            dir.join("layers/sha256"),
            dir.join("layers/size"),
            dir.join("layers/tar"),
            dir.join("layers/blobs"),
            dir.join("images"),
            tmp.to_path_buf(),
        ] {
            fs::create_dir_all(&d).map_err(EngineError::io(format!("creating {}", d.display())))?;
        }
        let store = ImageStore {
            dir: dir.to_path_buf(),
            tmp: tmp.to_path_buf(),
            records: Mutex::new(()),
        };
        store.remove_partial_imports();
        Ok(store)
    }

    /// Removes what an import that crashed half-way left in the scratch
    /// directory (finished layers and records are never there).
    fn remove_partial_imports(&self) {
        for scratch in ["import-", "layer-", "load-"] {
            crate::paths::clear_scratch(&self.tmp, scratch);
        }
    }

    /// The unpacked tree of a layer.
    pub fn layer_dir(&self, diff_id: &str) -> PathBuf {
        self.dir
            .join("layers/sha256")
            .join(diff_id.trim_start_matches("sha256:"))
    }

    pub(super) fn layer_size_file(&self, diff_id: &str) -> PathBuf {
        self.dir
            .join("layers/size")
            .join(diff_id.trim_start_matches("sha256:"))
    }

    /// A stored layer's unpacked size (measured, and kept, if it was not
    /// kept yet).
    pub fn layer_size(&self, diff_id: &str) -> u64 {
        if !super::config::is_digest(diff_id) {
            return 0;
        }
        let file = self.layer_size_file(diff_id);
        if let Some(size) = fs::read_to_string(&file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return size;
        }
        let size = super::tree_size(&self.layer_dir(diff_id));
        self.keep_layer_size(diff_id, size);
        size
    }

    /// Keeps a layer's size beside it.
    pub(super) fn keep_layer_size(&self, diff_id: &str, size: u64) {
        let file = self.layer_size_file(diff_id);
        if let Err(e) = write_atomic(&file, size.to_string().as_bytes(), Durability::ProcessCrash) {
            tracing::warn!(layer = %diff_id, error = %e, "cannot keep a layer's size");
        }
    }

    /// Stores an image config; returns the image it makes.
    pub(super) fn write_config(&self, file: ConfigFile) -> Result<Image> {
        let bytes = serde_json::to_vec(&file)
            .map_err(|e| EngineError::Internal(format!("encoding the image config: {e}")))?;
        self.write_config_bytes(&bytes)
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores an image config exactly as it came (its digest is the
    /// image's id); returns the image it makes.
    pub(super) fn write_config_bytes(&self, bytes: &[u8]) -> Result<Image> {
        let file: ConfigFile = serde_json::from_slice(bytes).map_err(|e| {
            EngineError::InvalidParameter(format!("the image config is malformed: {e}"))
        })?;
        file.check_diff_ids()?;
        let hexid = super::hex(&Sha256::digest(bytes));
        let _records = self.lock();
        if let Some(gone) = file.rootfs.diff_ids.iter().find(|l| !self.has_layer(l)) {
            return Err(EngineError::Conflict(format!(
                "layer {gone} was removed while the image was being made: try again"
            )));
        }
        write_atomic(
            &self.dir.join("images").join(format!("{hexid}.json")),
            bytes,
            Durability::MachineCrash,
        )
        .map_err(EngineError::io("writing the image config"))?;
        Ok(self.image_of(&hexid, file))
    }

    /// The image of config `file`, stored as `<hexid>.json`: its size is
    /// its layers'.
    fn image_of(&self, hexid: &str, file: ConfigFile) -> Image {
        let size = file
            .rootfs
            .diff_ids
            .iter()
            .map(|l| self.layer_size(l))
            .sum();
        Image::from_config(format!("sha256:{hexid}"), file, size)
    }

    /// `name@digest` references (by manifest digest) -> image id.
    fn digests(&self) -> Result<Tags> {
        self.read_map("digests.json", "the image digests")
    }

    /// Records that `name@digest` is image `id`.
    pub fn keep_digest(&self, reference: &str, id: &str) -> Result<()> {
        let _records = self.lock();
        self.still_there(id)?;
        let mut digests = self.digests()?;
        digests.insert(reference.to_string(), id.to_string());
        self.save_map("digests.json", &digests, "the image digests")
    }

    /// The `name@digest` references of image `id`, sorted.
    pub fn digests_of(&self, id: &str) -> Result<Vec<String>> {
        Ok(self
            .digests()?
            .into_iter()
            .filter(|(_, i)| i == id)
            .map(|(r, _)| r)
            .collect())
    }

    fn forget_digests(&self, id: &str) -> Result<()> {
        let mut digests = self.digests()?;
        let before = digests.len();
        digests.retain(|_, i| i != id);
        if digests.len() == before {
            return Ok(());
        }
        self.save_map("digests.json", &digests, "the image digests")
    }

    /// Refuses to name an image a removal (a prune) took meanwhile.
    fn still_there(&self, id: &str) -> Result<()> {
        let hexid = id.trim_start_matches("sha256:");
        match self
            .dir
            .join("images")
            .join(format!("{hexid}.json"))
            .exists()
        {
            true => Ok(()),
            false => Err(EngineError::Conflict(format!(
                "image {id} was removed while it was being named: try again"
            ))),
        }
    }

    fn tags(&self) -> Result<Tags> {
        self.read_map("repositories.json", "the image tags")
    }

    /// One of the store's maps (tags, digests); empty before its first
    /// write.
    fn read_map(&self, file: &str, what: &str) -> Result<Tags> {
        Ok(read_json(&self.dir.join(file))
            .map_err(EngineError::io(format!("reading {what}")))?
            .unwrap_or_default())
    }

    fn save_tags(&self, tags: &Tags) -> Result<()> {
        self.save_map("repositories.json", tags, "the image tags")
    }

    /// Writes one of the store's maps (tags, digests) whole.
    fn save_map(&self, file: &str, map: &Tags, what: &str) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(map)
            .map_err(|e| EngineError::Internal(format!("encoding {what}: {e}")))?;
        write_atomic(&self.dir.join(file), &bytes, Durability::MachineCrash)
            .map_err(EngineError::io(format!("writing {what}")))
    }

    /// Points `reference` (normalized `name:tag`) at image `id`.
    pub fn tag(&self, reference: &str, id: &str) -> Result<()> {
        let _records = self.lock();
        self.still_there(id)?;
        let mut tags = self.tags()?;
        tags.insert(reference.to_string(), id.to_string());
        self.save_tags(&tags)
    }

    /// The references that point at image `id`, sorted.
    pub fn tags_of(&self, id: &str) -> Result<Vec<String>> {
        let mut refs: Vec<String> = self
            .tags()?
            .into_iter()
            .filter(|(_, i)| i == id)
            .map(|(r, _)| r)
            .collect();
        refs.sort();
        Ok(refs)
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

    /// Image `id` when it is stored with all its layers.
    pub fn stored_whole(&self, id: &str) -> Option<Image> {
        let hexid = id.strip_prefix("sha256:")?;
        let image = self.load(hexid).ok()?;
        image
            .layers
            .iter()
            .all(|l| self.has_layer(l))
            .then_some(image)
    }

    fn load(&self, hexid: &str) -> Result<Image> {
        let path = self.dir.join("images").join(format!("{hexid}.json"));
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(EngineError::NotFound(format!("No such image: {hexid}")))
            }
            Err(e) => return Err(EngineError::io("reading an image config")(e)),
        };
        let file = serde_json::from_slice::<ConfigFile>(&bytes)
            .or_else(|e| {
                serde_json::from_slice::<LegacyRecord>(&bytes)
                    .map(Into::into)
                    .map_err(|_| e)
            })
            .map_err(|e| {
                EngineError::Internal(format!("image {hexid}: its config is unreadable: {e}"))
            })?;
        Ok(self.image_of(hexid, file))
    }

    /// Finds an image by `name[:tag]`, full id, or unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<Image> {
        let not_found = || EngineError::NotFound(format!("No such image: {name}"));
        if name.contains('@') {
            let remote = super::Remote::parse(name)?;
            let digest = remote.digest.as_deref().unwrap_or_default();
            let id = self.digests()?.remove(&remote.digested(digest));
            return match id {
                Some(id) => self.load(id.trim_start_matches("sha256:")),
                None => Err(not_found()),
            };
        }
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
        let _records = self.lock();
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
        self.forget_digests(&image.id)?;
        done.push(("Deleted".to_string(), image.id.clone()));
        // Layers no other image names go too.
        let still_used: Vec<String> = self
            .list()?
            .into_iter()
            .flat_map(|(i, _)| i.layers)
            .collect();
        for layer in image.layers.iter().filter(|l| !still_used.contains(l)) {
            self.remove_layer(layer);
        }
        Ok(done)
    }
}
