//! Progress of a pull or a push, line by line as Docker's JSON stream
//! has it.

/// One line of progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub status: String,
    /// The layer (12 digits of its digest) or the tag.
    pub id: Option<String>,
    /// Bytes done and in all (`Downloading`, `Pushing`).
    pub current: Option<(u64, u64)>,
    /// A result for programs (a push's tag, digest and size).
    pub aux: Option<serde_json::Value>,
}

impl Progress {
    /// A line of its own.
    pub fn status(status: impl Into<String>) -> Self {
        Progress {
            status: status.into(),
            id: None,
            current: None,
            aux: None,
        }
    }

    /// A line about `id`.
    pub fn of(id: &str, status: impl Into<String>) -> Self {
        Progress {
            id: Some(id.to_string()),
            ..Self::status(status)
        }
    }

    /// How far `id` has got.
    pub fn bytes(id: &str, status: &str, done: u64, total: u64) -> Self {
        Progress {
            current: Some((done, total)),
            ..Self::of(id, status)
        }
    }

    /// A result for programs.
    pub fn aux(value: serde_json::Value) -> Self {
        Progress {
            aux: Some(value),
            ..Self::status("")
        }
    }
}

/// Where progress goes.
pub type Events = tokio::sync::mpsc::UnboundedSender<Progress>;
