//! Images: a content-addressed layer store, image records and tags, and
//! `import`.
//!
//! A layer is stored once, under the sha256 of its uncompressed tar (its
//! diff id): `image/layers/sha256/<hex>/` holds the unpacked tree and
//! `image/layers/size/<hex>` its size. An image's record is its image
//! config as Docker and registries keep it, `image/images/<hex>.json`
//! (`config`): its run config, its layers bottom first by diff id, its
//! history; the image's id is the sha256 of those exact bytes. Tags
//! (`name:tag` -> image id) live in `image/repositories.json`. Every
//! record is written atomically; a layer directory appears under its
//! final name only once it is complete.
//!
//! - `config`: the image config, as stored;
//! - `reference`: image names and tags, normalized as Docker's grammar says;
//! - `store`: the records, tags, look-ups and removal;
//! - `import`: a rootfs tarball made into a one-layer image;
//! - `layers`: unpacking a layer tar without letting it out of its root.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::hex;

mod changes;
mod commit;
mod config;
pub mod diff;
mod import;
mod ingest;
mod layers;
mod load;
mod login;
mod manifest;
mod overlay_tar;
mod progress;
mod pull;
mod push;
mod reference;
mod registry;
mod save;
mod store;
mod tarsplit;

pub use changes::apply_changes;
pub use commit::CommitOptions;
pub use config::{host_architecture, ConfigFile, History, RootFs};
use layers::unpack_layer;
pub use load::Loaded;
pub use login::login;
pub use manifest::Platform;
pub use overlay_tar::{diff_tar, merged_tar};
pub use progress::{Progress, PushResult};
pub use pull::{pull, Pulled};
pub use push::{push, Pushed};
pub use reference::{normalize_reference, Remote};
pub use registry::{decode_base64, Credentials, Registries};
pub use save::ToSave;
pub use store::ImageStore;

/// The run configuration an image carries (its config's `config`, what
/// `docker import --change` and image builds set), in Docker's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageConfig {
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    /// Kept as given; checks come with health checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Empty>>,
    #[serde(deserialize_with = "null_as_default")]
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// The `{}` that Docker's sets of ports and volumes map each key to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// A member Docker writes as `null` when empty, read as its default.
fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// An image: its config's members Vessel uses, its id and its size.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// `sha256:` and the hex digest of its config.
    pub id: String,
    pub created: String,
    /// Diff ids, bottom first.
    pub layers: Vec<String>,
    /// The unpacked size of its layers.
    pub size: u64,
    pub config: ImageConfig,
    pub comment: String,
    pub author: String,
    /// The container a commit made it of.
    pub container: String,
    pub architecture: String,
    pub variant: String,
    pub os: String,
    pub history: Vec<History>,
}

impl Image {
    /// The image whose config is `file`, of id `id`, `size` bytes.
    pub fn from_config(id: String, file: ConfigFile, size: u64) -> Self {
        Image {
            id,
            created: file.created.unwrap_or_default(),
            layers: file.rootfs.diff_ids,
            size,
            config: file.config,
            comment: file.comment,
            author: file.author,
            container: file.container,
            architecture: file.architecture,
            variant: file.variant,
            os: file.os,
            history: file.history,
        }
    }
}

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

/// The size of what is under `dir` as Docker's overlay2 driver counts a
/// layer's: every entry but directories (a symbolic link by the length of
/// its target), each inode once.
pub fn tree_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}
