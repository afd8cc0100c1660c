//! `vessel runtime exec`: run a command in a running container, attached;
//! exit with its exit code.

use std::path::Path;

use anyhow::bail;
use clap::Args;
use vessel_runtime::protocol::{ConsoleSize, ProcessSpec};
use vessel_runtime::{Request, Response};

use super::stream::{forward_signals, pump, terminal_size, RawTerminal};

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Give the command a terminal.
    #[arg(long, short)]
    tty: bool,
    /// Environment variables (KEY=value).
    #[arg(long, short)]
    env: Vec<String>,
    /// Working directory in the container.
    #[arg(long, short = 'w')]
    cwd: Option<String>,
    /// User: uid[:gid] or a name from the container's /etc/passwd.
    #[arg(long, short)]
    user: Option<String>,
    id: String,
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

pub fn exec(root: &Path, args: ExecArgs) -> anyhow::Result<()> {
    let exec_id = format!("exec-{}-{}", std::process::id(), nanos());
    let mut client = super::connect(root, &args.id)?;
    let _raw = if args.tty { RawTerminal::enter() } else { None };
    client.call(&Request::Exec {
        id: exec_id.clone(),
        process: ProcessSpec {
            args: args.command,
            env: args.env,
            cwd: args.cwd,
            user: args.user,
            terminal: args.tty,
            console_size: terminal_size()
                .filter(|_| args.tty)
                .map(|(width, height)| ConsoleSize { height, width }),
            capabilities: None,
        },
        attach: true,
        stdin: true,
    })?;
    forward_signals(root, &args.id, &exec_id, args.tty);
    let (output, input) = client.into_stream();
    pump(output, input, true)?;
    let code = match super::call(root, &args.id, &Request::Wait { process: exec_id })? {
        Response::Exited(exit) => exit.code,
        _ => bail!("the shim answered wait with something else"),
    };
    drop(_raw);
    super::exit_with(code)
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}
