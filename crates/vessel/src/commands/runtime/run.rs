//! `vessel runtime run`: create, attach, start, wait, delete; exit with
//! the container's exit code.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use vessel_runtime::protocol::INIT;
use vessel_runtime::{ContainerDir, Request, Response, ShimClient};

use super::stream::{forward_signals, pump, terminal_size, RawTerminal};

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
    super::create::spawn(root, &args.id, &args.bundle, true)?;
    let result = attach_and_start(root, &args.id, &args.bundle);
    if !args.keep {
        if let Err(e) = super::delete::remove(root, &args.id, true) {
            eprintln!("vessel: {e:#}");
        }
    }
    super::exit_with(result?)
}

fn attach_and_start(root: &Path, id: &str, bundle: &Path) -> anyhow::Result<i32> {
    let cdir = ContainerDir::new(root, id);
    let mut control = ShimClient::connect(&cdir.socket())?;
    let mut attach = ShimClient::connect(&cdir.socket())?;
    attach.call(&Request::Attach {
        process: INIT.into(),
        stdin: true,
    })?;
    let (output, input) = attach.into_stream();
    let tty = bundle_terminal(bundle);
    forward_signals(root, id, INIT, tty);
    let _raw = if tty { RawTerminal::enter() } else { None };
    control.call(&Request::Start)?;
    if tty {
        if let Some((width, height)) = terminal_size() {
            let _ = control.call(&Request::Resize {
                process: INIT.into(),
                width,
                height,
            });
        }
    }
    pump(output, input, true)?;
    match control.call(&Request::Wait {
        process: INIT.into(),
    })? {
        Response::Exited(exit) => Ok(exit.code),
        _ => bail!("the shim answered wait with something else"),
    }
}

/// Whether the runtime bundle asks for a terminal.
fn bundle_terminal(bundle: &Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|s| s.pointer("/process/terminal").and_then(|t| t.as_bool()))
        .unwrap_or(false)
}
