//! Layers into the store and back out: a layer tar is unpacked once, its
//! skeleton kept beside it, and its tar made again from both on demand.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vessel_runtime::record::{read_json, write_atomic, Durability};

use super::tarsplit::{self, Recorder};
use super::{remove_tree, tempdir_in, tree_size, unpack_layer, ImageStore};
use crate::error::{EngineError, Result};

/// A layer's compressed form as a registry holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownBlob {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// `registry/repository` it was pulled from or pushed to.
    pub source: String,
}

impl ImageStore {
    /// The skeleton of a layer's tar (see `tarsplit`).
    pub(super) fn skeleton(&self, diff_id: &str) -> PathBuf {
        self.dir
            .join("layers/tar")
            .join(diff_id.trim_start_matches("sha256:"))
    }

    /// Whether a layer is stored whole.
    pub fn has_layer(&self, diff_id: &str) -> bool {
        super::config::is_digest(diff_id) && self.layer_dir(diff_id).is_dir()
    }

    /// Stores the uncompressed layer tar `tar` and answers its diff id.
    /// With `expected`, a tar of any other digest is refused and nothing is
    /// kept. A layer already stored is not stored again.
    pub fn store_layer(&self, tar: impl Read, expected: Option<&str>) -> Result<String> {
        let work = tempdir_in(&self.tmp, "layer-")?;
        let result = self.store_layer_in(&work, tar, expected);
        let _ = remove_tree(&work);
        result
    }

    fn store_layer_in(
        &self,
        work: &Path,
        tar: impl Read,
        expected: Option<&str>,
    ) -> Result<String> {
        let tree = work.join("tree");
        let skeleton = work.join("skeleton");
        fs::create_dir(&tree).map_err(EngineError::io("unpacking a layer"))?;
        let file = fs::File::create(&skeleton).map_err(EngineError::io("unpacking a layer"))?;
        let (mut recorder, contents) =
            Recorder::new(tar, file).map_err(EngineError::io("unpacking a layer"))?;
        unpack_layer(&mut recorder, &tree, Some(&contents))?;
        let diff_id = recorder
            .finish()
            .map_err(|e| EngineError::InvalidParameter(format!("reading the layer tar: {e}")))?;
        if let Some(want) = expected.filter(|w| *w != diff_id) {
            return Err(EngineError::InvalidParameter(format!(
                "layer {want}: its content's digest is {diff_id}"
            )));
        }
        let size = tree_size(&tree);
        // Under the store's lock: a removal of the same layer never sees
        // its skeleton and its tree apart.
        let _records = self.lock();
        let layer = self.layer_dir(&diff_id);
        if layer.is_dir() {
            return Ok(diff_id);
        }
        fs::rename(&skeleton, self.skeleton(&diff_id))
            .map_err(EngineError::io("storing a layer"))?;
        match fs::rename(&tree, &layer) {
            Ok(()) => self.keep_layer_size(&diff_id, size),
            // Another store of the same content won the race.
            Err(_) if layer.is_dir() => {}
            Err(e) => return Err(EngineError::io("storing a layer")(e)),
        }
        Ok(diff_id)
    }

    /// Writes a stored layer's tar, exactly the bytes it was stored from,
    /// to `out`.
    pub fn layer_tar(&self, diff_id: &str, out: &mut impl Write) -> Result<()> {
        let digest = tarsplit::join(&self.skeleton(diff_id), &self.layer_dir(diff_id), out)
            .map_err(|e| EngineError::Io {
                context: format!("making the tar of layer {diff_id}"),
                source: e,
            })?;
        if digest != diff_id {
            return Err(EngineError::Internal(format!(
                "layer {diff_id} has changed on disk: its tar's digest is now {digest}"
            )));
        }
        Ok(())
    }

    /// The size of a stored layer's tar.
    pub fn layer_tar_size(&self, diff_id: &str) -> Result<u64> {
        tarsplit::size(&self.skeleton(diff_id)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => EngineError::NotSupported(format!(
                "layer {diff_id} was stored by an older Vessel that did not keep its tar: pull or import its image again"
            )),
            _ => EngineError::Io {
                context: format!("reading the skeleton of layer {diff_id}"),
                source: e,
            },
        })
    }

    /// Remembers that `blob` (a compressed form of layer `diff_id`) is
    /// in a registry, so that a push there or near it need not upload it.
    pub fn remember_blob(&self, diff_id: &str, blob: KnownBlob) {
        let mut known = self.known_blobs(diff_id);
        if known
            .iter()
            .any(|k| k.digest == blob.digest && k.source == blob.source)
        {
            return;
        }
        known.push(blob);
        let file = self.blobs_file(diff_id);
        let written = serde_json::to_vec(&known)
            .map_err(std::io::Error::other)
            .and_then(|b| write_atomic(&file, &b, Durability::ProcessCrash));
        if let Err(e) = written {
            tracing::warn!(layer = %diff_id, error = %e, "cannot remember where a layer is");
        }
    }

    /// The compressed forms of layer `diff_id` known to be in registries.
    pub fn known_blobs(&self, diff_id: &str) -> Vec<KnownBlob> {
        read_json(&self.blobs_file(diff_id))
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn blobs_file(&self, diff_id: &str) -> PathBuf {
        self.dir
            .join("layers/blobs")
            .join(diff_id.trim_start_matches("sha256:"))
    }

    /// Removes a layer: its tree, skeleton and size.
    pub(super) fn remove_layer(&self, diff_id: &str) {
        if !super::config::is_digest(diff_id) {
            return;
        }
        // The tree first: a layer without its tree is not a layer.
        if let Err(e) = remove_tree(&self.layer_dir(diff_id)) {
            tracing::warn!(layer = %diff_id, error = %e, "cannot remove a layer");
        }
        let _ = fs::remove_file(self.skeleton(diff_id));
        let _ = fs::remove_file(self.layer_size_file(diff_id));
        let _ = fs::remove_file(self.blobs_file(diff_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    fn store() -> (tempfile::TempDir, ImageStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(&dir.path().join("image"), &dir.path().join("tmp")).unwrap();
        (dir, store)
    }

    /// A layer as GNU tar writes one (long names, links, whiteouts, an
    /// opaque directory, a 10 KiB record's padding).
    fn gnu_tar_layer(dir: &Path) -> Vec<u8> {
        let src = dir.join("src");
        let long = "d/".to_string() + &"n".repeat(150);
        fs::create_dir_all(src.join(&long)).unwrap();
        fs::create_dir_all(src.join("o")).unwrap();
        fs::write(src.join(&long).join("f"), vec![7u8; 70_000]).unwrap();
        fs::write(src.join("d/empty"), b"").unwrap();
        fs::write(src.join("d/.wh.gone"), b"").unwrap();
        fs::write(src.join("o/.wh..wh..opq"), b"").unwrap();
        fs::write(src.join("o/kept"), b"kept").unwrap();
        fs::hard_link(src.join("o/kept"), src.join("o/link")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.join("s")).unwrap();
        let out = std::process::Command::new("tar")
            .args(["-C", src.to_str().unwrap(), "-cf", "-", "."])
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    }

    #[test]
    fn a_stored_layer_gives_back_its_tar_byte_for_byte() {
        let (dir, store) = store();
        let tar = gnu_tar_layer(dir.path());
        let diff_id = store.store_layer(&tar[..], None).unwrap();
        let mut again = Vec::new();
        store.layer_tar(&diff_id, &mut again).unwrap();
        assert_eq!(again.len(), tar.len());
        assert_eq!(store.layer_tar_size(&diff_id).unwrap(), tar.len() as u64);
        assert!(again == tar, "the tar made again differs");
        let tree = store.layer_dir(&diff_id);
        let gone = fs::symlink_metadata(tree.join("d/gone")).unwrap();
        assert!(gone.file_type().is_char_device(), "a whiteout is 0/0");
        assert!(!tree.join("d/.wh.gone").exists());
        let opaque = rustix::fs::getxattr(tree.join("o"), "trusted.overlay.opaque", &mut [0u8; 4]);
        assert_eq!(opaque.unwrap(), 1);
        // Only the headers are kept twice: the file contents are not.
        let skeleton = fs::metadata(store.skeleton(&diff_id)).unwrap().len();
        assert!(skeleton < 20_000, "skeleton of {skeleton} bytes");
        assert!(fs::read_dir(dir.path().join("tmp"))
            .unwrap()
            .next()
            .is_none());
    }

    #[test]
    fn a_layer_of_the_wrong_digest_is_refused_and_nothing_is_kept() {
        let (dir, store) = store();
        let tar = gnu_tar_layer(dir.path());
        let want = "sha256:".to_string() + &"0".repeat(64);
        let e = store.store_layer(&tar[..], Some(&want)).unwrap_err();
        assert!(e.to_string().contains(&want), "{e}");
        assert_eq!(
            fs::read_dir(dir.path().join("image/layers/sha256"))
                .unwrap()
                .count(),
            0
        );
        assert_eq!(
            fs::read_dir(dir.path().join("image/layers/tar"))
                .unwrap()
                .count(),
            0
        );
        assert!(fs::read_dir(dir.path().join("tmp"))
            .unwrap()
            .next()
            .is_none());
    }

    #[test]
    fn a_layer_changed_on_disk_is_not_given_out_as_the_old_one() {
        let (dir, store) = store();
        let tar = gnu_tar_layer(dir.path());
        let diff_id = store.store_layer(&tar[..], None).unwrap();
        fs::write(store.layer_dir(&diff_id).join("o/kept"), b"KEPT").unwrap();
        let e = store.layer_tar(&diff_id, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("has changed"), "{e}");
        // A file made a link out of the tree: refused before it is read.
        let f = store
            .layer_dir(&diff_id)
            .join("d")
            .join("n".repeat(150))
            .join("f");
        fs::remove_file(&f).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &f).unwrap();
        let mut out = Vec::new();
        let e = store.layer_tar(&diff_id, &mut out).unwrap_err();
        assert!(e.to_string().contains("symbolic links"), "{e}");
        let host = fs::read("/etc/hostname").unwrap_or_default();
        assert!(host.is_empty() || !out.windows(host.len()).any(|w| w == host));
    }
}
