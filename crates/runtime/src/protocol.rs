//! The shim's control protocol: one JSON request per line, one JSON
//! response per line, over the shim's unix socket.
//!
//! Errors cross the socket typed ([`ErrorKind`]), so a caller can tell "no
//! such process" from "the container is paused" without parsing text. An
//! `Attach` (or an `Exec` that attaches) turns the connection into a framed
//! output stream ([`crate::frame`]) after its response line.

use serde::{Deserialize, Serialize};

/// The first process of a container.
pub const INIT: &str = "init";

/// A request to the shim.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// The container's state.
    State,
    /// Run the container's first process.
    Start,
    /// Start an extra process; with `attach` the connection then carries
    /// its output (and takes its input if `stdin`).
    Exec {
        id: String,
        process: ProcessSpec,
        attach: bool,
        stdin: bool,
    },
    /// Send a signal to one process, or to every process of the container.
    Signal {
        process: String,
        signal: i32,
        all: bool,
    },
    /// Resize a process's terminal.
    Resize {
        process: String,
        width: u16,
        height: u16,
    },
    /// Close a process's stdin (it reads end-of-file).
    CloseStdin { process: String },
    /// Freeze every process of the container.
    Pause,
    /// Thaw it.
    Resume,
    /// Resource usage from the container's cgroup.
    Stats,
    /// The container's processes.
    Ps,
    /// Answer once the process has exited.
    Wait { process: String },
    /// Change the container's resource limits.
    Update { resources: ResourceUpdate },
    /// SIGTERM, then SIGKILL after `timeout_secs`; answers once stopped.
    Shutdown { timeout_secs: u64 },
    /// SIGKILL; answers at once (use `Wait`).
    Terminate,
    /// Remove the container; `force` kills it first. The shim then exits.
    Delete { force: bool },
    /// Stream a process's output on this connection (and feed its stdin;
    /// the end of this connection's input closes that stdin unless
    /// `keep_stdin`: Docker's attach to a container without `StdinOnce`).
    Attach {
        process: String,
        stdin: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        keep_stdin: bool,
    },
}

/// A process to run in the container, as `exec` gives it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessSpec {
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    /// `uid[:gid]` or a user name from the container's /etc/passwd.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub terminal: bool,
    /// The terminal's size, set as soon as the terminal exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<ConsoleSize>,
    /// Capabilities of its own instead of the first process's (a
    /// privileged exec's: every one the host allows, in every set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Box<oci_spec::runtime::LinuxCapabilities>>,
}

/// A terminal's size in characters (the OCI spec's `consoleSize`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSize {
    pub height: u16,
    pub width: u16,
}

/// Limits `update` may change; `None` leaves a limit as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceUpdate {
    pub memory: Option<i64>,
    /// Memory plus swap (-1: no limit).
    #[serde(default)]
    pub memory_swap: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    /// Relative CPU weight (cgroup v1 shares; mapped to a weight on v2).
    #[serde(default)]
    pub cpu_shares: Option<u64>,
    pub pids_limit: Option<i64>,
}

/// What the shim answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Ok,
    State(ContainerState),
    Started { pid: i32 },
    Exited(ExitStatus),
    Stats(serde_json::Value),
    Ps(Vec<ProcessInfo>),
    Error(RemoteError),
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        };
        f.write_str(s)
    }
}

/// The container's state, as `vessel runtime state` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    pub status: Status,
    /// Host PID of the first process (0 once stopped and reaped).
    pub pid: i32,
    pub bundle: String,
    pub rootfs: String,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitStatus>,
}

/// How a process ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code; 128+N when killed by signal N.
    pub code: i32,
    /// The signal that killed it, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// RFC 3339 with nanoseconds.
    pub exited_at: String,
    /// The kernel's OOM killer killed a process of the container while
    /// it ran (the first process's exit only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub oom_killed: bool,
}

/// One process of the container.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    pub user: String,
    pub command: String,
}

/// Error classes that survive the trip over the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotFound,
    Conflict,
    InvalidParameter,
    NotRunning,
    Internal,
}

/// An error the shim answered with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    pub kind: ErrorKind,
    pub message: String,
}

impl RemoteError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RemoteError {
            kind,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_as_one_json_line() {
        let req = Request::Signal {
            process: INIT.into(),
            signal: 15,
            all: false,
        };
        let line = serde_json::to_string(&req).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(
            line,
            r#"{"signal":{"process":"init","signal":15,"all":false}}"#
        );
        let back: Request = serde_json::from_str(&line).unwrap();
        assert!(matches!(back, Request::Signal { signal: 15, .. }));
    }

    #[test]
    fn errors_keep_their_kind() {
        let resp = Response::Error(RemoteError::new(ErrorKind::Conflict, "container is paused"));
        let line = serde_json::to_string(&resp).unwrap();
        let Response::Error(err) = serde_json::from_str(&line).unwrap() else {
            panic!("{line}")
        };
        assert_eq!(err.kind, ErrorKind::Conflict);
    }
}
