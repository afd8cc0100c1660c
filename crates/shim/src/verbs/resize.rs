//! `resize`: a process's terminal size.

use std::os::fd::AsFd;

use vessel_runtime::protocol::Response;

use super::Reply;
use crate::error::ShimError;
use crate::shim_state::ShimState;

pub fn resize(
    state: &mut ShimState,
    process: &str,
    width: u16,
    height: u16,
) -> Result<Reply, ShimError> {
    let p = state.process(process)?;
    let Some(master) = p.pty.as_ref().filter(|_| !p.finished) else {
        return Err(ShimError::NoTerminal(process.to_string()));
    };
    crate::console::resize(master.as_fd(), width, height)
        .map_err(ShimError::internal("resizing the terminal"))?;
    Ok(Reply::Now(Response::Ok))
}
