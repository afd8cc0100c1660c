//! Starting a container's shim and waiting until the container exists.
//!
//! The shim answers on its stdout once with one
//! JSON line (the container's state, or why it could not be created) and
//! then lives on its own, in its own session, until the container is
//! deleted.

use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::protocol::{ContainerState, RemoteError};

/// What the shim needs to create a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateRequest {
    pub id: String,
    pub root: PathBuf,
    pub bundle: PathBuf,
    /// Give the first process a stdin pipe (else /dev/null, unless it has a
    /// terminal).
    pub open_stdin: bool,
    /// Where the container's log goes (default: `container.log` in its
    /// state directory). The engine keeps logs with its records, so that
    /// they outlive the container's runtime state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
}

/// Why a shim could not create the container.
#[derive(Debug, Error)]
pub enum LaunchError {
    #[error("cannot run the shim {path}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the shim exited before creating the container (see {log})")]
    ShimDied { log: PathBuf },
    #[error(transparent)]
    Create(#[from] RemoteError),
    #[error("reading the shim's answer: {0}")]
    Io(#[from] io::Error),
}

/// The shim's answer on its ready pipe.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    Created(ContainerState),
    Failed(RemoteError),
}

/// Where the shim binary is: `$VESSEL_SHIM`, else next to this executable,
/// else on `$PATH`.
pub fn shim_path() -> PathBuf {
    if let Some(path) = std::env::var_os("VESSEL_SHIM") {
        return PathBuf::from(path);
    }
    if let Ok(exe) = std::env::current_exe() {
        let sibling = exe.with_file_name("vessel-shim");
        if sibling.exists() {
            return sibling;
        }
    }
    PathBuf::from("vessel-shim")
}

/// Starts a shim for `req` and waits for the container to be created. The
/// shim answers on its stdout, then points it at /dev/null. The returned
/// child is the shim; dropping it does not stop it.
pub fn create(shim: &Path, req: &CreateRequest) -> Result<(ContainerState, Child), LaunchError> {
    let mut child = Command::new(shim)
        .arg(serde_json::to_string(req).map_err(io::Error::other)?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            path: shim.to_path_buf(),
            source,
        })?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    if line.is_empty() {
        let _ = child.wait();
        return Err(LaunchError::ShimDied {
            log: req.root.join(&req.id).join("shim.log"),
        });
    }
    match serde_json::from_str(&line).map_err(io::Error::other)? {
        Ready::Created(state) => Ok((state, child)),
        Ready::Failed(err) => {
            let _ = child.wait();
            Err(LaunchError::Create(err))
        }
    }
}
