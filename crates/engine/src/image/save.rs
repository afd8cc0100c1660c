//! `docker save`: images as one tar that is both an OCI image layout
//! (`oci-layout`, `index.json`, `blobs/sha256/...`) and Docker's tarball
//! (`manifest.json` naming each image's config and layer files), as
//! Docker 25 writes them; Docker 20.10 loads it by its `manifest.json`.
//! Layers are their exact tars (uncompressed), made again from the store.

use std::collections::HashSet;
use std::io::{self, Write};

use sha2::{Digest, Sha256};

use super::manifest::{Written, WrittenIndex, WrittenManifest};
use super::{hex, Image, ImageStore, Remote};
use crate::error::{EngineError, Result};

const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// One image to save, with the `name:tag`s to save it under.
#[derive(Debug)]
pub struct ToSave {
    pub image: Image,
    pub tags: Vec<String>,
}

impl ImageStore {
    /// Writes `images` to `out` as one tar.
    pub fn save(&self, images: &[ToSave], out: &mut impl Write) -> Result<()> {
        let mut tar = TarOut {
            out,
            written: HashSet::new(),
        };
        let mut index = Vec::new();
        let mut manifests = Vec::new();
        for s in images {
            let hexid = s.image.id.trim_start_matches("sha256:");
            let config = self.config_bytes(hexid)?;
            tar.blob(&s.image.id, &config)?;
            let mut layers = Vec::new();
            for diff_id in &s.image.layers {
                let size = self.layer_tar_size(diff_id)?;
                tar.file_from(&blob_path(diff_id), size, |w| self.layer_tar(diff_id, w))?;
                layers.push(Written::new(LAYER_TAR, diff_id, size));
            }
            let manifest = to_json(&WrittenManifest {
                schema_version: 2,
                media_type: MANIFEST,
                config: Written::new(CONFIG, &s.image.id, config.len() as u64),
                layers,
            })?;
            let manifest_digest = format!("sha256:{}", hex(&Sha256::digest(&manifest)));
            tar.blob(&manifest_digest, &manifest)?;
            let entry = || Written::new(MANIFEST, &manifest_digest, manifest.len() as u64);
            if s.tags.is_empty() {
                index.push(entry());
            }
            for t in &s.tags {
                let mut e = entry();
                let tag = t.rsplit_once(':').map_or("latest", |(_, tag)| tag);
                e.annotations
                    .insert("io.containerd.image.name", full_name(t));
                e.annotations
                    .insert("org.opencontainers.image.ref.name", tag.to_string());
                index.push(e);
            }
            manifests.push(DockerEntry {
                config: blob_path(&s.image.id),
                repo_tags: (!s.tags.is_empty()).then(|| s.tags.clone()),
                layers: s.image.layers.iter().map(|l| blob_path(l)).collect(),
            });
        }
        let index = WrittenIndex {
            schema_version: 2,
            media_type: INDEX,
            manifests: index,
        };
        tar.file("index.json", &to_json(&index)?)?;
        tar.file("manifest.json", &to_json(&manifests)?)?;
        tar.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        tar.finish()
    }

    /// The stored bytes of an image's config.
    pub(super) fn config_bytes(&self, hexid: &str) -> Result<Vec<u8>> {
        std::fs::read(self.dir.join("images").join(format!("{hexid}.json")))
            .map_err(EngineError::io("reading an image config"))
    }
}

/// An image in Docker's `manifest.json`.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| EngineError::Internal(format!("encoding the archive: {e}")))
}

/// `blobs/sha256/<hex>`
fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// `busybox:latest` -> `docker.io/library/busybox:latest`, as containerd
/// names images.
fn full_name(tagged: &str) -> String {
    match Remote::parse(tagged) {
        Ok(r) => format!(
            "{}/{}:{}",
            r.registry,
            r.repository,
            r.tag.unwrap_or_else(|| "latest".into())
        ),
        Err(_) => tagged.to_string(),
    }
}

/// A tar written entry by entry, each blob once.
struct TarOut<'a, W> {
    out: &'a mut W,
    written: HashSet<String>,
}

impl<W: Write> TarOut<'_, W> {
    fn blob(&mut self, digest: &str, bytes: &[u8]) -> Result<()> {
        self.file(&blob_path(digest), bytes)
    }

    fn file(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        self.file_from(path, bytes.len() as u64, |w| {
            w.write_all(bytes)
                .map_err(EngineError::io("writing the archive"))
        })
    }

    /// An entry of `size` bytes that `fill` writes; each path once.
    fn file_from(
        &mut self,
        path: &str,
        size: u64,
        fill: impl FnOnce(&mut CountingWriter<'_, W>) -> Result<()>,
    ) -> Result<()> {
        if !self.written.insert(path.to_string()) {
            return Ok(());
        }
        let mut h = tar::Header::new_ustar();
        h.set_path(path)
            .map_err(|e| EngineError::Internal(format!("archive path {path}: {e}")))?;
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let io = EngineError::io("writing the archive");
        self.out.write_all(h.as_bytes()).map_err(io)?;
        let mut w = CountingWriter {
            out: self.out,
            count: 0,
        };
        fill(&mut w)?;
        if w.count != size {
            return Err(EngineError::Internal(format!(
                "{path}: {} bytes written where {size} were announced",
                w.count
            )));
        }
        let pad = (512 - size % 512) % 512;
        self.out
            .write_all(&vec![0u8; pad as usize])
            .map_err(EngineError::io("writing the archive"))
    }

    fn finish(self) -> Result<()> {
        self.out
            .write_all(&[0u8; 1024])
            .and_then(|()| self.out.flush())
            .map_err(EngineError::io("writing the archive"))
    }
}

struct CountingWriter<'a, W> {
    out: &'a mut W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
