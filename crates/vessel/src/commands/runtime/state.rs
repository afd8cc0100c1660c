//! `vessel runtime state`: from the shim, or from disk when it is gone.

use std::path::Path;

use vessel_runtime::protocol::{ContainerState, ExitStatus, Status};
use vessel_runtime::record::read_json;
use vessel_runtime::{ContainerDir, Request, Response, ShimClient};

pub fn state(root: &Path, id: &str) -> anyhow::Result<()> {
    let state = read(root, id)?;
    println!("{}", serde_json::to_string_pretty(&state)?);
    Ok(())
}

/// The state of container `id`: the shim's word, else the records.
pub fn read(root: &Path, id: &str) -> anyhow::Result<ContainerState> {
    vessel_runtime::layout::validate_id(id).map_err(anyhow::Error::msg)?;
    let cdir = ContainerDir::new(root, id);
    if let Ok(mut client) = ShimClient::connect(&cdir.socket()) {
        if let Ok(Response::State(s)) = client.call(&Request::State) {
            return Ok(s);
        }
    }
    let Some(mut state) = read_json::<ContainerState>(&cdir.state())? else {
        anyhow::bail!("container {id}: no such container in {}", root.display());
    };
    // No shim: whatever the record says, nothing is running.
    state.exit = read_json::<ExitStatus>(&cdir.exit())?;
    state.status = Status::Stopped;
    state.pid = 0;
    Ok(state)
}
