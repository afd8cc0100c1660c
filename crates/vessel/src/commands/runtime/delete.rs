//! `vessel runtime delete`.

use std::path::Path;

use clap::Args;
use vessel_runtime::launch::{shim_path, CreateRequest};
use vessel_runtime::{Request, ShimClient};

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Kill the container first if it is running.
    #[arg(long, short)]
    force: bool,
    id: String,
}

pub fn delete(root: &Path, args: DeleteArgs) -> anyhow::Result<()> {
    remove(root, &args.id, args.force)
}

/// Deletes container `id` through its shim; a container whose shim is gone
/// is cleaned up by a shim started for just that.
pub fn remove(root: &Path, id: &str, force: bool) -> anyhow::Result<()> {
    let cdir = super::container_dir(root, id)?;
    match ShimClient::connect(&cdir.socket()) {
        Ok(mut client) => {
            client.call(&Request::Delete { force })?;
            Ok(())
        }
        Err(_) => {
            let req = CreateRequest {
                id: id.to_string(),
                root: root.to_path_buf(),
                bundle: Default::default(),
                open_stdin: false,
                log: None,
                no_log: false,
                log_rotation: None,
                start: None,
                foreground: None,
            };
            let status = std::process::Command::new(shim_path())
                .arg("--cleanup")
                .arg(serde_json::to_string(&req)?)
                .status()?;
            anyhow::ensure!(
                status.success(),
                "container {id}: cleaning up after its shim failed"
            );
            Ok(())
        }
    }
}
