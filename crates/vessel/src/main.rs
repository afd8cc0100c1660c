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

/// `vessel runtime ...` on its own. Building the whole command tree (every
/// engine and HCS command) takes about 0.4 ms, a twentieth of a runtime
/// `run`; this tree has the runtime's commands only.
#[derive(Debug, Parser)]
#[command(name = "vessel")]
struct RuntimeCli {
    #[command(subcommand)]
    command: RuntimeOnly,
}

#[derive(Debug, clap::Subcommand)]
enum RuntimeOnly {
    Runtime(commands::runtime::RuntimeArgs),
}

fn main() -> ExitCode {
    let result = match parse_runtime() {
        Some(RuntimeCli {
            command: RuntimeOnly::Runtime(args),
        }) => commands::runtime::run(args),
        None => {
            let cli = Cli::parse();
            commands::run(&cli.host, cli.command)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vessel: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A runtime command line, parsed by [`RuntimeCli`]. Anything else, help
/// and every mistake included, is left to the whole tree, so that what
/// the user sees is the same either way.
fn parse_runtime() -> Option<RuntimeCli> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_none_or(|a| a != "runtime") {
        return None;
    }
    RuntimeCli::try_parse_from(args).ok()
}
