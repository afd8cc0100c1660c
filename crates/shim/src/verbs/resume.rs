//! `resume`: thaw a paused container.

use vessel_runtime::protocol::Response;
use vessel_runtime::Status;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::ShimState;
use crate::state::{check, Verb};

pub fn resume(state: &mut ShimState) -> Result<Reply, ShimError> {
    check(&state.id, state.status, Verb::Resume)?;
    state
        .container
        .resume()
        .map_err(ShimError::internal("thawing the container"))?;
    state.status = if state.init.running() {
        Status::Running
    } else {
        Status::Stopped
    };
    state.save_state();
    Ok(Reply::Now(Response::Ok))
}
