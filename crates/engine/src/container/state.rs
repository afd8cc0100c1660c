//! A container's state machine: Docker's statuses, the transitions the
//! engine makes between them, and the one table that says which verb is
//! allowed in which status ([`State::check`]), with Docker's errors.

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// Docker's zero time, for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Docker's container statuses (`State.Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

/// What the engine is asked to do to a container, as far as its state
/// decides whether it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Start,
    Stop,
    Kill,
    Pause,
    Unpause,
    Exec,
    Top,
    Update,
    Remove { force: bool },
}

/// The state Docker reports, and Vessel restores from. The flags are
/// Docker's own (a paused container is also running); `status` is kept
/// in step with them by the transitions below, the only writers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct State {
    pub status: Status,
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
    /// The health check's state, for a container with one that started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<bollard_stubs::models::Health>,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
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
            health: None,
        }
    }
}

impl State {
    /// Says whether `verb` is allowed now; if not, Docker's error for it
    /// (`id` and `name` are the container's, for the messages).
    pub fn check(&self, verb: Verb, id: &str, name: &str) -> Result<()> {
        let conflict = |m: String| Err(EngineError::Conflict(m));
        let not_running = || conflict(format!("container {id} is not running"));
        match verb {
            Verb::Start if self.paused => {
                conflict("cannot start a paused container, try unpause instead".into())
            }
            Verb::Start if self.running => Err(EngineError::NotModified(
                "container already started".into(),
            )),
            Verb::Start if self.removal_in_progress || self.dead => {
                conflict("container is marked for removal and cannot be started".into())
            }
            Verb::Stop if !self.running => Err(EngineError::NotModified(
                "container already stopped".into(),
            )),
            Verb::Kill | Verb::Pause | Verb::Exec | Verb::Top if !self.running => not_running(),
            Verb::Pause | Verb::Exec if self.restarting => conflict(format!(
                "container {id} is restarting, wait until the container is running"
            )),
            Verb::Pause if self.paused => conflict(format!("container {id} is already paused")),
            Verb::Exec if self.paused => conflict(format!(
                "container {id} is paused, unpause the container before exec"
            )),
            Verb::Unpause if !self.paused => conflict(format!("container {id} is not paused")),
            Verb::Update if self.removal_in_progress || self.dead => conflict(format!(
                "container {id} is marked for removal and cannot be updated"
            )),
            Verb::Remove { .. } if self.removal_in_progress => conflict(format!(
                "removal of container {id} is already in progress"
            )),
            Verb::Remove { force: false } if self.running => conflict(format!(
                "cannot remove container \"{name}\": container is running: stop the container before removing or force remove"
            )),
            _ => Ok(()),
        }
    }

    /// Docker's status for the flags, as its `StateString` derives it.
    fn derive_status(&self) -> Status {
        if self.running {
            if self.paused {
                Status::Paused
            } else if self.restarting {
                Status::Restarting
            } else {
                Status::Running
            }
        } else if self.removal_in_progress {
            Status::Removing
        } else if self.dead {
            Status::Dead
        } else if self.finished_at == ZERO_TIME {
            Status::Created
        } else {
            Status::Exited
        }
    }

    fn sync(&mut self) {
        self.status = self.derive_status();
    }

    /// The first process runs, as `pid`, since `at`.
    pub fn set_running(&mut self, pid: i64, at: &str) {
        self.running = true;
        self.paused = false;
        self.restarting = false;
        self.oom_killed = false;
        self.pid = pid;
        self.exit_code = 0;
        self.error.clear();
        self.started_at = at.to_string();
        self.sync();
    }

    /// The first process is re-found running (or frozen) after a restart.
    pub fn set_restored(&mut self, pid: i64, paused: bool) {
        self.pid = pid;
        self.paused = paused;
        self.sync();
    }

    /// The first process exited with `code` at `at`.
    pub fn set_stopped(&mut self, code: i64, at: &str, oom_killed: bool) {
        self.running = false;
        self.paused = false;
        self.restarting = false;
        self.oom_killed = oom_killed;
        self.pid = 0;
        self.exit_code = code;
        self.finished_at = at.to_string();
        self.sync();
    }

    /// The first process exited and the restart policy starts it again
    /// after a delay: Docker counts such a container as running (for
    /// `stop`, `rm`, `wait`), with no process.
    pub fn set_restarting(&mut self) {
        self.running = true;
        self.restarting = true;
        self.pid = 0;
        self.sync();
    }

    /// A start failed with `error`: nothing runs; the exit code is the
    /// one the failure set, or 128.
    pub fn set_start_failed(&mut self, error: String) {
        self.running = false;
        self.paused = false;
        self.restarting = false;
        self.pid = 0;
        self.error = error;
        if self.exit_code == 0 {
            self.exit_code = 128;
        }
        self.sync();
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.sync();
    }

    pub fn set_removing(&mut self, removing: bool) {
        self.removal_in_progress = removing;
        self.sync();
    }

    pub fn set_dead(&mut self) {
        self.dead = true;
        self.sync();
    }

    /// `Up 3 seconds`, `Exited (0) 2 minutes ago`, as `docker ps` shows.
    pub fn describe(&self, now: chrono::DateTime<chrono::Utc>) -> String {
        let ago = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| human_duration(now.signed_duration_since(t).num_seconds()))
                .unwrap_or_default()
        };
        if self.restarting {
            format!(
                "Restarting ({}) {} ago",
                self.exit_code,
                ago(&self.finished_at)
            )
        } else if self.running {
            let paused = if self.paused { " (Paused)" } else { "" };
            let health = match (&self.health, self.paused) {
                (Some(h), false) => format!(" ({})", super::health::describe(h)),
                _ => String::new(),
            };
            format!("Up {}{paused}{health}", ago(&self.started_at))
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn transitions_keep_the_status_in_step_with_the_flags() {
        let mut s = State::default();
        assert_eq!(s.status, Status::Created);
        s.set_start_failed("no such file".into());
        assert_eq!((s.status, s.exit_code), (Status::Created, 128));
        s.set_running(7, "2026-01-01T00:00:00Z");
        assert_eq!(s.status, Status::Running);
        s.set_paused(true);
        assert_eq!(s.status, Status::Paused);
        s.set_stopped(0, "2026-01-01T00:00:01Z", false);
        assert_eq!(s.status, Status::Exited);
        s.set_removing(true);
        assert_eq!(s.status, Status::Removing);
        s.set_removing(false);
        s.set_dead();
        assert_eq!(s.status, Status::Dead);
    }

    /// Each verb in each status: allowed, or Docker's status code.
    #[test]
    fn the_verb_table_follows_docker() {
        let created = State::default();
        let mut running = State::default();
        running.set_running(1, "2026-01-01T00:00:00Z");
        let mut paused = running.clone();
        paused.set_paused(true);
        let mut exited = running.clone();
        exited.set_stopped(0, "2026-01-01T00:00:01Z", false);
        let mut removing = exited.clone();
        removing.set_removing(true);
        let mut dead = exited.clone();
        dead.set_dead();
        let code = |s: &State, v: Verb| s.check(v, "id", "/n").err().map(|e| e.status());
        let table: [(Verb, [Option<u16>; 6]); 10] = [
            // created, running, paused, exited, removing, dead
            (
                Verb::Start,
                [None, Some(304), Some(409), None, Some(409), Some(409)],
            ),
            (
                Verb::Stop,
                [Some(304), None, None, Some(304), Some(304), Some(304)],
            ),
            (
                Verb::Kill,
                [Some(409), None, None, Some(409), Some(409), Some(409)],
            ),
            (
                Verb::Pause,
                [Some(409), None, Some(409), Some(409), Some(409), Some(409)],
            ),
            (
                Verb::Unpause,
                [Some(409), Some(409), None, Some(409), Some(409), Some(409)],
            ),
            (
                Verb::Exec,
                [Some(409), None, Some(409), Some(409), Some(409), Some(409)],
            ),
            (
                Verb::Top,
                [Some(409), None, None, Some(409), Some(409), Some(409)],
            ),
            (Verb::Update, [None, None, None, None, Some(409), Some(409)]),
            (
                Verb::Remove { force: false },
                [None, Some(409), Some(409), None, Some(409), None],
            ),
            (
                Verb::Remove { force: true },
                [None, None, None, None, Some(409), None],
            ),
        ];
        let states = [&created, &running, &paused, &exited, &removing, &dead];
        for (verb, codes) in table {
            for (s, want) in states.iter().zip(codes) {
                assert_eq!(code(s, verb), want, "{verb:?} in {:?}", s.status);
            }
        }
    }
}
