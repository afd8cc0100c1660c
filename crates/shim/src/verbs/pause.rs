//! `pause`: freeze every process of the container.

use vessel_runtime::protocol::Response;
use vessel_runtime::Status;

use super::internal;
use crate::server::{Reply, Shim};
use crate::state::{check, Verb};

pub fn pause(shim: &mut Shim) -> Reply {
    if let Err(e) = check(&shim.id, shim.status, Verb::Pause) {
        return e.into();
    }
    if let Err(e) = shim.container.pause() {
        return internal("freezing the container", e).into();
    }
    shim.status = Status::Paused;
    shim.save_state();
    Reply::Now(Response::Ok)
}
