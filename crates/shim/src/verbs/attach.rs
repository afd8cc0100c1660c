//! `attach`: stream a process's output on the connection, and feed its
//! stdin from it.

use vessel_runtime::protocol::Response;

use super::{Feed, Reply};
use crate::error::ShimError;
use crate::shim_state::ShimState;

pub fn attach(state: &mut ShimState, process: &str, feed: Feed) -> Result<Reply, ShimError> {
    let p = state.process(process)?;
    Ok(Reply::Attach {
        response: Response::Ok,
        process: process.to_string(),
        feed: if p.stdin.is_some() { feed } else { Feed::No },
    })
}
