//! `docker import`: a rootfs tarball (plain or gzip) made into a
//! one-layer image.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use vessel_runtime::record::now_rfc3339;

use super::{hex, normalize_reference, remove_tree, tempdir_in, tree_size, unpack_layer};
use super::{host_architecture, ConfigFile, History, Image, ImageConfig, ImageStore, RootFs};
use crate::error::{EngineError, Result};

impl ImageStore {
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
        if !layer.is_dir() {
            let tree = work.join("tree");
            fs::create_dir(&tree).map_err(EngineError::io("unpacking the layer"))?;
            let file = fs::File::open(&tar_path).map_err(EngineError::io("unpacking the layer"))?;
            unpack_layer(file, &tree)?;
            let size = tree_size(&tree);
            match fs::rename(&tree, &layer) {
                Ok(()) => self.keep_layer_size(&diff_id, size),
                // Another import of the same content won the race.
                Err(_) if layer.is_dir() => {}
                Err(e) => return Err(EngineError::io("storing the layer")(e)),
            }
        }

        // Docker's words for an import without a message.
        let comment = match comment {
            "" => "Imported from -",
            c => c,
        };
        let created = now_rfc3339();
        self.write_config(ConfigFile {
            architecture: host_architecture().to_string(),
            os: "linux".into(),
            created: Some(created.clone()),
            comment: comment.to_string(),
            config,
            rootfs: RootFs {
                typ: "layers".into(),
                diff_ids: vec![diff_id],
            },
            history: vec![History {
                created: Some(created),
                comment: comment.to_string(),
                ..History::default()
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::layers::tests::tar_of;
    use crate::image::ImageUsers;
    use tar::EntryType::Regular;

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

    #[test]
    fn an_image_is_dockers_config_and_its_id_the_digest_of_those_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(&dir.path().join("image"), &dir.path().join("tmp")).unwrap();
        let tar = tar_of(&[("./f", Regular, "", b"data")]);
        let config = ImageConfig {
            cmd: Some(vec!["sh".into()]),
            ..ImageConfig::default()
        };
        let image = store.import(&tar[..], Some("one"), config, "").unwrap();
        let hexid = &image.id["sha256:".len()..];
        let bytes = std::fs::read(dir.path().join(format!("image/images/{hexid}.json"))).unwrap();
        assert_eq!(hex(&Sha256::digest(&bytes)), hexid);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["os"], "linux");
        assert_eq!(v["architecture"], host_architecture());
        assert_eq!(v["rootfs"]["type"], "layers");
        assert_eq!(v["rootfs"]["diff_ids"][0], image.layers[0].as_str());
        assert_eq!(v["config"]["Cmd"][0], "sh");
        assert_eq!(v["comment"], "Imported from -");
        assert_eq!(v["history"][0]["comment"], "Imported from -");
        assert_eq!(image.size, 4);
    }

    #[test]
    fn a_record_kept_before_dockers_config_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(&dir.path().join("image"), &dir.path().join("tmp")).unwrap();
        let tar = tar_of(&[("./f", Regular, "", b"data")]);
        let image = store
            .import(&tar[..], None, ImageConfig::default(), "")
            .unwrap();
        let old = serde_json::json!({"Created": "2026-01-01T00:00:00Z", "Layers": image.layers,
            "Size": 4, "Config": {"Env": ["A=1"]}, "Comment": "old"});
        std::fs::write(dir.path().join("image/images/ab12.json"), old.to_string()).unwrap();
        let read = store.resolve("ab12").unwrap();
        assert_eq!(read.layers, image.layers);
        assert_eq!(read.config.env, ["A=1"]);
        assert_eq!((read.comment.as_str(), read.size), ("old", 4));
    }
}
