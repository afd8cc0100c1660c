//! `docker exec`: processes started in a running container, their
//! records (in memory, as Docker keeps them), resizes and exits.

use std::collections::HashMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use vessel_runtime::protocol::INIT;

use super::names::random_id;
use super::{Daemon, Streams};
use crate::container::Verb;
use crate::error::{EngineError, Result};

/// An exec: a process started in a running container (`docker exec`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Exec {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub pid: i64,
    pub open_stdin: bool,
    pub tty: bool,
    #[serde(skip)]
    pub process: vessel_runtime::protocol::ProcessSpec,
    /// The keys that end an attach to it (see `api::detach`).
    #[serde(skip)]
    pub detach_keys: Vec<u8>,
    #[serde(skip)]
    started: bool,
}

/// How an exec is to run, beside its process.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Give it a stdin to attach to.
    pub open_stdin: bool,
    /// Every capability of the host's bounding set.
    pub privileged: bool,
    /// The keys that end an attach to it.
    pub detach_keys: Vec<u8>,
}

impl Daemon {
    pub(super) fn execs(&self) -> MutexGuard<'_, HashMap<String, Exec>> {
        self.execs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `docker exec` (create): records a process to start in the running
    /// container `name`; a `privileged` one gets every capability of the
    /// host's bounding set (its seccomp filter stays the container's, as
    /// Docker's).
    pub fn exec_create(
        &self,
        name: &str,
        mut process: vessel_runtime::protocol::ProcessSpec,
        opts: ExecOptions,
    ) -> Result<String> {
        let ExecOptions {
            open_stdin,
            privileged,
            detach_keys,
        } = opts;
        if privileged {
            let all = crate::spec::capability_sets(&self.host.bounding, true);
            process.capabilities = Some(Box::new(all));
        }
        if process.args.is_empty() {
            return Err(EngineError::InvalidParameter(
                "Cmd: empty, there is no command to run".into(),
            ));
        }
        crate::spec::check_argv(&process.args, &process.env)?;
        let entry = self.get(name)?;
        let c = entry.lock();
        c.check(Verb::Exec)?;
        // A terminal gets Docker's TERM unless the exec, the container or
        // its image sets one.
        let sets_term = |env: &[String]| env.iter().any(|e| e.starts_with("TERM="));
        if process.terminal
            && !sets_term(&process.env)
            && !sets_term(c.env())
            && !self
                .images
                .resolve(&c.image)
                .is_ok_and(|i| sets_term(&i.config.env))
        {
            process.env.insert(0, "TERM=xterm".into());
        }
        let id = random_id()?;
        let cmd = process.args.join(" ");
        self.execs().insert(
            id.clone(),
            Exec {
                id: id.clone(),
                container_id: c.id.clone(),
                running: false,
                exit_code: None,
                pid: 0,
                open_stdin,
                tty: process.terminal,
                process,
                detach_keys,
                started: false,
            },
        );
        self.event(
            &c,
            &format!("exec_create: {cmd}"),
            &[("execID", id.clone())],
        );
        Ok(id)
    }

    /// `docker exec` (start): runs the exec; unless `detach`, returns its
    /// attach stream.
    pub fn exec_start(&self, exec_id: &str, detach: bool) -> Result<Option<Streams>> {
        let (container, process, stdin) = {
            let mut execs = self.execs();
            let e = execs.get_mut(exec_id).ok_or_else(|| {
                EngineError::NotFound(format!("No such exec instance: {exec_id}"))
            })?;
            if e.started {
                return Err(EngineError::Conflict(format!(
                    "exec {exec_id} has already been started"
                )));
            }
            e.started = true;
            (
                e.container_id.clone(),
                e.process.clone(),
                e.open_stdin && !detach,
            )
        };
        let entry = self.get(&container)?;
        let c = entry.lock();
        c.check(Verb::Exec)?;
        let cmd = process.args.join(" ");
        let (pid, streams) = match self.runtime.exec(&c.id, exec_id, process, !detach, stdin) {
            Ok(started) => started,
            Err(err) => {
                if let Some(e) = self.execs().get_mut(exec_id) {
                    e.started = false;
                }
                return Err(err);
            }
        };
        if let Some(e) = self.execs().get_mut(exec_id) {
            // A fast process may have exited already.
            if e.exit_code.is_none() {
                e.running = true;
                e.pid = pid;
            }
        }
        self.event(
            &c,
            &format!("exec_start: {cmd}"),
            &[("execID", exec_id.to_string())],
        );
        Ok(streams)
    }

    /// Resizes the terminal of a container's first process, or of an exec
    /// (`exec_id`).
    pub fn resize(
        &self,
        name: Option<&str>,
        exec_id: Option<&str>,
        width: u16,
        height: u16,
    ) -> Result<()> {
        let (container, process) = match (name, exec_id) {
            (_, Some(x)) => (self.exec_inspect(x)?.container_id, x.to_string()),
            (Some(n), None) => (self.id_of(n)?, INIT.to_string()),
            (None, None) => return Err(EngineError::InvalidParameter("nothing to resize".into())),
        };
        self.runtime.resize(&container, &process, width, height)
    }

    /// The execs of container `id` that have not exited, as inspect
    /// lists them.
    pub fn exec_ids(&self, id: &str) -> Vec<String> {
        let execs = self.execs();
        let mut ids: Vec<String> = execs
            .values()
            .filter(|e| e.container_id == id && e.exit_code.is_none())
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// An exec's record.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<Exec> {
        self.execs()
            .get(exec_id)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("No such exec instance: {exec_id}")))
    }

    /// Waits (at most `limit`) until exec `exec_id` is no longer running.
    pub fn exec_wait(&self, exec_id: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut execs = self.execs();
        while execs
            .get(exec_id)
            .is_some_and(|e| e.running || e.exit_code.is_none())
        {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            execs = self
                .exec_exited
                .wait_timeout(execs, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    pub(super) fn exec_exited(&self, container: &str, exec_id: &str, code: i64) {
        if let Some(e) = self.execs().get_mut(exec_id) {
            e.running = false;
            e.exit_code = Some(code);
            e.pid = 0;
        }
        self.exec_exited.notify_all();
        if let Ok(entry) = self.get(container) {
            let c = entry.lock();
            self.event(
                &c,
                "exec_die",
                &[
                    ("execID", exec_id.to_string()),
                    ("exitCode", code.to_string()),
                ],
            );
        }
    }
}
