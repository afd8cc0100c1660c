//! Container records: the config a container was created with, its host
//! config, and its state, in the Docker API's field names. A record is
//! written atomically (write, fsync, rename) on every state change.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use vessel_runtime::record::{write_atomic, Durability};

use crate::error::{EngineError, Result};

/// What runs, and how (`Config` of the create request).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub image: String,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
}

/// Docker's `LogConfig`; only json-file exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            kind: "json-file".into(),
            config: BTreeMap::new(),
        }
    }
}

/// Where and with what limits it runs (`HostConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub binds: Vec<String>,
    pub network_mode: String,
    pub auto_remove: bool,
    pub log_config: LogConfig,
    pub memory: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub pids_limit: Option<i64>,
    pub privileged: bool,
    pub readonly_rootfs: bool,
    /// `[height, width]` of the first process's terminal, for `Tty`.
    pub console_size: [u16; 2],
}

/// The state Docker reports, and Vessel restores from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct State {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub removal_in_progress: bool,
    pub dead: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
}

/// Docker's zero time, for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl Default for State {
    fn default() -> Self {
        State {
            status: "created".into(),
            running: false,
            paused: false,
            restarting: false,
            oom_killed: false,
            removal_in_progress: false,
            dead: false,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
        }
    }
}

impl State {
    pub fn set_running(&mut self, pid: i64, at: &str) {
        self.status = "running".into();
        self.running = true;
        self.paused = false;
        self.oom_killed = false;
        self.pid = pid;
        self.exit_code = 0;
        self.error.clear();
        self.started_at = at.to_string();
    }

    pub fn set_stopped(&mut self, code: i64, at: &str, oom_killed: bool) {
        self.status = "exited".into();
        self.running = false;
        self.paused = false;
        self.oom_killed = oom_killed;
        self.pid = 0;
        self.exit_code = code;
        self.finished_at = at.to_string();
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.status = if paused { "paused" } else { "running" }.into();
    }

    /// `Up 3 seconds`, `Exited (0) 2 minutes ago`, as `docker ps` shows.
    pub fn describe(&self, now: chrono::DateTime<chrono::Utc>) -> String {
        let ago = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| human_duration(now.signed_duration_since(t).num_seconds()))
                .unwrap_or_default()
        };
        if self.running {
            let paused = if self.paused { " (Paused)" } else { "" };
            format!("Up {}{paused}", ago(&self.started_at))
        } else if self.finished_at != ZERO_TIME {
            format!("Exited ({}) {} ago", self.exit_code, ago(&self.finished_at))
        } else if self.dead {
            "Dead".into()
        } else {
            "Created".into()
        }
    }
}

/// `3 seconds`, `About a minute`, `2 hours`, as Docker words durations.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s < 120 => "About a minute".into(),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 7200 => "About an hour".into(),
        s if s < 48 * 3600 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

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
    pub log_path: String,
    pub config: Config,
    pub host_config: HostConfig,
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
        let durability = if self.host_config.auto_remove {
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
            log_path: "/l".into(),
            config: Config::default(),
            host_config: HostConfig::default(),
        };
        c.state.set_stopped(3, "2026-01-01T00:00:01Z", true);
        c.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("config.v2.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["State"]["ExitCode"], 3);
        assert_eq!(v["State"]["OOMKilled"], true);
        assert_eq!(v["HostConfig"]["LogConfig"]["Type"], "json-file");
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

    #[test]
    fn status_lines_read_like_dockers() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:01:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut s = State::default();
        assert_eq!(s.describe(now), "Created");
        s.set_running(5, "2026-01-01T00:00:57Z");
        assert_eq!(s.describe(now), "Up 3 seconds");
        s.set_paused(true);
        assert_eq!(s.describe(now), "Up 3 seconds (Paused)");
        s.set_stopped(137, "2025-12-31T22:00:00Z", false);
        assert_eq!(s.describe(now), "Exited (137) 2 hours ago");
    }
}
