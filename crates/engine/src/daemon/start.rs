//! `docker start`: the daemon's start path (`containerStart`), from the
//! state check to the task running, and every cleanup on the way.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use vessel_runtime::launch::Start;
use vessel_runtime::protocol::INIT;
use vessel_runtime::record::now_rfc3339;

use super::Daemon;
use crate::container::{Container, Verb};
use crate::error::{EngineError, Result};
use crate::lookup::{self, CommandError};
use crate::runtime::TaskSpec;
use crate::spec;

impl Daemon {
    /// Starts a container, with the reference's rules (see
    /// [`crate::container::State::check`]); a failed start records its
    /// error and an exit code (128 unless one is set), removes the task,
    /// ends waiting attaches and reports "die".
    pub fn start(&self, name: &str) -> Result<()> {
        self.start_as(name, false)
    }

    /// Starts a container its restart policy starts again; nothing when
    /// it no longer waits for that.
    pub(super) fn start_by_policy(&self, id: &str) -> Result<()> {
        self.start_as(id, true)
    }

    /// A start by hand (which starts the restart policy's count and
    /// delays over, as Docker's), or `by_policy`.
    fn start_as(&self, name: &str, by_policy: bool) -> Result<()> {
        let entry = self.get(name)?;
        let allowed = |c: &Container| match by_policy {
            false => c.check(Verb::Start).map(|()| true),
            true => Ok(c.state.restarting && !entry.backoff().canceled),
        };
        // The peers whose namespaces the container joins are looked up
        // before its own record is locked: two containers that start at
        // once never wait for each other.
        let modes = {
            let c = entry.lock();
            if !allowed(&c)? {
                return Ok(());
            }
            let hc = &c.host_config;
            [
                hc.ipc_mode.clone(),
                hc.pid_mode.clone(),
                hc.network_mode.clone(),
            ]
        };
        let joins = self.peers(Some(&entry), &modes);
        let mut c = entry.lock();
        if !allowed(&c)? {
            return Ok(());
        }
        if !by_policy {
            *entry.backoff() = Default::default();
            c.restart_count = 0;
            c.has_been_manually_stopped = false;
        }
        let result = joins.and_then(|joins| self.start_task(&mut c, &joins));
        if result.is_ok() {
            self.start_health(&entry, &mut c, false);
        }
        if let Err(err) = &result {
            c.state.set_start_failed(err.to_string());
            self.release_shm(&c);
            self.unmount_volumes(&c);
            self.release_network(&mut c);
            if let Err(e) = self.save(&c) {
                tracing::error!(container = %c.id, error = %e, "saving the record of a failed start");
            }
            if let Err(e) = self.runtime.delete(&c.id) {
                tracing::warn!(container = %c.id, error = %e, "cleaning up after a failed start");
            }
            // Nothing of a failed start stays plugged in when it answers.
            self.networks.settle(&c.id, &c.network_settings);
            // Waiting attaches end: nothing will run.
            self.take_pending_attach(&c.id);
            self.event(&c, "die", &[("exitCode", c.state.exit_code.to_string())]);
            entry.ends.fetch_add(1, Ordering::SeqCst);
            if c.auto_remove() {
                let id = c.id.clone();
                drop(c);
                entry.changed.notify_all();
                if let Err(e) = self.remove(&id, true, true) {
                    tracing::error!(container = %id, error = %e, "removing an auto-remove container after a failed start");
                }
                return result;
            }
        }
        drop(c);
        entry.changed.notify_all();
        result
    }

    fn start_task(&self, c: &mut Container, joins: &HashMap<String, spec::Peer>) -> Result<()> {
        let image = self.images.resolve(&c.image)?;
        let layers: Vec<PathBuf> = image
            .layers
            .iter()
            .map(|l| self.images.layer_dir(l))
            .collect();
        let dir = self.dir(&c.id);
        let sandbox = self.network_and_files(c, joins)?;
        if super::shm::shareable(c) {
            self.mount_shm(c)?;
        }
        self.mount_volumes(c)?;
        let peers = |name: &str| Ok(joins.get(name).cloned().unwrap_or_default());
        let inputs = spec::Inputs {
            image: &image,
            layers: &layers,
            etc: Some(&dir),
            host: &self.host,
            peers: &peers,
            sandbox: sandbox.as_deref(),
        };
        let mut spec = spec::build(c, &inputs)?;
        // The container's changes live beside its record until it is
        // removed, as Docker keeps them (commit, export and a restart
        // see them).
        let writable = self.writable_layer(&c.id);
        spec.annotations_mut()
            .get_or_insert_with(Default::default)
            .insert(
                vessel_runtime::bundle::WRITABLE_ANNOTATION.to_string(),
                writable.display().to_string(),
            );
        // "start" is reported whether or not the task starts.
        struct StartEvent<'a>(&'a Daemon, Container);
        impl Drop for StartEvent<'_> {
            fn drop(&mut self) {
                self.0.event(&self.1, "start", &[]);
            }
        }
        let _start_event = StartEvent(self, c.clone());

        let process = spec.process().as_ref();
        let env = process.and_then(|p| p.env().clone()).unwrap_or_default();
        let cwd = process.map_or_else(|| "/".into(), |p| p.cwd().display().to_string());
        // With `--init` the init runs it, and reports a missing command
        // itself (127), as Docker's does.
        let checked = match c.host_config.init.unwrap_or(false) {
            true => Ok(()),
            false => lookup::check(&layers, &env, &cwd, &c.path),
        };
        match checked {
            Ok(()) => {}
            Err(CommandError::NotFound) => {
                c.state.exit_code = 127;
                return Err(EngineError::InvalidParameter(format!(
                    "container command '{}' not found or does not exist",
                    c.path
                )));
            }
            Err(CommandError::NotExecutable) => {
                c.state.exit_code = 126;
                return Err(EngineError::InvalidParameter(format!(
                    "container command '{}' could not be invoked",
                    c.path
                )));
            }
        }

        let bundle = dir.join("bundle");
        std::fs::create_dir_all(&bundle).map_err(EngineError::io("creating the bundle"))?;
        let bytes = serde_json::to_vec(&spec)
            .map_err(|e| EngineError::Internal(format!("encoding the spec: {e}")))?;
        vessel_runtime::record::write_atomic(
            &bundle.join("config.json"),
            &bytes,
            vessel_runtime::record::Durability::ProcessCrash,
        )
        .map_err(EngineError::io("writing the spec"))?;
        // A task left by an earlier run of this container goes first.
        self.runtime.delete(&c.id)?;
        let pid = self.create_task(c, &bundle)?;
        c.state.set_running(pid, &now_rfc3339());
        self.save(c)?;
        Ok(())
    }

    /// Joins the container's networks (its sandbox, when it has one) and
    /// writes its /etc files; a `container:` mode takes its peer's.
    fn network_and_files(
        &self,
        c: &mut Container,
        joins: &HashMap<String, spec::Peer>,
    ) -> Result<Option<PathBuf>> {
        let names = crate::etc::Names::of(&c.host_config)
            .map_err(|e| EngineError::InvalidParameter(e.to_string()))?;
        if let Some(name) = c.network_mode().strip_prefix("container:") {
            let peer = joins.get(name).cloned().unwrap_or_default();
            self.take_peer_files(c, &peer)?;
        }
        let upstream = crate::etc::upstream(&self.host_files, &names);
        let sandbox = self.join_networks(c, upstream)?;
        let address = Self::address(c);
        let net = crate::etc::Networking {
            host_network: c.network_mode() == "host",
            address: address.as_deref(),
            embedded_dns: self.on_user_network(c),
        };
        let dir = self.dir(&c.id);
        crate::etc::write(&dir, &spec::hostname(c), &self.host_files, &names, &net)
            .map_err(EngineError::io("writing the container's /etc files"))?;
        Ok(sandbox)
    }

    /// Creates and starts the task. Attaches waiting for this start are
    /// connected before the process runs, so they miss none of its
    /// output: the task is created and started in one request to its
    /// shim, whose answer is the one waiting attach's stream (if any);
    /// several connect between a create and a start.
    fn create_task(&self, c: &Container, bundle: &std::path::Path) -> Result<i64> {
        let mut task = TaskSpec {
            id: c.id.clone(),
            bundle: bundle.to_path_buf(),
            log: c.logs().then(|| PathBuf::from(&c.log_path)),
            log_rotation: c.log_rotation(),
            open_stdin: c.open_stdin(),
            start: None,
        };
        let mut waiting = self.take_pending_attach(&c.id);
        if waiting.len() <= 1 {
            let attach = waiting.pop();
            task.start = Some(Start {
                attach: attach.is_some(),
                stdin: attach.as_ref().is_some_and(|p| p.stdin),
                keep_stdin: !c.attach_closes_stdin(),
            });
            let (pid, streams) = self.runtime.create(&task)?;
            if let (Some(p), Some(streams)) = (attach, streams) {
                let _ = p.to.send(streams);
            }
            return Ok(pid);
        }
        self.runtime.create(&task)?;
        for p in waiting {
            match self
                .runtime
                .attach(&c.id, INIT, p.stdin, !c.attach_closes_stdin())
            {
                Ok(streams) => {
                    let _ = p.to.send(streams);
                }
                Err(e) => {
                    tracing::warn!(container = %c.id, error = %e, "connecting a waiting attach")
                }
            }
        }
        self.runtime.start(&c.id)
    }
}
