//! A container's mount points, as Docker records them (`MountPoints` in
//! `config.v2.json`): what is mounted at each destination, resolved at
//! create from `-v`, `--mount`, `--volumes-from` and the volumes of the
//! config and the image.

use serde::{Deserialize, Serialize};

/// What a mount point mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A host path.
    Bind,
    /// A volume's data directory.
    Volume,
    /// A new tmpfs (`--mount type=tmpfs`).
    Tmpfs,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bind => "bind",
            Kind::Volume => "volume",
            Kind::Tmpfs => "tmpfs",
        }
    }
}

/// One mount point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    #[serde(rename = "Type")]
    pub kind: Kind,
    /// The volume's name (volumes only).
    #[serde(default)]
    pub name: String,
    /// The host path mounted: a bind's source, a volume's data directory;
    /// empty for a tmpfs.
    #[serde(default)]
    pub source: String,
    pub destination: String,
    /// The volume's driver (volumes only).
    #[serde(default)]
    pub driver: String,
    /// The mode as given after a `-v` (Docker's `z` for a named volume
    /// that gave none).
    #[serde(default)]
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    /// A bind's propagation (Docker's `rprivate` unless given).
    #[serde(default)]
    pub propagation: String,
    /// Whether a new, empty volume is filled from the image at create.
    #[serde(default)]
    pub copy_data: bool,
    /// Whether the request named the volume: a volume made for the
    /// container without a name (anonymous) goes with `rm -v`.
    #[serde(default)]
    pub named: bool,
    /// A tmpfs's options (`size=...,mode=...`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
    /// Whether a missing bind source is made at start (`-v`; `--mount`
    /// refuses one at create).
    #[serde(default)]
    pub make_source: bool,
}

impl MountPoint {
    /// The number of components of the destination: parents are mounted
    /// before what is mounted inside them, as Docker sorts them.
    pub fn depth(&self) -> usize {
        std::path::Path::new(&self.destination).components().count()
    }

    /// Whether this mount point uses the volume `name`.
    pub fn uses_volume(&self, name: &str) -> bool {
        self.kind == Kind::Volume && self.name == name
    }
}

/// `points` in the order they are mounted: by depth, then as given.
pub fn in_mount_order(points: &[MountPoint]) -> Vec<&MountPoint> {
    let mut sorted: Vec<&MountPoint> = points.iter().collect();
    sorted.sort_by_key(|m| m.depth());
    sorted
}
