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
    /// A result for programs: what a push made.
    pub aux: Option<PushResult>,
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
    pub fn aux(value: PushResult) -> Self {
        Progress {
            aux: Some(value),
            ..Self::status("")
        }
    }
}

/// A push's result as Docker's stream gives it (`aux`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PushResult {
    pub tag: String,
    pub digest: String,
    pub size: usize,
}

/// Where progress goes.
pub type Events = tokio::sync::mpsc::UnboundedSender<Progress>;
