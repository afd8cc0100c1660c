//! Vessel's Linux compute system, the parts every caller shares: where a
//! container's files live, its records, its logs, the bundle it runs from,
//! and the protocol and client of its shim. The shim itself (which links
//! libcontainer) is `vessel-shim`.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod client;
pub mod frame;
pub mod in_root;
pub mod launch;
pub mod layout;
pub mod logs;
pub mod mountinfo;
pub mod procs;
pub mod protocol;
pub mod record;
pub mod resources;
pub mod users;

pub use client::{ShimClient, ShimClientError};
pub use layout::ContainerDir;
pub use protocol::{ContainerState, ErrorKind, ExitStatus, RemoteError, Request, Response, Status};
