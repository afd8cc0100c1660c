//! `vessel runtime run`: create and start a container in the foreground,
//! attached; delete it once it exits (unless `--keep`), and exit with its
//! exit code.

use std::path::{Path, PathBuf};

use clap::Args;
use vessel_runtime::launch::Foreground;
use vessel_runtime::protocol::INIT;
use vessel_runtime::{ContainerDir, Request, ShimClient};

use super::stream::{follow_run, terminal_size, RawTerminal};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The OCI bundle (holds config.json).
    #[arg(long, short, default_value = ".")]
    bundle: PathBuf,
    /// Keep the container after it exits.
    #[arg(long)]
    keep: bool,
    id: String,
}

pub fn run(root: &Path, args: RunArgs) -> anyhow::Result<()> {
    let tty = bundle_terminal(&args.bundle);
    // Raw before the process starts, so that none of its output is cooked.
    let raw = if tty { RawTerminal::enter() } else { None };
    let result = run_attached(root, &args, tty);
    drop(raw);
    super::exit_with(result?)
}

/// The shim starts the process as soon as the container exists, streams
/// its output on the socket it answered on, and deletes the container
/// after the exit it ends the stream with.
fn run_attached(root: &Path, args: &RunArgs, tty: bool) -> anyhow::Result<i32> {
    let foreground = Foreground { keep: args.keep };
    let stream = super::create::spawn(root, &args.id, &args.bundle, true, Some(foreground))?;
    if tty {
        if let Some((width, height)) = terminal_size() {
            let resize = Request::Resize {
                process: INIT.into(),
                width,
                height,
            };
            let socket = ContainerDir::new(root, &args.id).socket();
            let _ = ShimClient::connect(&socket).and_then(|mut c| c.call(&resize));
        }
    }
    Ok(follow_run(stream, root, &args.id, tty)?.code)
}

/// Whether the runtime bundle asks for a terminal.
fn bundle_terminal(bundle: &Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|s| s.pointer("/process/terminal").and_then(|t| t.as_bool()))
        .unwrap_or(false)
}
