//! The compute system: where a container's task runs. The runtime client
//! drives one through this trait, modelled on hcsshim's container and
//! process interfaces (create, start, wait, signal, resize, close stdin,
//! pause, resume, statistics, process list, create process, terminate).
//! Linux process isolation (a `vessel-shim` per container, [`super::shim`])
//! is the one there is; a utility VM and the Windows HCS slot in beside it.

use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use vessel_runtime::launch::Start;
use vessel_runtime::protocol::{ProcessInfo, ProcessSpec, ResourceUpdate};
use vessel_runtime::{ContainerState, ExitStatus};

use crate::error::Result;

/// A process's attach stream: its framed output, and its stdin.
pub type Streams = (BufReader<UnixStream>, UnixStream);

/// What a task is created from.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    pub id: String,
    /// The bundle: `config.json` (the OCI runtime spec) and the rootfs.
    pub bundle: PathBuf,
    /// Where the first process's output is logged; none for no log.
    pub log: Option<PathBuf>,
    /// When the log is rotated.
    pub log_rotation: Option<vessel_runtime::logs::Rotation>,
    /// Whether the first process's stdin stays open for attaches.
    pub open_stdin: bool,
    /// Start the first process at once (and attach to it), in the same
    /// request as the create.
    pub start: Option<Start>,
}

/// A task just created: the first process's pid when it was started with
/// the create, and its attach stream when that start attached.
#[derive(Debug)]
pub struct Created {
    pub pid: Option<i64>,
    pub streams: Option<Streams>,
}

/// A compute system: creates tasks and runs their processes. Every call
/// names the container; `process` is [`vessel_runtime::protocol::INIT`]
/// for the first process or an exec's id.
pub trait ComputeSystem: Send + Sync + std::fmt::Debug {
    /// Makes ready, in the background, what the next create can use
    /// (for the shims: a spare shim). Nothing by default.
    fn prepare(&self) {}
    /// Creates the task of `spec` (and starts it, with `spec.start`).
    fn create(&self, spec: &TaskSpec) -> Result<Created>;
    /// Starts the first process of a created task; returns its pid.
    fn start(&self, id: &str) -> Result<i64>;
    /// Blocks until `process` exits; returns how it ended.
    fn wait(&self, id: &str, process: &str) -> Result<ExitStatus>;
    /// The task's state.
    fn state(&self, id: &str) -> Result<ContainerState>;
    fn signal(&self, id: &str, process: &str, signal: i32) -> Result<()>;
    fn resize(&self, id: &str, process: &str, width: u16, height: u16) -> Result<()>;
    fn close_stdin(&self, id: &str, process: &str) -> Result<()>;
    fn pause(&self, id: &str) -> Result<()>;
    fn resume(&self, id: &str) -> Result<()>;
    /// Usage statistics, as the cgroups (or the VM) report them.
    fn statistics(&self, id: &str) -> Result<serde_json::Value>;
    /// The task's processes.
    fn processes(&self, id: &str) -> Result<Vec<ProcessInfo>>;
    /// New limits for the running task.
    fn update(&self, id: &str, resources: ResourceUpdate) -> Result<()>;
    /// A new attach stream to `process`; with `stdin`, the end of the
    /// stream's input closes it unless `keep_stdin`.
    fn attach(&self, id: &str, process: &str, stdin: bool, keep_stdin: bool) -> Result<Streams>;
    /// Starts an extra process (`exec_id`) in the running task; returns
    /// its pid and, with `attach`, its stream.
    fn exec(
        &self,
        id: &str,
        exec_id: &str,
        process: ProcessSpec,
        attach: bool,
        stdin: bool,
    ) -> Result<(i64, Option<Streams>)>;
    /// Terminates the task if it runs and removes everything made for it.
    /// A task that is already gone is not an error.
    fn delete(&self, id: &str) -> Result<()>;
}
