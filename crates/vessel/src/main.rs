//! `vessel`: the command line. It parses arguments and hands each command
//! to the library crate that does the work.
#![forbid(unsafe_code)]

mod api_client;
mod commands;

use std::process::ExitCode;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "vessel", version, about = "A container engine")]
struct Cli {
    /// The daemon's socket.
    #[arg(long, short = 'H', global = true, env = "VESSEL_HOST", default_value = api_client::DEFAULT_HOST)]
    host: String,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(&cli.host, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vessel: {err:#}");
            ExitCode::FAILURE
        }
    }
}
