//! `docker create`: a container recorded, nothing running yet.

use std::collections::HashMap;
use std::sync::Arc;

use vessel_runtime::record::now_rfc3339;

use super::names::{generated_name, random_id, valid_name};
use super::{Daemon, Entry};
use crate::container::DEFAULT_LOG_DRIVER;
use crate::container::{Config, Container, HostConfig, HostConfigLogConfig, State, NO_LOG_DRIVER};
use crate::error::{EngineError, Result};
use crate::image::ImageConfig;
use crate::spec;
use bollard_stubs::models::NetworkingConfig;

/// What of the image's run config a container's config takes at create,
/// as Docker merges them: labels it does not set, exposed ports, volumes,
/// the health check, the stop signal. (Command, environment, user and
/// working directory are taken when the spec is built.)
fn merge_image_config(config: &mut Config, image: &ImageConfig) {
    if let Some(labels) = &image.labels {
        let mine = config.labels.get_or_insert_with(Default::default);
        for (k, v) in labels {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(ports) = &image.exposed_ports {
        let mine = config.exposed_ports.get_or_insert_with(Default::default);
        for p in ports.keys() {
            mine.entry(p.clone()).or_default();
        }
    }
    let image_check = image
        .healthcheck
        .as_ref()
        .and_then(|h| serde_json::from_value(h.clone()).ok());
    crate::container::health::merge(&mut config.healthcheck, image_check.as_ref());
    if let Some(volumes) = &image.volumes {
        let mine = config.volumes.get_or_insert_with(Default::default);
        for p in volumes.keys() {
            mine.entry(p.clone()).or_default();
        }
    }
    if config.stop_signal.as_deref().unwrap_or_default().is_empty() && !image.stop_signal.is_empty()
    {
        config.stop_signal = Some(image.stop_signal.clone());
    }
}

/// Refuses `name` (`/name`) if a container in `table` has it.
fn name_free(table: &HashMap<String, Arc<Entry>>, name: &str) -> Result<()> {
    match table.iter().find(|(_, e)| *e.name() == name) {
        Some((other, _)) => Err(EngineError::Conflict(format!(
            "Conflict. The container name \"{name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
        ))),
        None => Ok(()),
    }
}

impl Daemon {
    /// Records a container named `name` (or a generated name); returns
    /// its id and warnings. The spec is built once to refuse a bad config
    /// now, as Docker does; it is built again at each start.
    pub fn create(
        &self,
        name: Option<&str>,
        mut config: Config,
        mut host_config: HostConfig,
        networking: Option<&NetworkingConfig>,
    ) -> Result<(String, Vec<String>)> {
        let image_name = config.image.clone().unwrap_or_default();
        let image = self.images.resolve(&image_name)?;
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                let n = n.trim_start_matches('/');
                if !valid_name(n) {
                    return Err(EngineError::InvalidParameter(format!(
                        "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                    )));
                }
                format!("/{n}")
            }
            None => format!("/{}", generated_name()),
        };
        let mut argv = spec::command(&config.entrypoint, &config.cmd, &image);
        if argv.is_empty() {
            return Err(EngineError::InvalidParameter(
                "No command specified: give one, or use an image with Cmd or Entrypoint".into(),
            ));
        }
        let path = argv.remove(0);
        let id = random_id()?;
        let dir = self.dir(&id);
        let (network_settings, warnings) =
            self.network_config(&mut config, &mut host_config, networking)?;
        merge_image_config(&mut config, &image.config);
        self.fill_in(&id, &mut config, &mut host_config)?;
        // Checked before volumes are made for it, and again as it is
        // recorded.
        name_free(&self.table(), &name)?;
        let planned = self.plan_mounts(&config, &host_config)?;
        let mut c = Container {
            id: id.clone(),
            created: now_rfc3339(),
            path,
            args: argv,
            state: State::default(),
            image: image.id.clone(),
            name: name.clone(),
            restart_count: 0,
            has_been_manually_stopped: false,
            log_path: dir.join(format!("{id}-json.log")).display().to_string(),
            config,
            host_config,
            network_settings,
            mount_points: planned.iter().map(|p| p.point.clone()).collect(),
        };
        crate::etc::Names::of(&c.host_config)
            .map_err(|e| EngineError::InvalidParameter(e.to_string()))?;
        let modes = [
            c.host_config.ipc_mode.clone(),
            c.host_config.pid_mode.clone(),
            c.host_config.network_mode.clone(),
        ];
        let joins = self.peers(None, &modes)?;
        let peers = |name: &str| Ok(joins.get(name).cloned().unwrap_or_default());
        let inputs = spec::Inputs {
            image: &image,
            layers: &[],
            etc: None,
            host: &self.host,
            peers: &peers,
            sandbox: None,
        };
        spec::build(&c, &inputs)?;
        let layers: Vec<_> = image
            .layers
            .iter()
            .rev()
            .map(|l| self.images.layer_dir(l))
            .collect();
        c.mount_points = self.claim_volumes(&id, planned, &layers)?;
        let made = c.clone();
        let inserted = (|| {
            let mut table = self.table();
            name_free(&table, &name)?;
            std::fs::create_dir_all(&dir)
                .map_err(EngineError::io(format!("creating {}", dir.display())))?;
            if let Err(e) = c.save(&dir) {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
            table.insert(id.clone(), Entry::new(c.clone()));
            Ok(())
        })();
        if let Err(e) = inserted {
            self.release_volumes(&made, true);
            return Err(e);
        }
        self.event(&c, "create", &[]);
        Ok((id, warnings))
    }

    /// What Docker's daemon fills in and checks of a request before it
    /// records a container: the hostname, the log driver, the swap limit
    /// beside a memory limit, the restart policy, the health check, the
    /// stop signal.
    fn fill_in(&self, id: &str, config: &mut Config, host_config: &mut HostConfig) -> Result<()> {
        crate::container::restart::Policy::of(host_config)?;
        crate::container::health::validate(config.healthcheck.as_ref())?;
        if config.hostname.as_deref().unwrap_or_default().is_empty() {
            // Docker's: the host's name on the host's network, the short
            // id otherwise (a `container:` mode takes its peer's at
            // start).
            let host = host_config.network_mode.as_deref() == Some("host");
            config.hostname = Some(match host {
                true => nix::unistd::gethostname()
                    .ok()
                    .and_then(|h| h.into_string().ok())
                    .unwrap_or_else(|| id[..12].to_string()),
                false => id[..12].to_string(),
            });
        }
        // The daemon's default log driver, as Docker fills it in.
        let log = host_config.log_config.get_or_insert_with(Default::default);
        if log.typ.as_deref().unwrap_or_default().is_empty() {
            *log = HostConfigLogConfig {
                typ: Some(DEFAULT_LOG_DRIVER.into()),
                config: log.config.take(),
            };
        }
        // Docker's: a memory limit without a word on swap allows as much
        // swap again, where the host can limit swap at all.
        let memory = host_config.memory.unwrap_or(0);
        let swap = host_config.memory_swap.unwrap_or(0);
        match (memory > 0 && swap == 0, self.host.swap_limit) {
            (true, true) => host_config.memory_swap = Some(2 * memory),
            (_, false) if swap != 0 && swap != -1 => {
                return Err(EngineError::InvalidParameter(format!(
                    "HostConfig.MemorySwap: {swap}: this host's kernel does not limit swap"
                )))
            }
            _ => {}
        }
        if let Some(signal) = config.stop_signal.as_deref().filter(|s| !s.is_empty()) {
            super::kill::parse_signal(signal).map_err(|_| {
                EngineError::InvalidParameter(format!("StopSignal: {signal:?} is not a signal"))
            })?;
        }
        let driver = log.typ.as_deref().unwrap_or_default();
        if driver != DEFAULT_LOG_DRIVER && driver != NO_LOG_DRIVER {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.LogConfig.Type: {driver:?} is not supported: Vessel logs with {DEFAULT_LOG_DRIVER}, or not at all ({NO_LOG_DRIVER})"
            )));
        }
        crate::container::log_opts::rotation(driver, log.config.as_ref())?;
        Ok(())
    }
}
