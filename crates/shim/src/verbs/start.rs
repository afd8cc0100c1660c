//! `start`: run the container's first process. A failed start terminates
//! and deletes the container, as Docker does on every failure path.

use vessel_runtime::protocol::Response;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::ShimState;
use crate::state::{check, Verb};

pub fn start(state: &mut ShimState) -> Result<Reply, ShimError> {
    check(&state.id, state.status, Verb::Start)?;
    if let Err(e) = state.container.start() {
        tracing::error!(container = %state.id, error = %e, "start failed; removing the container");
        let err = ShimError::internal("starting the container")(e);
        super::delete::abandon(state);
        return Err(err);
    }
    state.status = vessel_runtime::Status::Running;
    state.save_state();
    Ok(Reply::Now(Response::Ok))
}
