//! Starting a container's shim and waiting until the container exists.
//!
//! The shim reads one create request (a JSON line) on its stdin, answers
//! on its stdout (a socket) once with one JSON line (the container's state,
//! or why it could not be created) and then lives on its own, in its own
//! session, until the container is deleted. A shim may be started before
//! its request is known ([`Spare`]), so that a caller that creates
//! containers often (the engine) does not wait for the shim's own start.
//! A create may start the first process too ([`Start`]), and the
//! answering socket may go on as its attach stream ([`Start`] with
//! `attach`, and a foreground run, [`Foreground`]).

use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
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
    /// Keep no log at all (Docker's `none` driver): the output goes only
    /// to whoever is attached.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_log: bool,
    /// When the log is rotated (Docker's `max-size`, `max-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_rotation: Option<crate::logs::Rotation>,
    /// Start the first process within the create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
    /// Run the container in the foreground of the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreground: Option<Foreground>,
}

/// A create and a start in one request, the engine's `docker start`: the
/// shim starts the first process as soon as the container exists (a
/// failed start is a failed create, and leaves nothing behind) and answers
/// once it runs. With `attach`, the socket it answered on goes on as that
/// process's attach stream, as an attach request's would: output frames
/// out and, with `stdin`, its stdin in. Output made before the caller reads
/// waits for it: none is missed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Start {
    pub attach: bool,
    pub stdin: bool,
    /// The end of the stream's input leaves the process's stdin open (see
    /// [`crate::protocol::Request::Attach`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_stdin: bool,
}

/// A foreground run, `runc run`'s way: the shim starts the first process
/// as soon as the container exists (a failed start is a failed create,
/// and leaves nothing behind), and the socket it answered on becomes the
/// process's attach stream (output frames out, stdin in). Once the process
/// has exited, its output is drained and, unless `keep`, the container is
/// deleted (even if the caller has gone away, as `docker run --rm` does),
/// the stream ends with one [`crate::frame::EXIT`] frame.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Foreground {
    /// Leave the stopped container for a later `delete`.
    pub keep: bool,
}

/// The argument that tells a shim it was started ahead of its request.
pub const SPARE_FLAG: &str = "--spare";

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
    #[error("the shim exited before it was given its request")]
    NotListening,
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

/// A shim that has started and waits on its stdin for a create request.
/// Dropped unused, it reads end-of-file, exits, and is reaped.
#[derive(Debug)]
pub struct Spare {
    child: Option<Child>,
    /// Our end of the socket the shim answers on (its stdout).
    answer: Option<UnixStream>,
}

impl Spare {
    /// Starts a shim that will wait for its request; `spare` says it is
    /// started ahead of it (see [`Spare::start_spare`]).
    fn spawn(shim: &Path, spare: bool) -> Result<Spare, LaunchError> {
        let (ours, theirs) = UnixStream::pair()?;
        let mut command = Command::new(shim);
        if spare {
            command.arg(SPARE_FLAG);
        }
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::from(OwnedFd::from(theirs)))
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| LaunchError::Spawn {
                path: shim.to_path_buf(),
                source,
            })?;
        Ok(Spare {
            child: Some(child),
            answer: Some(ours),
        })
    }

    /// Starts a shim for a request that is at hand.
    pub fn start(shim: &Path) -> Result<Spare, LaunchError> {
        Self::spawn(shim, false)
    }

    /// Starts a shim ahead of its request. The caller may start it at a
    /// low priority (it inherits the caller's), so that its start does not
    /// compete with the containers being started; once started, it takes
    /// the normal priority back and waits.
    pub fn start_spare(shim: &Path) -> Result<Spare, LaunchError> {
        Self::spawn(shim, true)
    }

    /// Hands the shim `req` and waits until the container is created. The
    /// returned child is the shim; dropping it does not stop it.
    pub fn create(self, req: &CreateRequest) -> Result<(ContainerState, Child), LaunchError> {
        self.launch(req).map(|(state, child, _)| (state, child))
    }

    /// [`Spare::create`], also returning the socket the shim answered on:
    /// the first process's attach stream when asked for (see [`Start`] and
    /// [`Foreground`]).
    pub fn launch(
        mut self,
        req: &CreateRequest,
    ) -> Result<(ContainerState, Child, BufReader<UnixStream>), LaunchError> {
        let mut line = serde_json::to_vec(req).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut child = self.child.take().expect("a spare is used once");
        let mut answer = BufReader::new(self.answer.take().expect("a spare is used once"));
        let sent = child.stdin.take().map(|mut stdin| stdin.write_all(&line));
        if !matches!(sent, Some(Ok(()))) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(LaunchError::NotListening);
        }
        let result = conclude(read_answer(&mut answer), req);
        match &result {
            Ok(_) => {}
            Err(LaunchError::Io(_)) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Err(_) => {
                let _ = child.wait();
            }
        }
        result.map(|state| (state, child, answer))
    }
}

/// Reads a shim's one answer (a JSON line); `None` if it ended without
/// one. What follows the line stays in `out`.
pub fn read_answer(out: &mut impl BufRead) -> io::Result<Option<Ready>> {
    let mut answer = String::new();
    out.read_line(&mut answer)?;
    match answer.is_empty() {
        true => Ok(None),
        false => serde_json::from_str(&answer)
            .map(Some)
            .map_err(io::Error::other),
    }
}

/// What a shim's answer to `req` means. On an `Io` error the shim may
/// still run and is to be killed; on any other error it has exited (or is
/// about to) and is to be reaped.
pub fn conclude(
    answer: io::Result<Option<Ready>>,
    req: &CreateRequest,
) -> Result<ContainerState, LaunchError> {
    match answer {
        Ok(Some(Ready::Created(state))) => Ok(state),
        Ok(Some(Ready::Failed(err))) => Err(LaunchError::Create(err)),
        Ok(None) => Err(LaunchError::ShimDied {
            log: req.root.join(&req.id).join("shim.log"),
        }),
        Err(e) => Err(LaunchError::Io(e)),
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Closing its stdin ends it.
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}
