//! `vessel runtime stop [-t SECS] ID`: SIGTERM, then SIGKILL once the
//! timeout has passed; returns when the container has stopped.

use std::path::Path;

use clap::Args;
use vessel_runtime::{Request, Response};

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait after SIGTERM before SIGKILL.
    #[arg(long, short, default_value_t = 10)]
    time: u64,
    id: String,
}

pub fn stop(root: &Path, args: StopArgs) -> anyhow::Result<()> {
    match super::call(
        root,
        &args.id,
        &Request::Shutdown {
            timeout_secs: args.time,
        },
    )? {
        Response::Exited(exit) => {
            println!("{}", exit.code);
            Ok(())
        }
        _ => anyhow::bail!("the shim answered shutdown with something else"),
    }
}
