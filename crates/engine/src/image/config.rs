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
}
