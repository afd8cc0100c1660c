//! `start`: run the container's first process. A failed start terminates
//! and deletes the container, as Docker does on every failure path.

use vessel_runtime::protocol::Response;

use super::internal;
use crate::server::{Reply, Shim};
use crate::state::{check, Verb};

pub fn start(shim: &mut Shim) -> Reply {
    if let Err(e) = check(&shim.id, shim.status, Verb::Start) {
        return e.into();
    }
    if let Err(e) = shim.container.start() {
        tracing::error!(container = %shim.id, error = %e, "start failed; removing the container");
        let err = internal("starting the container", e);
        super::delete::abandon(shim);
        return err.into();
    }
    shim.status = vessel_runtime::Status::Running;
    shim.save_state();
    Reply::Now(Response::Ok)
}
