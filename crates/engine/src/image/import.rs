//! `docker import`: a rootfs tarball (plain or gzip) made into a
//! one-layer image.

use std::io::{BufRead, BufReader, Read};

use vessel_runtime::record::now_rfc3339;

use super::normalize_reference;
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
        let image = self.import_into(body, config, comment)?;
        if let Some(r) = reference {
            self.tag(&r, &image.id)?;
        }
        Ok(image)
    }

    fn import_into(&self, body: impl Read, config: ImageConfig, comment: &str) -> Result<Image> {
        let mut body = BufReader::new(body);
        let gzip = body
            .fill_buf()
            .map_err(EngineError::io("reading the uploaded layer"))?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gzip {
            Box::new(flate2::read::GzDecoder::new(body))
        } else {
            Box::new(body)
        };
        let diff_id = self.store_layer(reader, None)?;

        // Docker's words for an import without a message.
        let comment = match comment {
            "" => "Imported from -",
            c => c,
        };
        let created = now_rfc3339();
        self.write_config(ConfigFile {
            architecture: host_architecture().to_string(),
            variant: String::new(),
            os: "linux".into(),
            created: Some(created.clone()),
            author: String::new(),
            comment: comment.to_string(),
            container: String::new(),
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
    use crate::image::hex;
    use crate::image::layers::tests::tar_of;
    use crate::image::ImageUsers;
    use sha2::{Digest, Sha256};
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
