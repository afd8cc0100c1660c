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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(usage_exit_code(&e));
        }
    };
    match commands::run(&cli.host, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vessel: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// What a command line clap refused exits with: 0 for `--help` and
/// `--version`; 125, docker's code for its own errors, for the docker-like
/// commands; 2, clap's, for `vessel runtime` and `vessel hcs`, whose
/// callers expect an OCI runtime's and a tool's conventions.
fn usage_exit_code(e: &clap::Error) -> u8 {
    if !e.use_stderr() {
        return 0;
    }
    // The command: the first word that is neither an option nor the
    // value of --host/-H.
    let mut args = std::env::args().skip(1);
    let mut first = None;
    while let Some(a) = args.next() {
        if a == "-H" || a == "--host" {
            args.next();
        } else if !a.starts_with('-') {
            first = Some(a);
            break;
        }
    }
    match first.as_deref() {
        Some("runtime" | "hcs") => 2,
        _ => 125,
    }
}
