//! `resume`: thaw a paused container.

use vessel_runtime::protocol::Response;
use vessel_runtime::Status;

use super::internal;
use crate::server::{Reply, Shim};
use crate::state::{check, Verb};

pub fn resume(shim: &mut Shim) -> Reply {
    if let Err(e) = check(&shim.id, shim.status, Verb::Resume) {
        return e.into();
    }
    if let Err(e) = shim.container.resume() {
        return internal("thawing the container", e).into();
    }
    shim.status = if shim.init.running() {
        Status::Running
    } else {
        Status::Stopped
    };
    shim.save_state();
    Reply::Now(Response::Ok)
}
