//! Manifests and indexes, Docker's and OCI's, as a pull reads them: which
//! manifest of an index is this platform's, which blobs an image is made
//! of, and whether its config is the one the manifest promised.

use std::collections::BTreeMap;

use oci_client::manifest::OciDescriptor;
use serde::{Deserialize, Serialize};

use super::{host_architecture, ConfigFile, Remote};
use crate::error::{EngineError, Result};

pub(super) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(super) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(super) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(super) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(super) const ACCEPTED: &[&str] = &[DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX];

/// A descriptor as Vessel writes one (in a manifest, an index).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Written {
    pub media_type: &'static str,
    pub digest: String,
    pub size: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<&'static str, String>,
}

impl Written {
    pub(super) fn new(media_type: &'static str, digest: &str, size: u64) -> Self {
        Written {
            media_type,
            digest: digest.to_string(),
            size,
            annotations: BTreeMap::new(),
        }
    }
}

/// An image manifest as Vessel writes one (Docker's schema 2 or OCI's).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WrittenManifest {
    pub schema_version: u32,
    pub media_type: &'static str,
    pub config: Written,
    pub layers: Vec<Written>,
}

/// An OCI image index as Vessel writes one.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WrittenIndex {
    pub schema_version: u32,
    pub media_type: &'static str,
    pub manifests: Vec<Written>,
}

/// Layer media types whose blobs are (compressed) tars.
const LAYER_TYPES: &[&str] = &[
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
];

/// A platform to pull for: `os[/architecture[/variant]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: String,
}

impl Platform {
    /// This host's platform.
    pub fn host() -> Self {
        Platform {
            os: "linux".into(),
            architecture: host_architecture().into(),
            variant: String::new(),
        }
    }

    /// `--platform`'s value; empty is this host's.
    pub fn parse(value: &str) -> Result<Self> {
        if value.is_empty() {
            return Ok(Self::host());
        }
        let parts: Vec<&str> = value.split('/').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(EngineError::InvalidParameter(format!(
                "invalid platform {value:?}: expected os[/arch[/variant]]"
            )));
        }
        let lower = |s: &str| s.to_ascii_lowercase();
        Ok(Platform {
            os: lower(parts[0]),
            architecture: parts
                .get(1)
                .map_or_else(|| host_architecture().to_string(), |a| lower(a)),
            variant: parts.get(2).map(|v| lower(v)).unwrap_or_default(),
        })
    }

    fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_empty() || self.variant == other.variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
}

/// A manifest or an index.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest {
    schema_version: u32,
    #[serde(default)]
    config: Option<OciDescriptor>,
    #[serde(default)]
    layers: Vec<OciDescriptor>,
    #[serde(default)]
    manifests: Option<Vec<Entry>>,
}

impl Manifest {
    pub(super) fn parse(bytes: &[u8]) -> Result<Self> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            EngineError::InvalidParameter(format!("the registry's manifest is malformed: {e}"))
        })?;
        if m.schema_version != 2 {
            return Err(EngineError::InvalidParameter(format!(
                "manifest schema version {} is not supported (only 2; Docker dropped schema 1 too)",
                m.schema_version
            )));
        }
        Ok(m)
    }

    /// When this is an index: the digest of `platform`'s manifest.
    pub(super) fn choose(&self, platform: &Platform) -> Result<Option<String>> {
        let Some(entries) = &self.manifests else {
            return Ok(None);
        };
        entries
            .iter()
            .find(|e| e.platform.as_ref().is_some_and(|p| platform.matches(p)))
            .map(|e| Some(e.digest.clone()))
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "no matching manifest for {platform} in the manifest list entries"
                ))
            })
    }

    /// An image manifest's config and layers.
    pub(super) fn image(&self) -> Result<(OciDescriptor, Vec<OciDescriptor>)> {
        let config = self.config.clone().ok_or_else(|| {
            EngineError::InvalidParameter("the registry's manifest has no config".into())
        })?;
        for d in std::iter::once(&config).chain(&self.layers) {
            if !super::config::is_digest(&d.digest) {
                return Err(EngineError::InvalidParameter(format!(
                    "the registry's manifest names a blob {:?}: not a sha256 digest",
                    d.digest
                )));
            }
        }
        for l in &self.layers {
            if !LAYER_TYPES.contains(&l.media_type.as_str()) {
                return Err(EngineError::InvalidParameter(format!(
                    "layer {}: media type {:?} is not a container image layer",
                    l.digest, l.media_type
                )));
            }
        }
        Ok((config, self.layers.clone()))
    }
}

/// The image config `bytes`, checked against what is wanted: the platform
/// asked for (if one was) and one diff id per layer.
pub(super) fn config_for(
    bytes: &[u8],
    platform: Option<&Platform>,
    remote: &Remote,
    layers: usize,
) -> Result<ConfigFile> {
    let config: ConfigFile = serde_json::from_slice(bytes).map_err(|e| {
        EngineError::InvalidParameter(format!("the image config is malformed: {e}"))
    })?;
    config.check_diff_ids()?;
    let actual = Platform {
        os: config.os.clone(),
        architecture: config.architecture.clone(),
        variant: String::new(),
    };
    let differs = |p: &&Platform| !(p.os == actual.os && p.architecture == actual.architecture);
    if let Some(platform) = platform.filter(differs) {
        return Err(EngineError::NotFound(format!(
            "image with reference {} was found but does not match the specified platform: wanted {platform}, actual: {actual}",
            remote.familiar
        )));
    }
    if config.rootfs.diff_ids.len() != layers {
        return Err(EngineError::InvalidParameter(format!(
            "the image config names {} layers and the manifest {layers}",
            config.rootfs.diff_ids.len()
        )));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_as_docker_spells_them() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(Platform::parse("").unwrap(), Platform::host());
        assert!(Platform::parse("linux//x").is_err());
    }

    #[test]
    fn an_index_gives_the_manifest_of_the_platform_asked_for() {
        let index = br#"{"schemaVersion":2,"manifests":[
            {"digest":"sha256:a","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
            {"digest":"sha256:b","platform":{"os":"linux","architecture":"amd64"}}]}"#;
        let m = Manifest::parse(index).unwrap();
        let arm = Platform::parse("linux/arm64").unwrap();
        assert_eq!(m.choose(&arm).unwrap().as_deref(), Some("sha256:a"));
        let s390 = Platform::parse("linux/s390x").unwrap();
        let e = m.choose(&s390).unwrap_err().to_string();
        assert_eq!(
            e,
            "no matching manifest for linux/s390x in the manifest list entries"
        );
        let e = Manifest::parse(br#"{"schemaVersion":1}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema version 1"), "{e}");
    }
}
