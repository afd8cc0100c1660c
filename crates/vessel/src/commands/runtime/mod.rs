//! `vessel runtime ...`: an OCI-runtime-style surface over the shims.
//! One file per verb; each talks to the container's shim.

mod create;
mod delete;
mod exec;
mod kill;
mod list;
mod pause;
mod ps;
mod resume;
mod run;
mod start;
mod state;
mod stats;
mod stop;
pub(crate) mod stream;
mod update;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use vessel_runtime::layout::DEFAULT_ROOT;
use vessel_runtime::{ContainerDir, Request, Response, ShimClient};

#[derive(Debug, Args)]
pub struct RuntimeArgs {
    /// Where containers' state lives.
    #[arg(long, global = true, default_value = DEFAULT_ROOT)]
    root: PathBuf,
    #[command(subcommand)]
    command: RuntimeCommand,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum RuntimeCommand {
    /// Create and start a container, attached; exit with its exit code.
    Run(run::RunArgs),
    /// Create a container (its first process waits for `start`).
    Create(create::CreateArgs),
    /// Start a created container.
    Start { id: String },
    /// Run a command in a running container, attached.
    Exec(exec::ExecArgs),
    /// Stop a container: SIGTERM, then SIGKILL after a timeout; prints the
    /// exit code.
    Stop(stop::StopArgs),
    /// Send a signal (default SIGTERM).
    Kill(kill::KillArgs),
    /// Freeze every process of a container.
    Pause { id: String },
    /// Thaw a paused container.
    Resume { id: String },
    /// Print a container's state as JSON.
    State { id: String },
    /// List a container's processes.
    Ps { id: String },
    /// Print a container's resource usage as JSON.
    Stats { id: String },
    /// Change a container's resource limits.
    Update(update::UpdateArgs),
    /// Delete a container (a running one needs --force).
    Delete(delete::DeleteArgs),
    /// List containers.
    List,
}

pub fn run(args: RuntimeArgs) -> anyhow::Result<()> {
    let root = args.root;
    match args.command {
        RuntimeCommand::Run(a) => run::run(&root, a),
        RuntimeCommand::Create(a) => create::create(&root, a),
        RuntimeCommand::Start { id } => start::start(&root, &id),
        RuntimeCommand::Exec(a) => exec::exec(&root, a),
        RuntimeCommand::Stop(a) => stop::stop(&root, a),
        RuntimeCommand::Kill(a) => kill::kill(&root, a),
        RuntimeCommand::Pause { id } => pause::pause(&root, &id),
        RuntimeCommand::Resume { id } => resume::resume(&root, &id),
        RuntimeCommand::State { id } => state::state(&root, &id),
        RuntimeCommand::Ps { id } => ps::ps(&root, &id),
        RuntimeCommand::Stats { id } => stats::stats(&root, &id),
        RuntimeCommand::Update(a) => update::update(&root, a),
        RuntimeCommand::Delete(a) => delete::delete(&root, a),
        RuntimeCommand::List => list::list(&root),
    }
}

/// The directory of an existing container `id`.
fn container_dir(root: &Path, id: &str) -> anyhow::Result<ContainerDir> {
    vessel_runtime::layout::validate_id(id).map_err(anyhow::Error::msg)?;
    let cdir = ContainerDir::new(root, id);
    if !cdir.path().exists() {
        anyhow::bail!("container {id}: no such container in {}", root.display());
    }
    Ok(cdir)
}

/// Connects to container `id`'s shim.
fn connect(root: &Path, id: &str) -> anyhow::Result<ShimClient> {
    let cdir = container_dir(root, id)?;
    ShimClient::connect(&cdir.socket()).with_context(|| format!("container {id}"))
}

/// Sends one request to container `id`'s shim.
fn call(root: &Path, id: &str, request: &Request) -> anyhow::Result<Response> {
    Ok(connect(root, id)?.call(request)?)
}

/// Exits this process with `code` (a container's exit code).
fn exit_with(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}
