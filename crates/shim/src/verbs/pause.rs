//! `pause`: freeze every process of the container.

use vessel_runtime::protocol::Response;
use vessel_runtime::Status;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::ShimState;
use crate::state::{check, Verb};

pub fn pause(state: &mut ShimState) -> Result<Reply, ShimError> {
    check(&state.id, state.status, Verb::Pause)?;
    state
        .container
        .pause()
        .map_err(ShimError::internal("freezing the container"))?;
    state.status = Status::Paused;
    state.save_state();
    Ok(Reply::Now(Response::Ok))
}
