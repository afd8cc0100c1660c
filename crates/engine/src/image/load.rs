//! `docker load`: images from a tar that `docker save` made (Docker's
//! `manifest.json`, from any version) or that is an OCI image layout
//! (`index.json`). The tar is unpacked into a scratch directory with the
//! layer unpacker's rules (nothing outside it, no link out of it), and
//! every file in it is then read inside it only.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::manifest::{Manifest, Platform};
use super::{hex, normalize_reference, remove_tree, tempdir_in, unpack_layer, ImageStore};
use crate::error::{EngineError, Result};

/// An image loaded, and the names it was loaded under.
#[derive(Debug)]
pub struct Loaded {
    pub id: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Index {
    manifests: Vec<IndexEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    digest: String,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

impl ImageStore {
    /// Loads every image of the archive `tar`; tags them as it names them.
    pub fn load_archive(&self, tar: impl Read) -> Result<Vec<Loaded>> {
        let work = tempdir_in(&self.tmp, "load-")?;
        let result = self.load_in(&work, tar);
        let _ = remove_tree(&work);
        result
    }

    fn load_in(&self, work: &Path, tar: impl Read) -> Result<Vec<Loaded>> {
        let root = work.join("archive");
        std::fs::create_dir(&root).map_err(EngineError::io("unpacking the archive"))?;
        unpack_layer(tar, &root, None)
            .map_err(|e| EngineError::InvalidParameter(format!("the archive: {e}")))?;
        let dir = File::open(&root).map_err(EngineError::io("reading the archive"))?;
        let loaded = match read(&dir, "manifest.json") {
            Ok(bytes) => self.load_docker(&dir, &bytes)?,
            Err(_) => match read(&dir, "index.json") {
                Ok(bytes) => self.load_oci(&dir, &bytes)?,
                Err(_) => {
                    return Err(EngineError::InvalidParameter(
                        "the archive has neither manifest.json (docker save) nor index.json (an OCI image layout)".into(),
                    ))
                }
            },
        };
        Ok(loaded)
    }

    fn load_docker(&self, dir: &File, manifest: &[u8]) -> Result<Vec<Loaded>> {
        let entries: Vec<DockerEntry> = serde_json::from_slice(manifest).map_err(|e| {
            EngineError::InvalidParameter(format!("the archive's manifest.json: {e}"))
        })?;
        let mut loaded = Vec::new();
        for entry in entries {
            let config = read(dir, &entry.config)?;
            let tags = entry.repo_tags.unwrap_or_default();
            let id = self.load_image(dir, &config, &entry.layers)?;
            loaded.push(self.tag_loaded(id, tags)?);
        }
        Ok(loaded)
    }

    fn load_oci(&self, dir: &File, index: &[u8]) -> Result<Vec<Loaded>> {
        let index: Index = serde_json::from_slice(index)
            .map_err(|e| EngineError::InvalidParameter(format!("the archive's index.json: {e}")))?;
        let mut loaded = Vec::new();
        for entry in index.manifests {
            let mut bytes = read_blob(dir, &entry.digest)?;
            let mut manifest = Manifest::parse(&bytes)?;
            if let Some(chosen) = manifest.choose(&Platform::host())? {
                bytes = read_blob(dir, &chosen)?;
                manifest = Manifest::parse(&bytes)?;
            }
            let (config, layers) = manifest.image()?;
            let config_bytes = read_blob(dir, &config.digest)?;
            let paths: Vec<String> = layers
                .iter()
                .map(|l| blob_path(&l.digest))
                .collect::<Result<_>>()?;
            let id = self.load_image(dir, &config_bytes, &paths)?;
            let tags = entry
                .annotations
                .get("io.containerd.image.name")
                .and_then(|n| normalize_reference(n).ok())
                .into_iter()
                .collect();
            loaded.push(self.tag_loaded(id, tags)?);
        }
        Ok(loaded)
    }

    /// Stores one image: its layers from `layers` (files in the archive,
    /// compressed or not), checked against its config's diff ids, then its
    /// config.
    fn load_image(&self, dir: &File, config: &[u8], layers: &[String]) -> Result<String> {
        let file: super::ConfigFile = serde_json::from_slice(config).map_err(|e| {
            EngineError::InvalidParameter(format!("an image config in the archive: {e}"))
        })?;
        file.check_diff_ids()?;
        if file.rootfs.diff_ids.len() != layers.len() {
            return Err(EngineError::InvalidParameter(format!(
                "an image in the archive has {} layers where its config names {}",
                layers.len(),
                file.rootfs.diff_ids.len()
            )));
        }
        for (path, diff_id) in layers.iter().zip(&file.rootfs.diff_ids) {
            if self.has_layer(diff_id) {
                continue;
            }
            let fd = open(dir, path)?;
            let tar = super::pull::decompress(BufReader::new(File::from(fd)))?;
            self.store_layer(tar, Some(diff_id))?;
        }
        Ok(self.write_config_bytes(config)?.id)
    }

    fn tag_loaded(&self, id: String, tags: Vec<String>) -> Result<Loaded> {
        let mut kept = Vec::new();
        for t in tags {
            let reference = normalize_reference(&t)?;
            self.tag(&reference, &id)?;
            kept.push(reference);
        }
        Ok(Loaded { id, tags: kept })
    }
}

fn blob_path(digest: &str) -> Result<String> {
    if !super::config::is_digest(digest) {
        return Err(EngineError::InvalidParameter(format!(
            "the archive names a blob {digest:?}: not a sha256 digest"
        )));
    }
    Ok(format!("blobs/sha256/{}", &digest["sha256:".len()..]))
}

/// A blob of the layout, checked against its digest.
fn read_blob(dir: &File, digest: &str) -> Result<Vec<u8>> {
    let bytes = read(dir, &blob_path(digest)?)?;
    let actual = format!("sha256:{}", hex(&Sha256::digest(&bytes)));
    if actual != digest {
        return Err(EngineError::InvalidParameter(format!(
            "the archive's blob {digest} does not match its digest ({actual})"
        )));
    }
    Ok(bytes)
}

/// A file of the unpacked archive, resolved inside it only.
fn open(dir: &File, path: &str) -> Result<std::os::fd::OwnedFd> {
    vessel_runtime::in_root::openat2(
        dir,
        Path::new(path),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        EngineError::InvalidParameter(format!(
            "the archive's {path:?}: {}",
            crate::error::os_text(&std::io::Error::from(e))
        ))
    })
}

/// A small file of the archive (a manifest, a config: at most 16 MiB).
fn read(dir: &File, path: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::from(open(dir, path)?)
        .take(16 << 20)
        .read_to_end(&mut bytes)
        .map_err(EngineError::io(format!("reading the archive's {path}")))?;
    Ok(bytes)
}
