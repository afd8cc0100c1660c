//! `wait`: answered when the process has exited and its output is drained.

use vessel_runtime::protocol::Response;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::{ConnId, ShimState};

pub fn wait(state: &mut ShimState, conn: ConnId, process: &str) -> Result<Reply, ShimError> {
    let p = state.process_mut(process)?;
    if p.finished {
        let exit = p.exit.clone().expect("finished means exited");
        return Ok(Reply::Now(Response::Exited(exit)));
    }
    p.waiters.push(conn);
    Ok(Reply::Later)
}
