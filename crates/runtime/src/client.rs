//! Talking to a container's shim.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::protocol::{ErrorKind, RemoteError, Request, Response};

/// Why a call to a shim failed.
#[derive(Debug, Error)]
pub enum ShimClientError {
    #[error("no shim answers at {path}: {source}")]
    Connect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("talking to the shim: {0}")]
    Io(#[from] io::Error),
    #[error("the shim answered something unreadable: {0}")]
    Protocol(String),
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

impl ShimClientError {
    /// The error class, for callers that map errors to statuses.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ShimClientError::Remote(e) => e.kind,
            ShimClientError::Connect { .. } => ErrorKind::NotRunning,
            _ => ErrorKind::Internal,
        }
    }
}

/// One connection to a shim.
#[derive(Debug)]
pub struct ShimClient {
    reader: BufReader<UnixStream>,
}

impl ShimClient {
    /// Connects to the shim listening at `socket`.
    pub fn connect(socket: &Path) -> Result<Self, ShimClientError> {
        let stream = UnixStream::connect(socket).map_err(|source| ShimClientError::Connect {
            path: socket.to_path_buf(),
            source,
        })?;
        Ok(ShimClient {
            reader: BufReader::new(stream),
        })
    }

    /// Sends `request` and reads the answer; an error answer becomes `Err`.
    pub fn call(&mut self, request: &Request) -> Result<Response, ShimClientError> {
        let mut line =
            serde_json::to_vec(request).map_err(|e| ShimClientError::Protocol(e.to_string()))?;
        line.push(b'\n');
        self.reader.get_mut().write_all(&line)?;
        let mut answer = String::new();
        if self.reader.read_line(&mut answer)? == 0 {
            return Err(ShimClientError::Protocol(
                "the shim closed the connection without answering".into(),
            ));
        }
        match serde_json::from_str(&answer) {
            Ok(Response::Error(e)) => Err(ShimClientError::Remote(e)),
            Ok(resp) => Ok(resp),
            Err(e) => Err(ShimClientError::Protocol(format!("{e}: {answer:?}"))),
        }
    }

    /// After an attaching request: the stream of output frames (read) and
    /// the process's stdin (write; shut down the write half for EOF).
    pub fn into_stream(self) -> (BufReader<UnixStream>, UnixStream) {
        split_stream(self.reader).expect("duplicating a unix socket descriptor")
    }
}

/// A shim's socket after an attaching answer (a request's, or a create's
/// that attaches): its output frames to read, with what is already
/// buffered, and the process's stdin to write.
pub fn split_stream(
    reader: BufReader<UnixStream>,
) -> std::io::Result<(BufReader<UnixStream>, UnixStream)> {
    let writer = reader.get_ref().try_clone()?;
    Ok((reader, writer))
}
