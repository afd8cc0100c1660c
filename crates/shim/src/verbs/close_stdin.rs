//! `close_stdin`: the process reads end-of-file.

use vessel_runtime::protocol::Response;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::ShimState;

pub fn close_stdin(state: &mut ShimState, process: &str) -> Result<Reply, ShimError> {
    state.process_mut(process)?.close_stdin();
    Ok(Reply::Now(Response::Ok))
}
