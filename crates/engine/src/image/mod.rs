//! Images: a content-addressed layer store, image records and tags, and
//! `import`.
//!
//! A layer is stored once, under the sha256 of its uncompressed tar (its
//! diff id): `image/layers/sha256/<hex>/` holds the unpacked tree. An
//! image is a record `image/images/<hex>.json` naming its layers, bottom
//! first, and its run config; its id is the sha256 of that record's
//! content. Tags (`name:tag` -> image id) live in `image/repositories.json`.
//! Every record is written atomically; a layer directory appears under its
//! final name only once it is complete.
//!
//! - `reference`: image names and tags, normalized as Docker's grammar says;
//! - `store`: the records, tags, look-ups and removal;
//! - `import`: a rootfs tarball made into a one-layer image;
//! - `layers`: unpacking a layer tar without letting it out of its root.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

mod import;
mod layers;
mod reference;
mod store;

pub use layers::unpack_layer;
pub use reference::normalize_reference;
pub use store::ImageStore;

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

/// The containers that use an image, one of each kind, for `rmi`'s
/// conflicts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImageUsers {
    pub running: Option<String>,
    pub stopped: Option<String>,
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
