//! `vessel runtime create`.

use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use clap::Args;
use vessel_runtime::launch::{self, CreateRequest, Foreground};

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The OCI bundle (holds config.json).
    #[arg(long, short, default_value = ".")]
    pub bundle: PathBuf,
    /// Give the first process a stdin to attach to (else /dev/null).
    #[arg(long, short)]
    pub interactive: bool,
    pub id: String,
}

pub fn create(root: &Path, args: CreateArgs) -> anyhow::Result<()> {
    spawn(root, &args.id, &args.bundle, args.interactive, None)?;
    Ok(())
}

/// Starts the shim (a fork of this process) and waits until the
/// container exists (and, in the foreground, runs); returns the socket the
/// shim answered on, a foreground run's attach stream. The shim is not
/// waited for: it exits once the container is deleted, and outlives this
/// process otherwise.
pub fn spawn(
    root: &Path,
    id: &str,
    bundle: &Path,
    open_stdin: bool,
    foreground: Option<Foreground>,
) -> anyhow::Result<BufReader<UnixStream>> {
    vessel_runtime::layout::validate_id(id).map_err(anyhow::Error::msg)?;
    let req = CreateRequest {
        id: id.to_string(),
        root: root.to_path_buf(),
        bundle: bundle.to_path_buf(),
        open_stdin,
        log: None,
        no_log: false,
        log_rotation: None,
        start: None,
        foreground,
    };
    Ok(vessel_shim::create_forked(&launch::shim_path(), &req)?)
}
