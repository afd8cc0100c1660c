//! The shim's errors, and how they leave it.
//!
//! Every function of the shim that can fail for its caller returns a
//! [`ShimError`]; modules with a failure domain of their own (the state
//! machine, joining a container, a forked child's setup, cgroups, mounts)
//! have their own enum, which becomes a `ShimError` at their boundary. A
//! `ShimError` is turned into the protocol's [`RemoteError`] (its
//! [`ErrorKind`] and [`chain`] of messages) only where an answer is
//! written: the reply to a request and the create's answer.

use std::path::PathBuf;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use vessel_runtime::bundle::BundleError;
use vessel_runtime::layout::InvalidId;
use vessel_runtime::protocol::{ErrorKind, RemoteError, Status};
use vessel_runtime::users::UserError;

use crate::state::StateError;

/// Any error the shim passes on as the cause of one of its own.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request (or the create) failed.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    #[error("shim request")]
    Request(#[source] serde_json::Error),
    #[error("unreadable request")]
    UnreadableRequest(#[source] serde_json::Error),
    #[error(transparent)]
    Id(#[from] InvalidId),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("bundle {}", path.display())]
    BundlePath {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("creating {}", root.display())]
    StateRoot {
        root: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The container's state directory: a conflict when it exists.
    #[error("container {id}")]
    ContainerDir {
        id: String,
        #[source]
        source: std::io::Error,
    },
    /// A user (`field` names where it was given) not found in the
    /// container.
    #[error("{field}")]
    User {
        field: &'static str,
        #[source]
        source: UserError,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("no process {process:?} in container {container}")]
    NoSuchProcess { container: String, process: String },
    #[error("process {0:?} is not running")]
    ProcessNotRunning(String),
    #[error("container {0} is not running: cannot exec")]
    ExecNotRunning(String),
    #[error("exec id {0:?} is taken or not valid")]
    ExecId(String),
    #[error("args: empty, there is no command to run")]
    NoArgs,
    #[error("the container's spec has no process")]
    NoFirstProcess,
    #[error("signal: {0} is not a signal")]
    NotASignal(i32),
    #[error("process {0:?} has no terminal to resize")]
    NoTerminal(String),
    #[error("container {id} is {status}: stop it first, or delete with force")]
    Running { id: String, status: Status },
    /// The spec, or what the kernel made of it, was refused while the
    /// container was being made.
    #[error("creating the container")]
    Create(#[source] BoxError),
    /// The process's working directory could not be made in the image.
    #[error(transparent)]
    Cwd(crate::mounts::MountError),
    #[error("exec failed")]
    Exec(#[source] BoxError),
    #[error("sending {signal} to {pid}")]
    Kill {
        signal: Signal,
        pid: Pid,
        #[source]
        source: nix::Error,
    },
    /// A failure that is not the request's, with what was being done.
    #[error("{doing}")]
    Internal {
        doing: &'static str,
        #[source]
        source: BoxError,
    },
}

impl ShimError {
    /// An unexpected failure while `doing`, for `map_err`.
    pub fn internal<E: Into<BoxError>>(doing: &'static str) -> impl FnOnce(E) -> ShimError {
        move |e| ShimError::Internal {
            doing,
            source: e.into(),
        }
    }

    /// A refusal of the spec while the container was being made, for
    /// `map_err`.
    pub fn create<E: Into<BoxError>>(e: E) -> ShimError {
        ShimError::Create(e.into())
    }

    /// The error class the caller is told.
    pub fn kind(&self) -> ErrorKind {
        use ShimError::*;
        match self {
            Request(_) | UnreadableRequest(_) | Id(_) | Bundle(_) | BundlePath { .. } => {
                ErrorKind::InvalidParameter
            }
            User { .. } | NoArgs | NotASignal(_) | NoTerminal(_) | Create(_) | Cwd(_) => {
                ErrorKind::InvalidParameter
            }
            Exec(_) => ErrorKind::InvalidParameter,
            ContainerDir { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
                ErrorKind::Conflict
            }
            ExecId(_) | Running { .. } => ErrorKind::Conflict,
            State(e) => e.kind(),
            NoSuchProcess { .. } => ErrorKind::NotFound,
            ProcessNotRunning(_) | ExecNotRunning(_) => ErrorKind::NotRunning,
            ContainerDir { .. } | StateRoot { .. } | Kill { .. } | NoFirstProcess => {
                ErrorKind::Internal
            }
            Internal { .. } => ErrorKind::Internal,
        }
    }
}

impl From<&ShimError> for RemoteError {
    fn from(e: &ShimError) -> Self {
        RemoteError::new(e.kind(), chain(e))
    }
}

/// `error` and its sources, as one line (`what: why: ...`). A source whose
/// text the line already ends with (an error that repeats its source's
/// text in its own) is not repeated.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = e.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_error_keeps_the_kind_and_the_whole_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "File exists");
        let e = ShimError::ContainerDir {
            id: "c1".into(),
            source: io,
        };
        let remote = RemoteError::from(&e);
        assert_eq!(remote.kind, ErrorKind::Conflict);
        assert_eq!(remote.message, "container c1: File exists");
        let e = ShimError::internal("freezing the container")(std::io::Error::other("busy"));
        assert_eq!(e.to_string(), "freezing the container");
        assert_eq!(
            RemoteError::from(&e),
            RemoteError::new(ErrorKind::Internal, "freezing the container: busy")
        );
    }
}
