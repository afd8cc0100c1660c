//! Container records: the config a container was created with and its
//! host config, as Docker's API types, and its state (see [`state`]). A
//! record is written atomically (write, fsync, rename) on every state
//! change.

use std::path::Path;

use serde::{Deserialize, Serialize};
use vessel_runtime::record::{write_atomic, Durability};

use crate::error::{EngineError, Result};

pub mod health;
pub mod log_opts;
pub mod mounts;
pub mod restart;
pub mod state;

pub use bollard_stubs::models::{ContainerConfig as Config, HostConfig, HostConfigLogConfig};
pub use mounts::MountPoint;
pub use state::{human_duration, State, Status, Verb, ZERO_TIME};

/// The log driver a container gets when its request names none.
pub const DEFAULT_LOG_DRIVER: &str = "json-file";

/// The log driver that keeps no log (Docker's `none`): the output goes
/// only to whoever is attached.
pub const NO_LOG_DRIVER: &str = "none";

/// A container's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    pub id: String,
    pub created: String,
    /// The command's first word and the rest (entrypoint + cmd).
    pub path: String,
    pub args: Vec<String>,
    pub state: State,
    /// The image's id.
    pub image: String,
    /// `/name`.
    pub name: String,
    pub restart_count: i64,
    /// Whether the user stopped (or killed) it since it was last started:
    /// `unless-stopped` then does not restart it.
    #[serde(default)]
    pub has_been_manually_stopped: bool,
    pub log_path: String,
    pub config: Config,
    pub host_config: HostConfig,
    /// Its networks, its sandbox and its published ports (records made
    /// before networks have none).
    #[serde(default)]
    pub network_settings: crate::network::Attachment,
    /// What is mounted where, resolved at create (records made before
    /// volumes have none: their binds are read from `HostConfig.Binds`).
    #[serde(default)]
    pub mount_points: Vec<MountPoint>,
}

impl Container {
    /// Writes the record to `<dir>/config.v2.json`, atomically; durably
    /// unless the container is removed when it exits. Such a container's
    /// records only need to survive a crash of the engine: after a crash
    /// of the machine it is removed whichever of its records is on disk
    /// (its shim is gone, and restore removes every auto-remove container
    /// that is not running), so they skip the fsyncs, a millisecond or
    /// more of every `run --rm` here. Its first record may then be found
    /// empty after such a crash; [`Container::load`] takes that for a
    /// create that never finished.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let durability = if self.auto_remove() {
            Durability::ProcessCrash
        } else {
            Durability::MachineCrash
        };
        self.write(dir, durability)
    }

    fn write(&self, dir: &Path, durability: Durability) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| EngineError::Internal(format!("encoding the container record: {e}")))?;
        write_atomic(&crate::paths::record_file(dir), &bytes, durability).map_err(EngineError::io(
            format!("writing the record of {}", self.id),
        ))
    }

    /// The record in `dir`; `None` when there is none, or an empty one
    /// (a first record renamed into place whose data a crash of the
    /// machine lost: durable records are never found empty).
    pub fn load(dir: &Path) -> Result<Option<Container>> {
        let file = crate::paths::record_file(dir);
        let read = match std::fs::read(&file) {
            Ok(bytes) if bytes.is_empty() => return Ok(None),
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        read.map_err(EngineError::io(format!("reading {}", dir.display())))
    }

    /// The name without its leading slash.
    pub fn short_name(&self) -> &str {
        self.name.trim_start_matches('/')
    }

    /// Says whether `verb` is allowed in the container's state now (see
    /// [`State::check`]).
    pub fn check(&self, verb: Verb) -> Result<()> {
        self.state.check(verb, &self.id, &self.name)
    }

    /// The image as the create request named it.
    pub fn image_name(&self) -> &str {
        self.config.image.as_deref().unwrap_or_default()
    }

    pub fn tty(&self) -> bool {
        self.config.tty.unwrap_or(false)
    }

    /// Whether the container keeps a log (any driver but `none`).
    pub fn logs(&self) -> bool {
        let driver = self
            .host_config
            .log_config
            .as_ref()
            .and_then(|l| l.typ.as_deref());
        driver != Some(NO_LOG_DRIVER)
    }

    /// When the log is rotated (`--log-opt max-size=`, `max-file=`);
    /// the options were checked at create.
    pub fn log_rotation(&self) -> Option<vessel_runtime::logs::Rotation> {
        let log = self.host_config.log_config.as_ref()?;
        let driver = log.typ.as_deref().unwrap_or(DEFAULT_LOG_DRIVER);
        log_opts::rotation(driver, log.config.as_ref())
            .ok()
            .flatten()
    }

    pub fn open_stdin(&self) -> bool {
        self.config.open_stdin.unwrap_or(false)
    }

    /// Whether an attach's end of input closes the first process's stdin
    /// (Docker's `StdinOnce`, without a terminal); else the attach ends
    /// and the stdin stays open for the next one.
    pub fn attach_closes_stdin(&self) -> bool {
        self.config.stdin_once.unwrap_or(false) && !self.tty()
    }

    pub fn env(&self) -> &[String] {
        self.config.env.as_deref().unwrap_or_default()
    }

    pub fn auto_remove(&self) -> bool {
        self.host_config.auto_remove.unwrap_or(false)
    }

    /// `HostConfig.NetworkMode`, empty when the request gave none.
    pub fn network_mode(&self) -> &str {
        self.host_config.network_mode.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_docker_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Container {
            id: "abc".into(),
            created: "2026-01-01T00:00:00Z".into(),
            path: "echo".into(),
            args: vec!["hi".into()],
            state: State::default(),
            image: "sha256:1".into(),
            name: "/x".into(),
            restart_count: 0,
            has_been_manually_stopped: false,
            log_path: "/l".into(),
            config: Config::default(),
            host_config: HostConfig {
                log_config: Some(HostConfigLogConfig {
                    typ: Some(DEFAULT_LOG_DRIVER.into()),
                    config: None,
                }),
                ..Default::default()
            },
            network_settings: Default::default(),
            mount_points: Vec::new(),
        };
        c.state.set_stopped(3, "2026-01-01T00:00:01Z", true);
        c.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("config.v2.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["State"]["ExitCode"], 3);
        assert_eq!(v["State"]["OOMKilled"], true);
        assert_eq!(v["HostConfig"]["LogConfig"]["Type"], "json-file");
        assert_eq!(v["State"]["Status"], "exited");
        assert_eq!(Container::load(dir.path()).unwrap(), Some(c));
    }

    #[test]
    fn an_empty_or_missing_record_is_no_container_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Container::load(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join("config.v2.json"), "").unwrap();
        assert_eq!(Container::load(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join("config.v2.json"), "{\"Id\":").unwrap();
        assert!(Container::load(dir.path()).is_err());
    }
}
