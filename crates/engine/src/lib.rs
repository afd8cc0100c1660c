//! The daemon side of Vessel (`vesseld`): the engine that keeps container
//! records, images and events, drives containers through the runtime
//! client (libcontainerd's verbs over `vessel-shim`), and serves the
//! Docker Engine API.
//!
//! One `unsafe` call, fenced in `api::conn` (a socket ioctl std and
//! rustix do not wrap); everything else is safe code.

// `info`'s answer is one `json!` deeper than the macro's default limit.
#![recursion_limit = "256"]

pub mod api;
pub mod archive;
pub mod container;
pub mod daemon;
pub mod error;
pub mod etc;
pub mod events;
pub mod image;
pub mod init;
pub mod lookup;
pub mod network;
pub mod paths;
pub mod queue;
pub mod runtime;
pub mod spec;
pub mod stats;
pub mod volume;

pub use daemon::Daemon;
pub use error::{EngineError, Result};
pub use paths::Paths;

/// Bytes in lowercase hex (digests, ids).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
