//! Resource limit flags and the restart policy, shared by `create`/`run`
//! and `update`.

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct Limits {
    /// Memory limit (bytes, or with b, k, m, g).
    #[arg(long, short)]
    memory: Option<String>,
    /// Memory plus swap (bytes, or with b, k, m, g; -1: no limit).
    #[arg(long = "memory-swap", allow_negative_numbers = true)]
    memory_swap: Option<String>,
    /// CPUs (fractional).
    #[arg(long, allow_negative_numbers = true)]
    cpus: Option<f64>,
    /// CPU shares (relative weight).
    #[arg(long = "cpu-shares", short = 'c', allow_negative_numbers = true)]
    cpu_shares: Option<i64>,
    /// Most processes at once (-1: unlimited).
    #[arg(long = "pids-limit", allow_negative_numbers = true)]
    pids_limit: Option<i64>,
    /// When to start the container again after it exits: `no`, `always`,
    /// `unless-stopped`, `on-failure[:MAX-RETRIES]`.
    #[arg(long)]
    restart: Option<String>,
}

impl Limits {
    /// Puts the given limits into a host config (or an update) in Docker's
    /// member names.
    pub fn apply(&self, host: &mut Value) -> anyhow::Result<()> {
        if let Some(m) = &self.memory {
            host["Memory"] = json!(parse_bytes(m)?);
        }
        if let Some(s) = &self.memory_swap {
            host["MemorySwap"] = json!(if s == "-1" { -1 } else { parse_bytes(s)? });
        }
        if let Some(c) = self.cpus {
            host["NanoCpus"] = json!((c * 1e9) as i64);
        }
        if let Some(s) = self.cpu_shares {
            host["CpuShares"] = json!(s);
        }
        if let Some(p) = self.pids_limit {
            host["PidsLimit"] = json!(p);
        }
        if let Some(r) = &self.restart {
            host["RestartPolicy"] = restart_policy(r)?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.cpus.is_none()
            && self.cpu_shares.is_none()
            && self.pids_limit.is_none()
            && self.restart.is_none()
    }
}

/// `--restart NAME[:MAX-RETRIES]`, read as docker's CLI reads it.
fn restart_policy(s: &str) -> anyhow::Result<Value> {
    let (name, count) = s.split_once(':').unwrap_or((s, ""));
    anyhow::ensure!(
        !name.is_empty() || count.is_empty(),
        "invalid restart policy format: no policy provided before colon"
    );
    let count: i64 = match count {
        "" => 0,
        _ if name != "on-failure" => anyhow::bail!(
            "invalid restart policy format: maximum retry count can only be used with 'on-failure'"
        ),
        c => c
            .parse()
            .context("invalid restart policy format: maximum retry count must be an integer")?,
    };
    Ok(json!({"Name": name, "MaximumRetryCount": count}))
}

/// `64m` -> bytes.
pub fn parse_bytes(s: &str) -> anyhow::Result<i64> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mult) = match s.chars().last() {
        Some('b') => (&s[..s.len() - 1], 1),
        Some('k') => (&s[..s.len() - 1], 1 << 10),
        Some('m') => (&s[..s.len() - 1], 1 << 20),
        Some('g') => (&s[..s.len() - 1], 1 << 30),
        _ => (&s[..], 1),
    };
    let n: f64 = num
        .parse()
        .with_context(|| format!("--memory: {s:?} is not a size (e.g. 64m)"))?;
    Ok((n * mult as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies_read_as_dockers() {
        assert_eq!(
            restart_policy("on-failure:3").unwrap(),
            json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        assert_eq!(restart_policy("always").unwrap()["Name"], "always");
        assert!(restart_policy("always:2").is_err());
        assert!(restart_policy(":2").is_err());
        assert!(restart_policy("on-failure:x").is_err());
    }
}
