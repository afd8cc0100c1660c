//! `docker update`: new limits in a container's record and on its
//! running task.

use bollard_stubs::models::{Resources, RestartPolicy, RestartPolicyNameEnum};
use serde::{Deserialize, Serialize};
use vessel_runtime::protocol::ResourceUpdate;

use super::Daemon;
use crate::container::restart::Policy;
use crate::container::{HostConfig, Verb};
use crate::error::{EngineError, Result};
use crate::spec;

/// The body of `docker update`: Docker's `Resources` and a restart
/// policy. Docker's clients send every member, with zero (or null) for
/// "leave as it is".
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateConfig {
    #[serde(flatten)]
    pub resources: Resources,
    #[serde(
        rename = "RestartPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub restart_policy: Option<RestartPolicy>,
}

impl UpdateConfig {
    /// The members of Docker's `UpdateConfig` that Vessel applies.
    pub const SUPPORTED: &'static [&'static str] = &[
        "Memory",
        "MemorySwap",
        "NanoCpus",
        "CpuShares",
        "CpuQuota",
        "CpuPeriod",
        "PidsLimit",
        "RestartPolicy.Name",
        "RestartPolicy.MaximumRetryCount",
    ];

    /// `hc` with this update applied, checked as at create.
    fn apply_to(&self, hc: &HostConfig) -> Result<HostConfig> {
        let r = &self.resources;
        let set = |v: Option<i64>| v.filter(|v| *v != 0);
        let mut new = hc.clone();
        let (quota, period) = (set(hc.cpu_quota), set(hc.cpu_period));
        if let Some(memory) = set(r.memory) {
            new.memory = Some(memory);
        }
        if let Some(swap) = set(r.memory_swap) {
            new.memory_swap = Some(swap);
        }
        if let Some(shares) = set(r.cpu_shares) {
            new.cpu_shares = Some(shares);
        }
        if let Some(nano_cpus) = set(r.nano_cpus) {
            if quota.is_some() || period.is_some() {
                return Err(EngineError::InvalidParameter(format!(
                    "NanoCpus: {nano_cpus} cannot be set: the container has CpuQuota {} / CpuPeriod {}",
                    quota.unwrap_or(0),
                    period.unwrap_or(0)
                )));
            }
            new.nano_cpus = Some(nano_cpus);
        }
        if set(r.cpu_quota).is_some() || set(r.cpu_period).is_some() {
            if let Some(nano_cpus) = set(hc.nano_cpus) {
                return Err(EngineError::InvalidParameter(format!(
                    "CpuQuota/CpuPeriod: {}/{} cannot be set: the container has NanoCpus {nano_cpus}",
                    r.cpu_quota.unwrap_or(0),
                    r.cpu_period.unwrap_or(0)
                )));
            }
            if let Some(q) = set(r.cpu_quota) {
                new.cpu_quota = Some(q);
            }
            if let Some(p) = set(r.cpu_period) {
                new.cpu_period = Some(p);
            }
        }
        if let Some(limit) = r.pids_limit {
            new.pids_limit = Some(if limit <= 0 { -1 } else { limit });
        }
        let named = |p: &&RestartPolicy| p.name.is_some_and(|n| n != RestartPolicyNameEnum::EMPTY);
        if let Some(policy) = self.restart_policy.as_ref().filter(named) {
            if hc.auto_remove.unwrap_or(false) {
                return Err(EngineError::InvalidParameter(
                    "Restart policy cannot be updated because AutoRemove is enabled for the container".into(),
                ));
            }
            new.restart_policy = Some(policy.clone());
            Policy::of(&new)?;
        }
        spec::resources(&new)?;
        Ok(new)
    }

    /// What the running task must change to match `new`.
    fn live_change(&self, new: &HostConfig) -> Result<ResourceUpdate> {
        let r = &self.resources;
        let changed = |v: Option<i64>| v.is_some_and(|v| v != 0);
        let res = spec::resources(new)?;
        let cpu = res.cpu().as_ref();
        let cpu_changed = changed(r.nano_cpus) || changed(r.cpu_quota) || changed(r.cpu_period);
        Ok(ResourceUpdate {
            memory: if changed(r.memory) { new.memory } else { None },
            memory_swap: if changed(r.memory_swap) {
                new.memory_swap
            } else {
                None
            },
            cpu_quota: cpu.filter(|_| cpu_changed).and_then(|c| c.quota()),
            cpu_period: cpu.filter(|_| cpu_changed).and_then(|c| c.period()),
            cpu_shares: if changed(r.cpu_shares) {
                new.cpu_shares.map(|s| s as u64)
            } else {
                None
            },
            pids_limit: r.pids_limit.map(|_| new.pids_limit.unwrap_or(-1)),
        })
    }
}

impl Daemon {
    /// `docker update`: new limits in the record, and on the running task
    /// at once. Returns warnings (none so far).
    pub fn update(&self, name: &str, update: &UpdateConfig) -> Result<Vec<String>> {
        let entry = self.get(name)?;
        let mut c = entry.lock();
        c.check(Verb::Update)?;
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
                    resources: Resources {
                        memory: old.memory,
                        memory_swap: old.memory_swap,
                        nano_cpus: old.nano_cpus,
                        cpu_shares: old.cpu_shares,
                        cpu_quota: old.cpu_quota,
                        cpu_period: old.cpu_period,
                        pids_limit: update
                            .resources
                            .pids_limit
                            .map(|_| old.pids_limit.unwrap_or(-1)),
                        ..Default::default()
                    },
                    restart_policy: None,
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

    fn update(resources: Resources) -> UpdateConfig {
        UpdateConfig {
            resources,
            restart_policy: None,
        }
    }

    #[test]
    fn zero_members_leave_limits_as_they_are() {
        let hc = HostConfig {
            memory: Some(64 << 20),
            cpu_shares: Some(512),
            ..Default::default()
        };
        let u = update(Resources {
            pids_limit: Some(20),
            memory: Some(0),
            ..Default::default()
        });
        let new = u.apply_to(&hc).unwrap();
        assert_eq!(new.memory, Some(64 << 20));
        assert_eq!(new.cpu_shares, Some(512));
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
        let u = update(Resources {
            nano_cpus: Some(500_000_000),
            ..Default::default()
        });
        let new = u.apply_to(&HostConfig::default()).unwrap();
        let live = u.live_change(&new).unwrap();
        assert_eq!(live.cpu_quota, Some(50_000));
        assert_eq!(live.cpu_period, Some(100_000));
    }

    #[test]
    fn conflicting_and_bad_limits_are_refused_by_name() {
        let hc = HostConfig {
            cpu_quota: Some(20_000),
            ..Default::default()
        };
        let u = update(Resources {
            nano_cpus: Some(1_000_000_000),
            ..Default::default()
        });
        assert!(u
            .apply_to(&hc)
            .unwrap_err()
            .to_string()
            .contains("NanoCpus"));
        let u = update(Resources {
            memory: Some(1024),
            ..Default::default()
        });
        let e = u.apply_to(&HostConfig::default()).unwrap_err().to_string();
        assert!(e.contains("HostConfig.Memory") && e.contains("1024"), "{e}");
    }

    #[test]
    fn a_restart_policy_is_updated_and_checked() {
        let policy = |name, count| UpdateConfig {
            restart_policy: Some(RestartPolicy {
                name: Some(name),
                maximum_retry_count: Some(count),
            }),
            ..Default::default()
        };
        let new = policy(RestartPolicyNameEnum::ON_FAILURE, 2)
            .apply_to(&HostConfig::default())
            .unwrap();
        assert_eq!(Policy::of(&new).unwrap(), Policy::OnFailure(2));
        let e = policy(RestartPolicyNameEnum::ALWAYS, 2)
            .apply_to(&HostConfig::default())
            .unwrap_err();
        assert!(
            e.to_string().contains("only be used with 'on-failure'"),
            "{e}"
        );
        let auto = HostConfig {
            auto_remove: Some(true),
            ..Default::default()
        };
        let e = policy(RestartPolicyNameEnum::ALWAYS, 0)
            .apply_to(&auto)
            .unwrap_err();
        assert!(e.to_string().contains("AutoRemove is enabled"), "{e}");
        // An empty name leaves the policy as it is.
        let kept = policy(RestartPolicyNameEnum::EMPTY, 0)
            .apply_to(&new)
            .unwrap();
        assert_eq!(kept.restart_policy, new.restart_policy);
    }

    #[test]
    fn no_pids_limit_is_minus_one() {
        let u = update(Resources {
            pids_limit: Some(0),
            ..Default::default()
        });
        let new = u.apply_to(&HostConfig::default()).unwrap();
        assert_eq!(new.pids_limit, Some(-1));
        assert_eq!(u.live_change(&new).unwrap().pids_limit, Some(-1));
    }
}
