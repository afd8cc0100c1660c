//! One module per command group.

mod engine;
mod hcs;
pub(crate) mod runtime;

use clap::Subcommand;

/// Every subcommand enum here is `defer`red: clap builds the arguments of
/// the command being run only, not of all of them (0.4 ms of every start
/// of `vessel`, a third of its CPU time).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Windows: build the HCS schema-v1 documents for a spec.
    #[command(subcommand)]
    Hcs(hcs::HcsCommand),
    /// Run OCI bundles directly, one shim per container (no daemon).
    Runtime(runtime::RuntimeArgs),
    #[command(flatten)]
    Engine(engine::EngineCommand),
}

pub fn run(host: &str, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Hcs(cmd) => hcs::run(cmd),
        Command::Runtime(args) => runtime::run(args),
        Command::Engine(cmd) => engine::run(host, cmd),
    }
}
