//! The engine's errors. Each carries its class; the API maps classes to
//! HTTP statuses in one place ([`EngineError::status`]).

use thiserror::Error;
use vessel_runtime::{ErrorKind, ShimClientError};

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidParameter(String),
    /// The request changed nothing (starting a running container, stopping
    /// a stopped one).
    #[error("{0}")]
    NotModified(String),
    #[error("{0}")]
    NotSupported(String),
    /// Refused for what the object is (a pre-defined network).
    #[error("{0}")]
    Forbidden(String),
    /// A registry refused the credentials.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{context}: {}", os_text(source))]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, EngineError>;

impl EngineError {
    /// The HTTP status the Docker API uses for this class of error.
    pub fn status(&self) -> u16 {
        match self {
            EngineError::NotFound(_) => 404,
            EngineError::Conflict(_) => 409,
            EngineError::InvalidParameter(_) => 400,
            EngineError::NotModified(_) => 304,
            EngineError::NotSupported(_) => 501,
            EngineError::Forbidden(_) => 403,
            EngineError::Unauthorized(_) => 401,
            EngineError::Io { .. } | EngineError::Internal(_) => 500,
        }
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EngineError {
        let context = context.into();
        move |source| EngineError::Io { context, source }
    }
}

/// An I/O error as Docker's messages give it: the system's words in
/// lower case ("no space left on device"), without Rust's "(os error N)".
pub(crate) fn os_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let Some(code) = e.raw_os_error() else {
        return text;
    };
    let words = text.trim_end_matches(&format!(" (os error {code})"));
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

impl From<ShimClientError> for EngineError {
    fn from(e: ShimClientError) -> Self {
        let msg = e.to_string();
        match e.kind() {
            ErrorKind::NotFound => EngineError::NotFound(msg),
            ErrorKind::Conflict | ErrorKind::NotRunning => EngineError::Conflict(msg),
            ErrorKind::InvalidParameter => EngineError::InvalidParameter(msg),
            ErrorKind::Internal => EngineError::Internal(msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_dockers() {
        let full = EngineError::io("writing the record")(std::io::Error::from_raw_os_error(28));
        assert_eq!(
            full.to_string(),
            "writing the record: no space left on device"
        );
        let other = EngineError::io("reading")(std::io::Error::other("Bad thing"));
        assert_eq!(other.to_string(), "reading: Bad thing");
    }
}
