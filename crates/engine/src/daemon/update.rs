//! Changes to a container's record: `rename` and `update`.

use serde::Deserialize;
use vessel_runtime::protocol::ResourceUpdate;

use super::{names::valid_name, Daemon};
use crate::container::HostConfig;
use crate::error::{EngineError, Result};
use crate::spec;

/// The limits `docker update` may change. Docker's clients send every
/// member, with zero for "leave as it is".
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateConfig {
    pub memory: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    /// `Some(0)` or `Some(-1)`: no limit.
    pub pids_limit: Option<i64>,
}

impl UpdateConfig {
    /// The members of Docker's `UpdateConfig` that Vessel applies.
    pub const SUPPORTED: &'static [&'static str] = &[
        "Memory",
        "NanoCpus",
        "CpuShares",
        "CpuQuota",
        "CpuPeriod",
        "PidsLimit",
    ];

    /// `hc` with this update applied, checked as at create.
    fn apply_to(&self, hc: &HostConfig) -> Result<HostConfig> {
        let mut new = hc.clone();
        if self.memory != 0 {
            new.memory = self.memory;
        }
        if self.cpu_shares != 0 {
            new.cpu_shares = self.cpu_shares;
        }
        if self.nano_cpus != 0 {
            if hc.cpu_quota != 0 || hc.cpu_period != 0 {
                return Err(EngineError::InvalidParameter(format!(
                    "NanoCpus: {} cannot be set: the container has CpuQuota {} / CpuPeriod {}",
                    self.nano_cpus, hc.cpu_quota, hc.cpu_period
                )));
            }
            new.nano_cpus = self.nano_cpus;
        }
        if self.cpu_quota != 0 || self.cpu_period != 0 {
            if hc.nano_cpus != 0 {
                return Err(EngineError::InvalidParameter(format!(
                    "CpuQuota/CpuPeriod: {}/{} cannot be set: the container has NanoCpus {}",
                    self.cpu_quota, self.cpu_period, hc.nano_cpus
                )));
            }
            if self.cpu_quota != 0 {
                new.cpu_quota = self.cpu_quota;
            }
            if self.cpu_period != 0 {
                new.cpu_period = self.cpu_period;
            }
        }
        if let Some(limit) = self.pids_limit {
            new.pids_limit = Some(if limit <= 0 { -1 } else { limit });
        }
        spec::resources(&new)?;
        Ok(new)
    }

    /// What the running task must change to match `new`.
    fn live_change(&self, new: &HostConfig) -> Result<ResourceUpdate> {
        let res = spec::resources(new)?;
        let cpu = &res["cpu"];
        let cpu_changed = self.nano_cpus != 0 || self.cpu_quota != 0 || self.cpu_period != 0;
        Ok(ResourceUpdate {
            memory: (self.memory != 0).then_some(new.memory),
            cpu_quota: if cpu_changed {
                cpu["quota"].as_i64()
            } else {
                None
            },
            cpu_period: if cpu_changed {
                cpu["period"].as_u64()
            } else {
                None
            },
            cpu_shares: (self.cpu_shares != 0).then_some(new.cpu_shares as u64),
            pids_limit: self.pids_limit.map(|_| new.pids_limit.unwrap_or(-1)),
        })
    }
}

impl Daemon {
    /// `docker rename`.
    pub fn rename(&self, name: &str, new_name: &str) -> Result<()> {
        let wanted = new_name.trim_start_matches('/');
        if wanted.is_empty() {
            return Err(EngineError::InvalidParameter(
                "rename: the new name may not be empty".into(),
            ));
        }
        if !valid_name(wanted) {
            return Err(EngineError::InvalidParameter(format!(
                "Invalid container name ({wanted}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        let wanted = format!("/{wanted}");
        let entry = self.get(name)?;
        // The name is claimed under the table's lock (as create checks
        // names), without waiting for the record, which a start may hold.
        let old = {
            let table = self.table();
            let current = entry.name().clone();
            if current == wanted {
                return Err(EngineError::InvalidParameter(format!(
                    "rename: {wanted} is already the container's name"
                )));
            }
            if let Some((other, _)) = table.iter().find(|(_, e)| *e.name() == wanted) {
                return Err(EngineError::Conflict(format!(
                    "Conflict. The container name \"{wanted}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
                )));
            }
            *entry.name() = wanted.clone();
            current
        };
        let mut c = entry.lock();
        c.name = wanted.clone();
        if let Err(e) = self.save(&c) {
            c.name = old.clone();
            *entry.name() = old;
            return Err(e);
        }
        self.event(&c, "rename", &[("oldName", old)]);
        Ok(())
    }

    /// `docker update`: new limits in the record, and on the running task
    /// at once. Returns warnings (none so far).
    pub fn update(&self, name: &str, update: &UpdateConfig) -> Result<Vec<String>> {
        let entry = self.get(name)?;
        let mut c = entry.lock();
        if c.state.removal_in_progress || c.state.dead {
            return Err(EngineError::Conflict(format!(
                "container {} is marked for removal and cannot be updated",
                c.id
            )));
        }
        let new = update.apply_to(&c.host_config)?;
        if c.state.running {
            self.runtime
                .update_resources(&c.id, update.live_change(&new)?)?;
        }
        let old = std::mem::replace(&mut c.host_config, new);
        if let Err(e) = self.save(&c) {
            // Put the task back to what the record says.
            if c.state.running {
                let undo = UpdateConfig {
                    memory: old.memory,
                    nano_cpus: old.nano_cpus,
                    cpu_shares: old.cpu_shares,
                    cpu_quota: old.cpu_quota,
                    cpu_period: old.cpu_period,
                    pids_limit: update.pids_limit.map(|_| old.pids_limit.unwrap_or(-1)),
                };
                if let Ok(change) = undo.live_change(&old) {
                    let _ = self.runtime.update_resources(&c.id, change);
                }
            }
            c.host_config = old;
            return Err(e);
        }
        self.event(&c, "update", &[]);
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_members_leave_limits_as_they_are() {
        let hc = HostConfig {
            memory: 64 << 20,
            cpu_shares: 512,
            ..Default::default()
        };
        let u = UpdateConfig {
            pids_limit: Some(20),
            ..Default::default()
        };
        let new = u.apply_to(&hc).unwrap();
        assert_eq!(new.memory, 64 << 20);
        assert_eq!(new.cpu_shares, 512);
        assert_eq!(new.pids_limit, Some(20));
        let live = u.live_change(&new).unwrap();
        assert_eq!(
            live,
            ResourceUpdate {
                pids_limit: Some(20),
                ..Default::default()
            }
        );
    }

    #[test]
    fn nano_cpus_become_quota_and_period() {
        let u = UpdateConfig {
            nano_cpus: 500_000_000,
            ..Default::default()
        };
        let new = u.apply_to(&HostConfig::default()).unwrap();
        let live = u.live_change(&new).unwrap();
        assert_eq!(live.cpu_quota, Some(50_000));
        assert_eq!(live.cpu_period, Some(100_000));
    }

    #[test]
    fn conflicting_and_bad_limits_are_refused_by_name() {
        let hc = HostConfig {
            cpu_quota: 20_000,
            ..Default::default()
        };
        let u = UpdateConfig {
            nano_cpus: 1_000_000_000,
            ..Default::default()
        };
        assert!(u
            .apply_to(&hc)
            .unwrap_err()
            .to_string()
            .contains("NanoCpus"));
        let u = UpdateConfig {
            memory: 1024,
            ..Default::default()
        };
        let e = u.apply_to(&HostConfig::default()).unwrap_err().to_string();
        assert!(e.contains("HostConfig.Memory") && e.contains("1024"), "{e}");
    }

    #[test]
    fn no_pids_limit_is_minus_one() {
        let u = UpdateConfig {
            pids_limit: Some(0),
            ..Default::default()
        };
        let new = u.apply_to(&HostConfig::default()).unwrap();
        assert_eq!(new.pids_limit, Some(-1));
        assert_eq!(u.live_change(&new).unwrap().pids_limit, Some(-1));
    }
}
