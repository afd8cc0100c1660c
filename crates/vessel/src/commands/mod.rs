//! One module per command group.

mod hcs;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Windows: build the HCS schema-v1 documents for a spec.
    #[command(subcommand)]
    Hcs(hcs::HcsCommand),
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Hcs(cmd) => hcs::run(cmd),
    }
}
