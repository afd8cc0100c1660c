//! Restart policies carried out (Docker's `handleContainerExit` and its
//! restart manager): an exit the policy restarts leaves the container
//! `restarting`, and a thread starts it after the policy's delay unless a
//! stop or kill ends the loop first; at the daemon's start, the stopped
//! containers the policy restarts are started again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Daemon, Entry};
use crate::container::restart::Policy;
use crate::container::{Container, ZERO_TIME};

/// How long the run that ended at `until` lasted.
fn ran_for(started: &str, until: &str) -> Duration {
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (at(started), at(until)) {
        (Some(s), Some(u)) => (u - s).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

impl Daemon {
    /// The delay after which the policy starts `c` again after its exit
    /// with `code` at `at`, or `None`. Counts the delays even when it does
    /// not restart, as Docker's restart manager does.
    pub(super) fn restart_delay(
        &self,
        entry: &Entry,
        c: &Container,
        code: i64,
        at: &str,
    ) -> Option<Duration> {
        let policy = Policy::of(&c.host_config).unwrap_or(Policy::No);
        if policy == Policy::No {
            return None;
        }
        let delay = entry.backoff().next(ran_for(&c.state.started_at, at))?;
        policy
            .restarts(code, c.restart_count, c.has_been_manually_stopped)
            .then_some(delay)
    }

    /// Starts the container of `entry` once `delay` has passed, unless it
    /// is no longer waiting for that (stopped, removed, started by hand).
    pub(super) fn restart_after(&self, entry: Arc<Entry>, delay: Duration) {
        let Some(daemon) = self.me.upgrade() else {
            return;
        };
        std::thread::spawn(move || {
            let deadline = Instant::now() + delay;
            let id = {
                let mut c = entry.lock();
                loop {
                    if !c.state.restarting || entry.backoff().canceled {
                        return;
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        break c.id.clone();
                    }
                    c = c.wait(&entry.changed, Some(deadline - now));
                }
            };
            if let Err(e) = daemon.start_by_policy(&id) {
                tracing::warn!(container = %id, error = %e, "restarting a container");
            }
        });
    }

    /// The containers found stopped at the daemon's start that their
    /// policy starts again (ones never started stay as they are), as
    /// Docker's daemon restarts them: from a new restart manager, as a
    /// start by hand.
    pub(super) fn to_restart_at_boot(&self, c: &Container) -> bool {
        let policy = Policy::of(&c.host_config).unwrap_or(Policy::No);
        !c.state.running
            && c.state.started_at != ZERO_TIME
            && !c.state.removal_in_progress
            && policy.restarts(
                c.state.exit_code,
                c.restart_count,
                c.has_been_manually_stopped,
            )
    }

    /// Starts `ids` again, in a thread of their own, once the daemon is
    /// up.
    pub(super) fn restart_at_boot(&self, ids: Vec<String>) {
        let Some(daemon) = self.me.upgrade() else {
            return;
        };
        if ids.is_empty() {
            return;
        }
        std::thread::spawn(move || {
            for id in ids {
                match daemon.start(&id) {
                    Ok(()) => {
                        tracing::info!(container = %id, "started again by its restart policy")
                    }
                    Err(e) => {
                        tracing::warn!(container = %id, error = %e, "restarting a container at start")
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_timed_from_their_start() {
        let d = ran_for("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:11Z");
        assert_eq!(d, Duration::from_millis(10_500));
        assert_eq!(ran_for(ZERO_TIME, "bad"), Duration::ZERO);
    }
}
