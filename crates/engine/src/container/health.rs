//! Health checks as Docker runs them: the check a container's config
//! (over its image's) asks for, and what each probe's result does to
//! `State.Health` (the status, the failing streak, the last five
//! results).

use std::time::Duration;

use bollard_stubs::models::{Health, HealthConfig, HealthStatusEnum, HealthcheckResult};

use crate::error::{EngineError, Result};

/// Docker's defaults.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: i64 = 3;
/// The results `State.Health.Log` keeps.
const KEPT_RESULTS: usize = 5;
/// The output a result keeps.
pub const MAX_OUTPUT: usize = 4096;

/// A container's health check, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The probe's command line.
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: i64,
}

/// A duration member in nanoseconds, 0 for the default.
fn nanos(v: Option<i64>, default: Duration) -> Duration {
    match v.unwrap_or(0) {
        n if n > 0 => Duration::from_nanos(n as u64),
        _ => default,
    }
}

impl Check {
    /// The check of a config's `Healthcheck` (merged with the image's at
    /// create); `None` when there is none, or `NONE`. A `CMD-SHELL` line
    /// runs with `shell` (the config's `Shell`), else `/bin/sh -c`.
    pub fn of(config: Option<&HealthConfig>, shell: &[String]) -> Option<Check> {
        let config = config?;
        let test = config.test.as_deref().unwrap_or_default();
        let argv = match test.split_first() {
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
            Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
                let mut argv = match shell.is_empty() {
                    true => vec!["/bin/sh".to_string(), "-c".to_string()],
                    false => shell.to_vec(),
                };
                argv.extend(rest.iter().cloned());
                argv
            }
            _ => return None,
        };
        Some(Check {
            argv,
            interval: nanos(config.interval, DEFAULT_INTERVAL),
            timeout: nanos(config.timeout, DEFAULT_TIMEOUT),
            start_period: nanos(config.start_period, Duration::ZERO),
            start_interval: nanos(config.start_interval, DEFAULT_START_INTERVAL),
            retries: match config.retries.unwrap_or(0) {
                n if n > 0 => n,
                _ => DEFAULT_RETRIES,
            },
        })
    }

    /// The wait before the next probe: the start interval while the
    /// container is starting within its start period.
    pub fn next_wait(&self, since_start: Duration, status: Option<HealthStatusEnum>) -> Duration {
        let starting = status == Some(HealthStatusEnum::STARTING);
        match since_start < self.start_period && starting {
            true => self.start_interval,
            false => self.interval,
        }
    }
}

/// Docker's checks of a create's `Healthcheck`, with its words.
pub fn validate(config: Option<&HealthConfig>) -> Result<()> {
    let Some(c) = config else {
        return Ok(());
    };
    let min = 1_000_000;
    for (name, v) in [
        ("Interval", c.interval),
        ("Timeout", c.timeout),
        ("StartPeriod", c.start_period),
        ("StartInterval", c.start_interval),
    ] {
        let v = v.unwrap_or(0);
        if v != 0 && v < min {
            return Err(EngineError::InvalidParameter(format!(
                "{name} in Healthcheck cannot be less than 1ms"
            )));
        }
    }
    if c.retries.unwrap_or(0) < 0 {
        return Err(EngineError::InvalidParameter(
            "Retries in Healthcheck cannot be negative".into(),
        ));
    }
    match c
        .test
        .as_deref()
        .and_then(|t| t.first())
        .map(String::as_str)
    {
        None | Some("NONE" | "CMD" | "CMD-SHELL") => Ok(()),
        Some(other) => Err(EngineError::InvalidParameter(format!(
            "Healthcheck.Test: unknown type {other:?}: use CMD, CMD-SHELL or NONE"
        ))),
    }
}

/// The container's check over the image's, as Docker merges them: what
/// the container leaves unset comes from the image.
pub fn merge(mine: &mut Option<HealthConfig>, image: Option<&HealthConfig>) {
    let Some(image) = image else {
        return;
    };
    let Some(mine) = mine.as_mut() else {
        *mine = Some(image.clone());
        return;
    };
    if mine.test.as_ref().is_none_or(|t| t.is_empty()) {
        mine.test = image.test.clone();
    }
    for (m, i) in [
        (&mut mine.interval, image.interval),
        (&mut mine.timeout, image.timeout),
        (&mut mine.start_period, image.start_period),
        (&mut mine.start_interval, image.start_interval),
        (&mut mine.retries, image.retries),
    ] {
        if m.unwrap_or(0) == 0 {
            *m = i;
        }
    }
}

/// A health that starts over: `starting`, no failing streak, the last
/// results kept.
pub fn starting(old: Option<Health>) -> Health {
    let mut h = old.unwrap_or_default();
    h.status = Some(HealthStatusEnum::STARTING);
    h.failing_streak = Some(0);
    h.log.get_or_insert_with(Vec::new);
    h
}

/// Records a probe's `result` (its exit code; started `since_start` after
/// the container): healthy on a success; on a failure past the start
/// period, one more in the streak, unhealthy at `retries`. Says whether
/// the status changed.
pub fn record(
    h: &mut Health,
    check: &Check,
    result: HealthcheckResult,
    since_start: Duration,
) -> bool {
    let old = h.status;
    let log = h.log.get_or_insert_with(Vec::new);
    let success = result.exit_code == Some(0);
    log.push(result);
    if log.len() > KEPT_RESULTS {
        log.drain(..log.len() - KEPT_RESULTS);
    }
    if success {
        h.failing_streak = Some(0);
        h.status = Some(HealthStatusEnum::HEALTHY);
    } else {
        let grace = old == Some(HealthStatusEnum::STARTING) && since_start < check.start_period;
        if !grace {
            let streak = h.failing_streak.unwrap_or(0) + 1;
            h.failing_streak = Some(streak);
            if streak >= check.retries {
                h.status = Some(HealthStatusEnum::UNHEALTHY);
            }
        }
    }
    h.status != old
}

/// A health as `ps` shows it after `Up ...`.
pub fn describe(h: &Health) -> String {
    match h.status {
        Some(HealthStatusEnum::STARTING) => "health: starting".into(),
        Some(s) => s.to_string(),
        None => String::new(),
    }
}

/// A duration as Go prints one (`30s`, `500ms`, `1.5s`, `1m30s`), for
/// the timeout's message.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (m, s) = (d.as_secs() / 60, d.as_secs_f64() % 60.0);
    let secs = format!("{s:.3}");
    let secs = secs.trim_end_matches('0').trim_end_matches('.');
    match m {
        0 => format!("{secs}s"),
        m => format!("{m}m{secs}s"),
    }
}

#[cfg(test)]
mod tests;
