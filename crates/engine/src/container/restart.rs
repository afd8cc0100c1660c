//! Restart policies, as Docker's restart manager applies them: which
//! exits start the container again, and after how long (100 ms, doubled
//! at each restart up to a minute, back to 100 ms after a run of 10 s or
//! more).

use std::time::Duration;

use bollard_stubs::models::RestartPolicyNameEnum as Name;

use super::HostConfig;
use crate::error::{EngineError, Result};

/// The first delay, Docker's.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest delay, Docker's.
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run this long starts the delays over.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// A container's restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    No,
    Always,
    UnlessStopped,
    /// At most this many restarts (0: no limit).
    OnFailure(i64),
}

impl Policy {
    /// The policy of `hc`, checked as Docker checks it (with its words).
    pub fn of(hc: &HostConfig) -> Result<Policy> {
        let Some(p) = &hc.restart_policy else {
            return Ok(Policy::No);
        };
        let count = p.maximum_retry_count.unwrap_or(0);
        let invalid = |why: &str| {
            Err(EngineError::InvalidParameter(format!(
                "invalid restart policy: {why}"
            )))
        };
        let policy = match p.name.unwrap_or(Name::EMPTY) {
            Name::EMPTY | Name::NO => Policy::No,
            Name::ALWAYS => Policy::Always,
            Name::UNLESS_STOPPED => Policy::UnlessStopped,
            Name::ON_FAILURE if count < 0 => {
                return invalid("maximum retry count cannot be negative")
            }
            Name::ON_FAILURE => Policy::OnFailure(count),
        };
        if count != 0 && !matches!(policy, Policy::OnFailure(_)) {
            return invalid("maximum retry count can only be used with 'on-failure'");
        }
        if policy != Policy::No && hc.auto_remove.unwrap_or(false) {
            return Err(EngineError::InvalidParameter(
                "can't create 'AutoRemove' container with restart policy".into(),
            ));
        }
        Ok(policy)
    }

    /// Whether an exit with `code` after `restarts` restarts is followed
    /// by a start (`stopped`: the user stopped it, or the daemon stops).
    pub fn restarts(self, code: i64, restarts: i64, stopped: bool) -> bool {
        match self {
            Policy::No => false,
            Policy::Always => true,
            Policy::UnlessStopped => !stopped,
            Policy::OnFailure(max) => code != 0 && (max == 0 || restarts < max),
        }
    }
}

/// The delays of one container's restarts (Docker's restart manager;
/// kept in memory: a new daemon starts them over).
#[derive(Debug, Default)]
pub struct Backoff {
    delay: Duration,
    /// A stop or kill ended the loop: no restart until a start.
    pub canceled: bool,
}

impl Backoff {
    /// The delay before the start that follows an exit after a run of
    /// `ran` (`None` when the loop was ended).
    pub fn next(&mut self, ran: Duration) -> Option<Duration> {
        if self.canceled {
            return None;
        }
        if ran >= RESET_AFTER {
            self.delay = Duration::ZERO;
        }
        self.delay = match self.delay {
            Duration::ZERO => FIRST_DELAY,
            d => (d * 2).min(MAX_DELAY),
        };
        Some(self.delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard_stubs::models::RestartPolicy;

    fn hc(name: Name, count: i64, auto_remove: bool) -> HostConfig {
        HostConfig {
            restart_policy: Some(RestartPolicy {
                name: Some(name),
                maximum_retry_count: Some(count),
            }),
            auto_remove: Some(auto_remove),
            ..Default::default()
        }
    }

    #[test]
    fn policies_are_checked_with_dockers_words() {
        assert_eq!(Policy::of(&HostConfig::default()).unwrap(), Policy::No);
        assert_eq!(
            Policy::of(&hc(Name::ON_FAILURE, 3, false)).unwrap(),
            Policy::OnFailure(3)
        );
        for (h, want) in [
            (
                hc(Name::ALWAYS, 2, false),
                "can only be used with 'on-failure'",
            ),
            (hc(Name::ON_FAILURE, -1, false), "cannot be negative"),
            (
                hc(Name::UNLESS_STOPPED, 0, true),
                "'AutoRemove' container with restart policy",
            ),
        ] {
            let e = Policy::of(&h).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        assert!(Policy::of(&hc(Name::NO, 0, true)).is_ok());
    }

    #[test]
    fn which_exits_restart() {
        assert!(Policy::Always.restarts(0, 9, true));
        assert!(!Policy::UnlessStopped.restarts(1, 0, true));
        assert!(Policy::UnlessStopped.restarts(0, 0, false));
        assert!(!Policy::OnFailure(0).restarts(0, 0, false));
        assert!(Policy::OnFailure(2).restarts(1, 1, false));
        assert!(!Policy::OnFailure(2).restarts(1, 2, false));
        assert!(Policy::OnFailure(0).restarts(1, 100, false));
    }

    #[test]
    fn delays_double_up_to_a_minute_and_start_over_after_a_long_run() {
        let mut b = Backoff::default();
        let short = Duration::from_secs(1);
        let delays: Vec<u128> = (0..4).map(|_| b.next(short).unwrap().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800]);
        for _ in 0..20 {
            b.next(short);
        }
        assert_eq!(b.next(short), Some(MAX_DELAY));
        assert_eq!(b.next(RESET_AFTER), Some(FIRST_DELAY));
        b.canceled = true;
        assert_eq!(b.next(short), None);
    }
}
