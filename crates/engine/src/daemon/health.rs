//! Health checks run, as Docker's daemon runs them: while a container
//! with a check runs (and is not paused), a thread of its own runs the
//! probe as an exec after each interval, within its timeout, and records
//! the result in `State.Health`; a change of status is saved and reported
//! (`health_status: ...`).

use std::io::ErrorKind;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard_stubs::models::HealthcheckResult;
use vessel_runtime::frame;
use vessel_runtime::protocol::ProcessSpec;

use super::{Daemon, Entry, ExecOptions};
use crate::container::health::{self, Check, MAX_OUTPUT};
use crate::container::Container;
use crate::error::{EngineError, Result};

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// How long after the container's start `at` is.
fn since_start(c: &Container, at: chrono::DateTime<chrono::Utc>) -> Duration {
    chrono::DateTime::parse_from_rfc3339(&c.state.started_at)
        .ok()
        .and_then(|s| (at - s.with_timezone(&chrono::Utc)).to_std().ok())
        .unwrap_or_default()
}

/// What a probe's output and exit came to.
struct Outcome {
    code: i64,
    output: String,
}

impl Daemon {
    /// Runs the container's check, if it has one, from now on: at a start
    /// its health starts over (`starting`); with `keep` (a restore, an
    /// unpause) it goes on as it was.
    pub(super) fn start_health(&self, entry: &Arc<Entry>, c: &mut Container, keep: bool) {
        let shell = c.config.shell.clone().unwrap_or_default();
        let Some(check) = Check::of(c.config.healthcheck.as_ref(), &shell) else {
            return;
        };
        if !keep || c.state.health.is_none() {
            c.state.health = Some(health::starting(c.state.health.take()));
        }
        let Some(daemon) = self.me.upgrade() else {
            return;
        };
        let generation = entry.health.fetch_add(1, Ordering::SeqCst) + 1;
        let entry = entry.clone();
        std::thread::spawn(move || daemon.monitor(&entry, generation, &check));
    }

    /// Ends the container's checks (it stopped, paused or is removed).
    pub(super) fn stop_health(&self, entry: &Entry) {
        entry.health.fetch_add(1, Ordering::SeqCst);
        entry.changed.notify_all();
    }

    /// The monitor of one run of checks (`generation`): it ends when a
    /// newer one starts, or the container stops running.
    fn monitor(&self, entry: &Entry, generation: u64, check: &Check) {
        let current = || entry.health.load(Ordering::SeqCst) == generation;
        loop {
            let (id, user, cwd) = {
                let mut c = entry.lock();
                let status = c.state.health.as_ref().and_then(|h| h.status);
                let wait = check.next_wait(since_start(&c, chrono::Utc::now()), status);
                let deadline = Instant::now() + wait;
                loop {
                    if !current() || !c.state.running || c.state.paused || c.state.restarting {
                        return;
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    c = c.wait(&entry.changed, Some(deadline - now));
                }
                let user = c.config.user.clone().filter(|u| !u.is_empty());
                let cwd = c.config.working_dir.clone().filter(|w| !w.is_empty());
                (c.id.clone(), user, cwd)
            };
            let started = chrono::Utc::now();
            let start = started.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            let outcome = self
                .probe(&id, check, user, cwd)
                .unwrap_or_else(|e| Outcome {
                    code: -1,
                    output: e.to_string(),
                });
            let result = HealthcheckResult {
                start: Some(start),
                end: Some(now()),
                exit_code: Some(outcome.code),
                output: Some(outcome.output),
            };
            let mut c = entry.lock();
            if !current() || !c.state.running {
                return;
            }
            let since = since_start(&c, started);
            let Some(h) = c.state.health.as_mut() else {
                return;
            };
            if health::record(h, check, result, since) {
                let status = h.status.map(|s| s.to_string()).unwrap_or_default();
                if let Err(e) = self.save(&c) {
                    tracing::warn!(container = %id, error = %e, "saving a health status");
                }
                self.event(&c, &format!("health_status: {status}"), &[]);
            }
        }
    }

    /// Runs the check's command once as an exec of container `id`; its
    /// record goes when it is done.
    fn probe(
        &self,
        id: &str,
        check: &Check,
        user: Option<String>,
        cwd: Option<String>,
    ) -> Result<Outcome> {
        let process = ProcessSpec {
            args: check.argv.clone(),
            env: Vec::new(),
            cwd,
            user,
            terminal: false,
            console_size: None,
            capabilities: None,
        };
        let exec_id = self.exec_create(id, process, ExecOptions::default())?;
        let outcome = self.run_probe(id, &exec_id, check.timeout);
        self.execs().remove(&exec_id);
        outcome
    }

    fn run_probe(&self, id: &str, exec_id: &str, timeout: Duration) -> Result<Outcome> {
        let (mut out, _input) = self
            .exec_start(exec_id, false)?
            .ok_or_else(|| EngineError::Internal("the health check's exec has no output".into()))?;
        let deadline = Instant::now() + timeout;
        let mut output = Vec::new();
        let timed_out = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break true;
            }
            let _ = out.get_ref().set_read_timeout(Some(left));
            match frame::read_frame(&mut out) {
                Ok(Some((stream, data))) if stream == frame::STDOUT || stream == frame::STDERR => {
                    let room = MAX_OUTPUT.saturating_sub(output.len());
                    output.extend_from_slice(&data[..data.len().min(room)]);
                }
                Ok(Some(_)) => {}
                Ok(None) => break false,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break true
                }
                Err(_) => break false,
            }
        };
        let output = String::from_utf8_lossy(&output).into_owned();
        if timed_out {
            let _ = self.runtime.signal(id, exec_id, libc::SIGKILL);
            self.exec_wait(exec_id, Duration::from_secs(1));
            let limit = health::go_duration(timeout);
            let output = match output.is_empty() {
                true => format!("Health check exceeded timeout ({limit})"),
                false => format!("Health check exceeded timeout ({limit}): {output}"),
            };
            return Ok(Outcome { code: -1, output });
        }
        self.exec_wait(
            exec_id,
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1)),
        );
        let code = self.exec_inspect(exec_id)?.exit_code.unwrap_or(-1);
        Ok(Outcome { code, output })
    }
}
