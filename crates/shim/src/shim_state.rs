//! The container under supervision: what the verbs act on. Its processes
//! (the first one and the execs), libcontainer's handle of it, its bundle
//! and directory, its status, and who waits for what. The connections
//! themselves are the server's; here they are only numbers ([`ConnId`]).

use std::collections::BTreeMap;
use std::time::Instant;

use libcontainer::container::Container;
use vessel_runtime::bundle::RuntimeBundle;
use vessel_runtime::protocol::{ContainerState, ExitStatus, Status, INIT};
use vessel_runtime::record::write_json;
use vessel_runtime::ContainerDir;

use crate::cleanup::Tombstone;
use crate::error::ShimError;
use crate::process::Proc;
use crate::seccomp::{Filter, SeccompError};

/// A connection to the shim, as the server numbers it.
pub type ConnId = usize;

/// The container under supervision.
#[derive(Debug)]
pub struct ShimState {
    pub id: String,
    pub cdir: ContainerDir,
    pub container: Container,
    pub bundle: RuntimeBundle,
    pub created: String,
    pub status: Status,
    pub init: Proc,
    pub execs: BTreeMap<String, Proc>,
    /// When the first process gets SIGKILL (a shutdown's timeout).
    pub kill_deadline: Option<Instant>,
    /// Connections answered when the first process has exited.
    pub shutdown_waiters: Vec<ConnId>,
    /// A delete that waits for the first process to exit.
    pub delete_waiter: Option<ConnId>,
    /// The container is deleted: the shim exits.
    pub done: bool,
    /// The deleted container's state, removed once the delete is answered.
    pub tombstone: Option<Tombstone>,
    /// The container's seccomp filter, compiled: the one its first
    /// process loaded, or found once an exec needed it.
    pub seccomp: Option<Filter>,
}

impl ShimState {
    /// A container just created, its first process `init` not started.
    pub fn new(
        id: String,
        cdir: ContainerDir,
        container: Container,
        bundle: RuntimeBundle,
        created: String,
        init: Proc,
    ) -> Self {
        ShimState {
            id,
            cdir,
            container,
            bundle,
            created,
            status: Status::Created,
            init,
            execs: BTreeMap::new(),
            kill_deadline: None,
            shutdown_waiters: Vec::new(),
            delete_waiter: None,
            done: false,
            tombstone: None,
            seccomp: None,
        }
    }

    /// The container's seccomp filter, compiled (or found compiled) the
    /// first time it is asked for; none when the spec has none.
    pub fn seccomp_filter(&mut self) -> Result<Option<&Filter>, SeccompError> {
        let spec = self.bundle.spec.linux().as_ref();
        let Some(seccomp) = spec.and_then(|l| l.seccomp().as_ref()) else {
            return Ok(None);
        };
        if self.seccomp.is_none() {
            let root = self.cdir.path().parent().unwrap_or(self.cdir.path());
            self.seccomp = Some(Filter::for_spec(seccomp, root)?);
        }
        Ok(self.seccomp.as_ref())
    }

    /// The container's state as callers see it.
    pub fn state(&self) -> ContainerState {
        ContainerState {
            id: self.id.clone(),
            status: self.status,
            pid: if self.init.running() {
                self.init.pid.map_or(0, |p| p.as_raw())
            } else {
                0
            },
            bundle: self.bundle.source.display().to_string(),
            rootfs: self.bundle.rootfs.display().to_string(),
            created: self.created.clone(),
            exit: self.init.exit.clone(),
        }
    }

    /// Records the state on disk (for callers that find no shim).
    pub fn save_state(&self) {
        if let Err(e) = write_json(&self.cdir.state(), &self.state()) {
            tracing::error!(error = %e, "cannot record the container state");
        }
    }

    /// Writes process `id`'s exit to disk (with the container's state, for
    /// the first process).
    pub fn record_exit(&self, id: &str, exit: &ExitStatus) {
        let record = match id {
            INIT => self.cdir.exit(),
            exec => self.cdir.exec_exit(exec),
        };
        if let Err(e) = write_json(&record, exit) {
            tracing::error!(process = %id, error = %e, "cannot record the exit");
        }
        if id == INIT {
            self.save_state();
        }
    }

    pub fn process(&self, id: &str) -> Result<&Proc, ShimError> {
        if id == INIT {
            return Ok(&self.init);
        }
        self.execs
            .get(id)
            .ok_or_else(|| no_such_process(&self.id, id))
    }

    pub fn process_mut(&mut self, id: &str) -> Result<&mut Proc, ShimError> {
        if id == INIT {
            return Ok(&mut self.init);
        }
        self.execs
            .get_mut(id)
            .ok_or_else(|| no_such_process(&self.id, id))
    }

    /// The first process and every exec.
    pub fn processes(&self) -> impl Iterator<Item = &Proc> {
        std::iter::once(&self.init).chain(self.execs.values())
    }

    pub fn processes_mut(&mut self) -> impl Iterator<Item = &mut Proc> {
        std::iter::once(&mut self.init).chain(self.execs.values_mut())
    }

    /// Connection `conn` is gone: nothing waits on it, nothing is sent to
    /// it any more.
    pub fn forget_conn(&mut self, conn: ConnId) {
        for p in self.processes_mut() {
            p.waiters.retain(|&w| w != conn);
            p.attached.retain(|&w| w != conn);
        }
        self.shutdown_waiters.retain(|&w| w != conn);
    }
}

fn no_such_process(container: &str, id: &str) -> ShimError {
    ShimError::NoSuchProcess {
        container: container.to_string(),
        process: id.to_string(),
    }
}
