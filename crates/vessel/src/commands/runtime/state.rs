//! `vessel runtime state`: from the shim, or from disk when it is gone.

use std::path::Path;

use vessel_runtime::protocol::{ContainerState, ExitStatus, Status};
use vessel_runtime::record::read_json;
use vessel_runtime::{Request, Response, ShimClient};

pub fn state(root: &Path, id: &str) -> anyhow::Result<()> {
    let state = read(root, id)?;
    println!("{}", serde_json::to_string_pretty(&state)?);
    Ok(())
}

/// The state of container `id`: the shim's word, else the records.
pub fn read(root: &Path, id: &str) -> anyhow::Result<ContainerState> {
    let cdir = super::container_dir(root, id)?;
    if let Ok(mut client) = ShimClient::connect(&cdir.socket()) {
        if let Ok(Response::State(s)) = client.call(&Request::State) {
            return Ok(s);
        }
    }
    let Some(mut state) = read_json::<ContainerState>(&cdir.state())? else {
        anyhow::bail!(
            "container {id}: no state recorded in {}",
            cdir.path().display()
        );
    };
    // No shim: whatever the record says, nothing is running.
    state.exit = read_json::<ExitStatus>(&cdir.exit())?;
    state.status = Status::Stopped;
    state.pid = 0;
    Ok(state)
}
