//! The runtime client: libcontainerd's verbs over Vessel's shims.
//!
//! Each container with a live task has one shim (see `vessel-shim`); this
//! client starts shims, talks to them, and turns what happens inside them
//! into [`RuntimeEvent`]s. Events of one container are delivered through
//! an [`OrderedQueue`], so the engine sees them in the order they
//! happened.

use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use vessel_runtime::client::split_stream;
use vessel_runtime::launch::{CreateRequest, LaunchError, Spare, Start};
use vessel_runtime::protocol::{ProcessInfo, ResourceUpdate, INIT};
use vessel_runtime::{ContainerDir, ContainerState, Request, Response, ShimClient, Status};

use crate::error::{EngineError, Result};
use crate::queue::OrderedQueue;

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

/// A process's attach stream: its framed output, and its stdin.
pub type Streams = (BufReader<UnixStream>, UnixStream);

/// The client.
#[derive(Clone)]
pub struct RuntimeClient {
    root: PathBuf,
    shim: PathBuf,
    queue: OrderedQueue,
    sink: Arc<Sink>,
    /// A shim started ahead of the next create (see [`Spare`]).
    spare: Arc<Mutex<Option<Spare>>>,
}

impl std::fmt::Debug for RuntimeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeClient")
            .field("root", &self.root)
            .field("shim", &self.shim)
            .finish_non_exhaustive()
    }
}

impl RuntimeClient {
    /// `root` holds the shims' state; `sink` receives every event.
    pub fn new(
        root: &Path,
        shim: &Path,
        sink: impl Fn(&str, RuntimeEvent) + Send + Sync + 'static,
    ) -> Self {
        RuntimeClient {
            root: root.to_path_buf(),
            shim: shim.to_path_buf(),
            queue: OrderedQueue::default(),
            sink: Arc::new(sink),
            spare: Arc::default(),
        }
    }

    fn cdir(&self, id: &str) -> ContainerDir {
        ContainerDir::new(&self.root, id)
    }

    fn call(&self, id: &str, request: &Request) -> Result<Response> {
        let mut client = ShimClient::connect(&self.cdir(id).socket())?;
        Ok(client.call(request)?)
    }

    /// Create: starts the container's shim, which creates the container
    /// from `bundle`. Not yet running, unless `start` (see [`Start`]): then
    /// the first process runs, its exit is watched, and the answer is its
    /// pid and, if `start` attaches, its attach stream.
    pub fn create(
        &self,
        id: &str,
        bundle: &Path,
        log: &Path,
        open_stdin: bool,
        start: Option<Start>,
    ) -> Result<(i64, Option<Streams>)> {
        let req = CreateRequest {
            id: id.to_string(),
            root: self.root.clone(),
            bundle: bundle.to_path_buf(),
            open_stdin,
            log: Some(log.to_path_buf()),
            start,
            foreground: None,
        };
        let taken = self.spare.lock().unwrap_or_else(|e| e.into_inner()).take();
        let created = match taken {
            Some(spare) => match spare.launch(&req) {
                // A spare that died while it waited: one more try, afresh.
                Err(LaunchError::NotListening) => {
                    Spare::start(&self.shim).and_then(|s| s.launch(&req))
                }
                other => other,
            },
            None => Spare::start(&self.shim).and_then(|s| s.launch(&req)),
        };
        self.keep_spare();
        match created {
            Ok((state, mut child, answer)) => {
                // The shim is our child until it exits: reap it then.
                std::thread::spawn(move || {
                    let _ = child.wait();
                });
                let Some(start) = start else {
                    return Ok((0, None));
                };
                self.watch(id, INIT);
                let streams = match start.attach {
                    true => Some(
                        split_stream(answer)
                            .map_err(EngineError::io("duplicating the shim's socket"))?,
                    ),
                    false => None,
                };
                Ok((state.pid as i64, streams))
            }
            Err(LaunchError::Create(e)) => Err(vessel_runtime::ShimClientError::Remote(e).into()),
            Err(e) => Err(EngineError::Internal(e.to_string())),
        }
    }

    /// Starts a spare shim in the background, unless one waits already.
    pub fn keep_spare(&self) {
        let (slot, shim) = (self.spare.clone(), self.shim.clone());
        std::thread::spawn(move || {
            if slot.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                return;
            }
            // Started at the lowest priority, from this thread (a thread's
            // nice value is its own and passes to the children it starts).
            lowest_priority();
            match Spare::start_spare(&shim) {
                Ok(spare) => {
                    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                    if slot.is_none() {
                        *slot = Some(spare);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "starting a spare shim"),
            }
        });
    }

    /// Start: runs the container's first process; returns its pid.
    pub fn start(&self, id: &str) -> Result<i64> {
        let pid = match self.call(id, &Request::Start)? {
            Response::Started { pid } => pid as i64,
            _ => self.status(id)?.pid as i64,
        };
        self.watch(id, INIT);
        Ok(pid)
    }

    /// Delivers the exit of `process` as an event once it happens.
    fn watch(&self, id: &str, process: &str) {
        let this = self.clone();
        let (id, process) = (id.to_string(), process.to_string());
        std::thread::spawn(move || {
            let answer = ShimClient::connect(&this.cdir(&id).socket()).and_then(|mut c| {
                c.call(&Request::Wait {
                    process: process.clone(),
                })
            });
            let event = match answer {
                Ok(Response::Exited(exit)) => RuntimeEvent::Exit {
                    process,
                    code: exit.code,
                    exited_at: exit.exited_at,
                    oom_killed: exit.oom_killed,
                },
                other => {
                    // The shim is gone without telling: the exit is unknown.
                    tracing::error!(container = %id, answer = ?other, "lost the shim while waiting");
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

    /// Status: the task's state from its shim.
    pub fn status(&self, id: &str) -> Result<ContainerState> {
        match self.call(id, &Request::State)? {
            Response::State(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    /// Restore: after an engine restart, finds the task of `id` again.
    /// `None` when its shim is gone. A running task is watched again; a
    /// stopped one is returned as it is (its exit in `exit`).
    pub fn restore(&self, id: &str) -> Option<ContainerState> {
        let state = self.status(id).ok()?;
        if matches!(state.status, Status::Running | Status::Paused) {
            self.watch(id, INIT);
        }
        Some(state)
    }

    /// SignalProcess: sends `signal` to a process of the container.
    pub fn signal(&self, id: &str, process: &str, signal: i32) -> Result<()> {
        self.call(
            id,
            &Request::Signal {
                process: process.into(),
                signal,
                all: false,
            },
        )
        .map(drop)
    }

    /// ResizeTerminal.
    pub fn resize(&self, id: &str, process: &str, width: u16, height: u16) -> Result<()> {
        self.call(
            id,
            &Request::Resize {
                process: process.into(),
                width,
                height,
            },
        )
        .map(drop)
    }

    /// CloseStdin.
    pub fn close_stdin(&self, id: &str, process: &str) -> Result<()> {
        self.call(
            id,
            &Request::CloseStdin {
                process: process.into(),
            },
        )
        .map(drop)
    }

    pub fn pause(&self, id: &str) -> Result<()> {
        self.call(id, &Request::Pause).map(drop)
    }

    pub fn resume(&self, id: &str) -> Result<()> {
        self.call(id, &Request::Resume).map(drop)
    }

    /// Stats, as the shim reads them from the cgroups.
    pub fn stats(&self, id: &str) -> Result<serde_json::Value> {
        match self.call(id, &Request::Stats)? {
            Response::Stats(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    /// Summary: the container's processes.
    pub fn summary(&self, id: &str) -> Result<Vec<ProcessInfo>> {
        match self.call(id, &Request::Ps)? {
            Response::Ps(p) => Ok(p),
            other => Err(unexpected(other)),
        }
    }

    /// UpdateResources.
    pub fn update_resources(&self, id: &str, resources: ResourceUpdate) -> Result<()> {
        self.call(id, &Request::Update { resources }).map(drop)
    }

    /// DeleteTask / Delete: removes the task (killing it if it still runs)
    /// and everything the runtime made for it; its shim then exits. A task
    /// that is already gone is not an error.
    pub fn delete(&self, id: &str) -> Result<()> {
        let cdir = self.cdir(id);
        if !cdir.path().exists() {
            return Ok(());
        }
        match ShimClient::connect(&cdir.socket()) {
            Ok(mut c) => c
                .call(&Request::Delete { force: true })
                .map(drop)
                .map_err(Into::into),
            Err(_) => self.cleanup(id),
        }
    }

    /// Removes what a task whose shim died left behind.
    fn cleanup(&self, id: &str) -> Result<()> {
        let req = CreateRequest {
            id: id.to_string(),
            root: self.root.clone(),
            bundle: PathBuf::new(),
            open_stdin: false,
            log: None,
            start: None,
            foreground: None,
        };
        let arg = serde_json::to_string(&req).map_err(|e| EngineError::Internal(e.to_string()))?;
        let status = std::process::Command::new(&self.shim)
            .arg("--cleanup")
            .arg(arg)
            .status()
            .map_err(EngineError::io("running the shim's cleanup"))?;
        if status.success() {
            Ok(())
        } else {
            Err(EngineError::Internal(format!(
                "cleaning up after the shim of {id} failed"
            )))
        }
    }

    /// Attaches to a process: its framed output, and its stdin.
    pub fn attach(
        &self,
        id: &str,
        process: &str,
        stdin: bool,
    ) -> Result<(BufReader<UnixStream>, UnixStream)> {
        let mut client = ShimClient::connect(&self.cdir(id).socket())?;
        client.call(&Request::Attach {
            process: process.into(),
            stdin,
        })?;
        Ok(client.into_stream())
    }

    /// Exec: starts an extra process in the running container; with
    /// `attach`, returns its attach stream (output, and stdin if `stdin`).
    /// Its exit arrives as an event like the first process's.
    pub fn exec(
        &self,
        id: &str,
        exec_id: &str,
        process: vessel_runtime::protocol::ProcessSpec,
        attach: bool,
        stdin: bool,
    ) -> Result<(i64, Option<Streams>)> {
        let mut client = ShimClient::connect(&self.cdir(id).socket())?;
        let pid = match client.call(&Request::Exec {
            id: exec_id.to_string(),
            process,
            attach,
            stdin,
        })? {
            Response::Started { pid } => pid as i64,
            _ => 0,
        };
        self.watch(id, exec_id);
        Ok((pid, attach.then(|| client.into_stream())))
    }

    /// CreateCheckpoint: not supported yet.
    pub fn create_checkpoint(&self, _id: &str, _dir: &Path) -> Result<()> {
        Err(EngineError::NotSupported(
            "checkpoints are not supported yet".into(),
        ))
    }
}

fn unexpected(r: Response) -> EngineError {
    EngineError::Internal(format!("the shim answered with something else: {r:?}"))
}

/// Makes the calling thread (and what it starts from now on) run at the
/// lowest priority; best effort. A thread's nice value is its own.
fn lowest_priority() {
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
}
