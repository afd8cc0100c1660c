//! One module per command group.

mod hcs;
mod runtime;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Windows: build the HCS schema-v1 documents for a spec.
    #[command(subcommand)]
    Hcs(hcs::HcsCommand),
    /// Run OCI bundles directly, one shim per container (no daemon).
    Runtime(runtime::RuntimeArgs),
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Hcs(cmd) => hcs::run(cmd),
        Command::Runtime(args) => runtime::run(args),
    }
}
