//! Linux process isolation: one `vessel-shim` per container, reached
//! over its socket. A spare shim is started ahead of the next create (at
//! the lowest priority, so it never competes with a container being
//! started; it waits at the normal one) and handed the request, which
//! takes the shim's own start off the create path; a spare that finds its
//! stdin closed (the daemon went away) exits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use vessel_runtime::client::split_stream;
use vessel_runtime::launch::{CreateRequest, LaunchError, Spare};
use vessel_runtime::protocol::{ProcessInfo, ProcessSpec, ResourceUpdate};
use vessel_runtime::{ContainerDir, ContainerState, ExitStatus, Request, Response, ShimClient};

use super::compute::{ComputeSystem, Created, Streams, TaskSpec};
use crate::error::{EngineError, Result};

/// The shims' compute system.
#[derive(Debug)]
pub struct ShimSystem {
    /// Where the shims keep their containers' state.
    root: PathBuf,
    /// The `vessel-shim` binary.
    shim: PathBuf,
    /// A shim started ahead of the next create (see [`Spare`]).
    spare: Arc<Mutex<Option<Spare>>>,
}

impl ShimSystem {
    pub fn new(root: &Path, shim: &Path) -> Self {
        ShimSystem {
            root: root.to_path_buf(),
            shim: shim.to_path_buf(),
            spare: Arc::default(),
        }
    }

    fn cdir(&self, id: &str) -> ContainerDir {
        ContainerDir::new(&self.root, id)
    }

    fn client(&self, id: &str) -> Result<ShimClient> {
        Ok(ShimClient::connect(&self.cdir(id).socket())?)
    }

    fn call(&self, id: &str, request: &Request) -> Result<Response> {
        Ok(self.client(id)?.call(request)?)
    }

    /// Starts a spare shim in the background, unless one waits already.
    fn keep_spare(&self) {
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

    /// Removes what a task whose shim died left behind.
    fn cleanup(&self, id: &str) -> Result<()> {
        let req = CreateRequest {
            id: id.to_string(),
            root: self.root.clone(),
            bundle: PathBuf::new(),
            open_stdin: false,
            log: None,
            no_log: false,
            log_rotation: None,
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
}

impl ComputeSystem for ShimSystem {
    fn prepare(&self) {
        self.keep_spare();
    }

    /// Starts the container's shim (the spare, if one waits), which
    /// creates the container from the bundle.
    fn create(&self, spec: &TaskSpec) -> Result<Created> {
        let req = CreateRequest {
            id: spec.id.clone(),
            root: self.root.clone(),
            bundle: spec.bundle.clone(),
            open_stdin: spec.open_stdin,
            log: spec.log.clone(),
            no_log: spec.log.is_none(),
            log_rotation: spec.log_rotation,
            start: spec.start,
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
                let Some(start) = spec.start else {
                    return Ok(Created {
                        pid: None,
                        streams: None,
                    });
                };
                let streams = match start.attach {
                    true => Some(
                        split_stream(answer)
                            .map_err(EngineError::io("duplicating the shim's socket"))?,
                    ),
                    false => None,
                };
                Ok(Created {
                    pid: Some(state.pid as i64),
                    streams,
                })
            }
            Err(LaunchError::Create(e)) => Err(vessel_runtime::ShimClientError::Remote(e).into()),
            Err(e) => Err(EngineError::Internal(e.to_string())),
        }
    }

    fn start(&self, id: &str) -> Result<i64> {
        match self.call(id, &Request::Start)? {
            Response::Started { pid } => Ok(pid as i64),
            _ => Ok(self.state(id)?.pid as i64),
        }
    }

    fn wait(&self, id: &str, process: &str) -> Result<ExitStatus> {
        let process = process.to_string();
        match self.call(id, &Request::Wait { process })? {
            Response::Exited(exit) => Ok(exit),
            other => Err(unexpected(other)),
        }
    }

    fn state(&self, id: &str) -> Result<ContainerState> {
        match self.call(id, &Request::State)? {
            Response::State(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    fn signal(&self, id: &str, process: &str, signal: i32) -> Result<()> {
        let process = process.into();
        let req = Request::Signal {
            process,
            signal,
            all: false,
        };
        self.call(id, &req).map(drop)
    }

    fn resize(&self, id: &str, process: &str, width: u16, height: u16) -> Result<()> {
        let process = process.into();
        let req = Request::Resize {
            process,
            width,
            height,
        };
        self.call(id, &req).map(drop)
    }

    fn close_stdin(&self, id: &str, process: &str) -> Result<()> {
        let process = process.into();
        self.call(id, &Request::CloseStdin { process }).map(drop)
    }

    fn pause(&self, id: &str) -> Result<()> {
        self.call(id, &Request::Pause).map(drop)
    }

    fn resume(&self, id: &str) -> Result<()> {
        self.call(id, &Request::Resume).map(drop)
    }

    fn statistics(&self, id: &str) -> Result<serde_json::Value> {
        match self.call(id, &Request::Stats)? {
            Response::Stats(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    fn processes(&self, id: &str) -> Result<Vec<ProcessInfo>> {
        match self.call(id, &Request::Ps)? {
            Response::Ps(p) => Ok(p),
            other => Err(unexpected(other)),
        }
    }

    fn update(&self, id: &str, resources: ResourceUpdate) -> Result<()> {
        self.call(id, &Request::Update { resources }).map(drop)
    }

    fn attach(&self, id: &str, process: &str, stdin: bool, keep_stdin: bool) -> Result<Streams> {
        let mut client = self.client(id)?;
        let process = process.into();
        client.call(&Request::Attach {
            process,
            stdin,
            keep_stdin,
        })?;
        Ok(client.into_stream())
    }

    fn exec(
        &self,
        id: &str,
        exec_id: &str,
        process: ProcessSpec,
        attach: bool,
        stdin: bool,
    ) -> Result<(i64, Option<Streams>)> {
        let mut client = self.client(id)?;
        let pid = match client.call(&Request::Exec {
            id: exec_id.to_string(),
            process,
            attach,
            stdin,
        })? {
            Response::Started { pid } => pid as i64,
            _ => 0,
        };
        Ok((pid, attach.then(|| client.into_stream())))
    }

    /// Deletes the task through its shim (which then exits); when the
    /// shim is gone, runs one in cleanup mode for what it left.
    fn delete(&self, id: &str) -> Result<()> {
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
}

fn unexpected(r: Response) -> EngineError {
    EngineError::Internal(format!("the shim answered with something else: {r:?}"))
}

/// Makes the calling thread (and what it starts from now on) run at the
/// lowest priority; best effort. A thread's nice value is its own.
pub(crate) fn lowest_priority() {
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
}
