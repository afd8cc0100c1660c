//! An image's record as Docker and registries keep it: the image config
//! (Docker's `application/vnd.docker.container.image.v1+json`, the OCI
//! image config), stored as its exact bytes, whose SHA-256 is the image's
//! ID. Sizes are the store's own (a layer's unpacked size, kept beside
//! the layer), never written into the config.

use serde::{Deserialize, Serialize};

use super::ImageConfig;

/// The members of an image config Vessel reads; others are kept in the
/// stored bytes and ignored here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// The container a commit made the image of.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container: String,
    #[serde(default)]
    pub config: ImageConfig,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// The layers, bottom first, by the digest of their uncompressed tar.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub typ: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// How one step of the image was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// The step made no layer (`ENV`, `CMD`...).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ConfigFile {
    /// Refuses a config whose layers are not named by sha256 digests: a
    /// diff id names a directory of the store, and nothing else may.
    pub fn check_diff_ids(&self) -> crate::error::Result<()> {
        match self.rootfs.diff_ids.iter().find(|d| !is_digest(d)) {
            Some(bad) => Err(crate::error::EngineError::InvalidParameter(format!(
                "the image config names a layer {bad:?}: not a sha256 digest"
            ))),
            None => Ok(()),
        }
    }
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The architecture of this host in Go's names, as image configs give it.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// What Vessel kept as an image's record before it kept Docker's image
/// config (read so that images stored then stay usable).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LegacyRecord {
    pub created: String,
    pub layers: Vec<String>,
    #[serde(default)]
    pub config: ImageConfig,
    #[serde(default)]
    pub comment: String,
}

impl From<LegacyRecord> for ConfigFile {
    fn from(old: LegacyRecord) -> Self {
        ConfigFile {
            architecture: host_architecture().to_string(),
            variant: String::new(),
            os: "linux".into(),
            created: Some(old.created),
            author: String::new(),
            comment: old.comment,
            container: String::new(),
            config: old.config,
            rootfs: RootFs {
                typ: "layers".into(),
                diff_ids: old.layers,
            },
            history: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `docker import` of a rootfs made with dockerd 20.10, as
    /// `docker save` gives it: Vessel reads the members it uses.
    #[test]
    fn dockers_import_config_reads() {
        let docker = r#"{"architecture":"amd64","comment":"Imported from -","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"Env":null,"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container_config":{"Cmd":null},"created":"2026-12-01T10:00:00.123456789Z","docker_version":"20.10.24","history":[{"created":"2026-12-01T10:00:00.123456789Z","comment":"Imported from -"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#;
        let c: ConfigFile = serde_json::from_str(docker).unwrap();
        assert_eq!(c.rootfs.diff_ids, ["sha256:aa"]);
        assert_eq!(c.config.cmd.as_deref(), Some(&["sh".to_string()][..]));
        assert!(c.config.env.is_empty());
        assert_eq!(c.history[0].comment, "Imported from -");
    }

    #[test]
    fn a_layer_is_named_by_a_digest_and_nothing_else() {
        let mut c = ConfigFile::default();
        c.rootfs.diff_ids = vec![format!("sha256:{}", "a".repeat(64))];
        c.check_diff_ids().unwrap();
        let upper = format!("sha256:{}", "A".repeat(64));
        for bad in ["/", "sha256:../../..", "sha256:", upper.as_str()] {
            c.rootfs.diff_ids = vec![bad.to_string()];
            let e = c.check_diff_ids().unwrap_err().to_string();
            assert!(e.contains("not a sha256 digest"), "{bad}: {e}");
        }
    }
}
