//! The runtime client: libcontainerd's verbs (Create, Start,
//! SignalProcess, ResizeTerminal, CloseStdin, Pause, Resume, Stats,
//! Summary, Restore, Delete, Status, UpdateResources, CreateCheckpoint)
//! over a compute system ([`ComputeSystem`]), turning what happens to a
//! task into [`RuntimeEvent`]s.
//!
//! A thread per started process waits for its exit; events of one
//! container are delivered through an [`OrderedQueue`], so the engine
//! sees them in the order they happened.

use std::path::Path;
use std::sync::Arc;

use vessel_runtime::protocol::{ProcessInfo, ProcessSpec, ResourceUpdate, INIT};
use vessel_runtime::{ContainerState, Status};

use crate::error::{EngineError, Result};
use crate::queue::OrderedQueue;

pub mod compute;
pub mod shim;

pub use compute::{ComputeSystem, Created, Streams, TaskSpec};
pub use shim::ShimSystem;

/// Something that happened to a container's task.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeEvent {
    /// A process exited (`process` is [`INIT`] for the container's own).
    Exit {
        process: String,
        code: i32,
        exited_at: String,
        /// The OOM killer killed one of the container's processes.
        oom_killed: bool,
    },
}

type Sink = dyn Fn(&str, RuntimeEvent) + Send + Sync;

/// The client.
#[derive(Clone)]
pub struct RuntimeClient {
    compute: Arc<dyn ComputeSystem>,
    queue: OrderedQueue,
    sink: Arc<Sink>,
}

impl std::fmt::Debug for RuntimeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeClient")
            .field("compute", &self.compute)
            .finish_non_exhaustive()
    }
}

impl RuntimeClient {
    /// A client of `compute`; `sink` receives every event.
    pub fn new(
        compute: Arc<dyn ComputeSystem>,
        sink: impl Fn(&str, RuntimeEvent) + Send + Sync + 'static,
    ) -> Self {
        RuntimeClient {
            compute,
            queue: OrderedQueue::default(),
            sink: Arc::new(sink),
        }
    }

    /// Makes ready what the next create can use (see
    /// [`ComputeSystem::prepare`]).
    pub fn prepare(&self) {
        self.compute.prepare();
    }

    /// Create: the task of `spec`, not yet running unless `spec.start`:
    /// then the first process runs, its exit is watched, and the answer
    /// has its pid (0 otherwise) and, if the start attaches, its stream.
    pub fn create(&self, spec: &TaskSpec) -> Result<(i64, Option<Streams>)> {
        let created = self.compute.create(spec)?;
        if spec.start.is_some() {
            self.watch(&spec.id, INIT);
        }
        Ok((created.pid.unwrap_or(0), created.streams))
    }

    /// Start: runs the container's first process; returns its pid.
    pub fn start(&self, id: &str) -> Result<i64> {
        let pid = self.compute.start(id)?;
        self.watch(id, INIT);
        Ok(pid)
    }

    /// Delivers the exit of `process` as an event once it happens.
    fn watch(&self, id: &str, process: &str) {
        let this = self.clone();
        let (id, process) = (id.to_string(), process.to_string());
        std::thread::spawn(move || {
            let event = match this.compute.wait(&id, &process) {
                Ok(exit) => RuntimeEvent::Exit {
                    process,
                    code: exit.code,
                    exited_at: exit.exited_at,
                    oom_killed: exit.oom_killed,
                },
                Err(e) => {
                    // The task is gone without telling: the exit is unknown.
                    tracing::error!(container = %id, error = %e, "lost the task while waiting");
                    RuntimeEvent::Exit {
                        process,
                        code: 255,
                        exited_at: vessel_runtime::record::now_rfc3339(),
                        oom_killed: false,
                    }
                }
            };
            let sink = this.sink.clone();
            let key = id.clone();
            this.queue.append(&key, move || sink(&id, event));
        });
    }

    /// Status: the task's state.
    pub fn status(&self, id: &str) -> Result<ContainerState> {
        self.compute.state(id)
    }

    /// Restore: after an engine restart, finds the task of `id` again.
    /// `None` when it is gone. A running task is watched again; a stopped
    /// one is returned as it is (its exit in `exit`).
    pub fn restore(&self, id: &str) -> Option<ContainerState> {
        let state = self.status(id).ok()?;
        if matches!(state.status, Status::Running | Status::Paused) {
            self.watch(id, INIT);
        }
        Some(state)
    }

    /// SignalProcess: sends `signal` to a process of the container.
    pub fn signal(&self, id: &str, process: &str, signal: i32) -> Result<()> {
        self.compute.signal(id, process, signal)
    }

    /// ResizeTerminal.
    pub fn resize(&self, id: &str, process: &str, width: u16, height: u16) -> Result<()> {
        self.compute.resize(id, process, width, height)
    }

    /// CloseStdin.
    pub fn close_stdin(&self, id: &str, process: &str) -> Result<()> {
        self.compute.close_stdin(id, process)
    }

    pub fn pause(&self, id: &str) -> Result<()> {
        self.compute.pause(id)
    }

    pub fn resume(&self, id: &str) -> Result<()> {
        self.compute.resume(id)
    }

    /// Stats.
    pub fn stats(&self, id: &str) -> Result<serde_json::Value> {
        self.compute.statistics(id)
    }

    /// Summary: the container's processes.
    pub fn summary(&self, id: &str) -> Result<Vec<ProcessInfo>> {
        self.compute.processes(id)
    }

    /// UpdateResources.
    pub fn update_resources(&self, id: &str, resources: ResourceUpdate) -> Result<()> {
        self.compute.update(id, resources)
    }

    /// DeleteTask / Delete: removes the task (killing it if it still runs)
    /// and everything the runtime made for it. A task that is already
    /// gone is not an error.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.compute.delete(id)
    }

    /// Attaches to a process: its framed output, and its stdin (closed
    /// at the end of the stream's input unless `keep_stdin`).
    pub fn attach(
        &self,
        id: &str,
        process: &str,
        stdin: bool,
        keep_stdin: bool,
    ) -> Result<Streams> {
        self.compute.attach(id, process, stdin, keep_stdin)
    }

    /// Exec: starts an extra process in the running container; with
    /// `attach`, returns its attach stream (output, and stdin if `stdin`).
    /// Its exit arrives as an event like the first process's.
    pub fn exec(
        &self,
        id: &str,
        exec_id: &str,
        process: ProcessSpec,
        attach: bool,
        stdin: bool,
    ) -> Result<(i64, Option<Streams>)> {
        let started = self.compute.exec(id, exec_id, process, attach, stdin)?;
        self.watch(id, exec_id);
        Ok(started)
    }

    /// CreateCheckpoint: not supported yet.
    pub fn create_checkpoint(&self, _id: &str, _dir: &Path) -> Result<()> {
        Err(EngineError::NotSupported(
            "checkpoints are not supported yet".into(),
        ))
    }
}
