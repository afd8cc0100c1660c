//! The health check flags of `create` and `run`, as docker's.

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Debug, Args, Default)]
pub struct HealthFlags {
    /// A command to run to check health (through `/bin/sh -c`).
    #[arg(long = "health-cmd")]
    cmd: Option<String>,
    /// Time between running the check (ms|s|m|h).
    #[arg(long = "health-interval")]
    interval: Option<String>,
    /// Longest time a check may run (ms|s|m|h).
    #[arg(long = "health-timeout")]
    timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy.
    #[arg(long = "health-retries")]
    retries: Option<i64>,
    /// Start period for the container to initialize before failures
    /// count (ms|s|m|h).
    #[arg(long = "health-start-period")]
    start_period: Option<String>,
    /// Time between checks during the start period (ms|s|m|h).
    #[arg(long = "health-start-interval")]
    start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK.
    #[arg(long = "no-healthcheck")]
    none: bool,
}

impl HealthFlags {
    /// Sets the create request's `Healthcheck`, when a flag asks.
    pub fn apply(&self, config: &mut Value) -> anyhow::Result<()> {
        let mut check = Map::new();
        if let Some(cmd) = &self.cmd {
            check.insert("Test".into(), json!(["CMD-SHELL", cmd]));
        }
        for (member, flag, value) in [
            ("Interval", "--health-interval", &self.interval),
            ("Timeout", "--health-timeout", &self.timeout),
            ("StartPeriod", "--health-start-period", &self.start_period),
            (
                "StartInterval",
                "--health-start-interval",
                &self.start_interval,
            ),
        ] {
            if let Some(v) = value {
                let nanos = duration(v).with_context(|| format!("{flag}: {v:?}"))?;
                if nanos < 0 {
                    bail!("{flag} cannot be negative");
                }
                check.insert(member.into(), json!(nanos));
            }
        }
        if let Some(r) = self.retries {
            check.insert("Retries".into(), json!(r));
        }
        if self.none {
            if !check.is_empty() {
                bail!("--no-healthcheck conflicts with --health-* options");
            }
            check.insert("Test".into(), json!(["NONE"]));
        }
        if !check.is_empty() {
            config["Healthcheck"] = Value::Object(check);
        }
        Ok(())
    }
}

/// A Go duration in nanoseconds (`0` alone too, as Go reads it).
fn duration(s: &str) -> anyhow::Result<i64> {
    match s {
        "0" => Ok(0),
        s => super::observe::go_duration(s).context("invalid duration"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_gos() {
        assert_eq!(duration("1s").unwrap(), 1_000_000_000);
        assert_eq!(duration("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(duration("250ms").unwrap(), 250_000_000);
        assert_eq!(duration("1.5h").unwrap(), 5_400_000_000_000);
        assert_eq!(duration("0").unwrap(), 0);
        assert!(duration("5").is_err() && duration("1x").is_err() && duration("").is_err());
    }

    #[test]
    fn flags_make_dockers_healthcheck() {
        let flags = HealthFlags {
            cmd: Some("test -e /ok".into()),
            interval: Some("100ms".into()),
            retries: Some(2),
            ..Default::default()
        };
        let mut config = json!({});
        flags.apply(&mut config).unwrap();
        assert_eq!(
            config["Healthcheck"],
            json!({"Test": ["CMD-SHELL", "test -e /ok"], "Interval": 100_000_000, "Retries": 2})
        );
        let none = HealthFlags {
            none: true,
            ..Default::default()
        };
        let mut config = json!({});
        none.apply(&mut config).unwrap();
        assert_eq!(config["Healthcheck"]["Test"], json!(["NONE"]));
        let both = HealthFlags {
            none: true,
            retries: Some(1),
            ..Default::default()
        };
        assert!(both.apply(&mut json!({})).is_err());
    }
}
