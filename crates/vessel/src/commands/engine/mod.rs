//! The docker-like commands: clients of vesseld's API.

mod archive;
mod attach;
mod containers;
mod copy;
mod disk;
mod exec;
mod format;
mod health;
mod images;
mod info;
mod limits;
mod login;
mod mounts;
mod names;
mod networks;
mod observe;
mod ports;
mod process;
mod prune;
mod ps;
mod registry;
mod run;
mod security;
mod template;
mod usage;
mod volumes;

use anyhow::Context;
use clap::Subcommand;

use crate::api_client::Client;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum EngineCommand {
    /// Import a rootfs tarball (docker export format) as an image.
    Import(images::ImportArgs),
    /// List images.
    Images(images::ImagesArgs),
    /// Download an image from a registry.
    Pull(registry::PullArgs),
    /// Manage images (`prune`).
    #[command(subcommand)]
    Image(disk::ImageCommand),
    /// Show what the daemon says of itself and its host.
    Info,
    /// Show the daemon's version.
    Version,
    /// Manage containers (`prune`).
    #[command(subcommand)]
    Container(prune::ContainerCommand),
    /// The engine as a whole (`df`).
    #[command(subcommand)]
    System(disk::SystemCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(networks::NetworkCommand),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(volumes::VolumeCommand),
    /// Show a container's published ports.
    Port(networks::PortArgs),
    /// Upload an image to a registry.
    Push(registry::PushArgs),
    /// Check credentials with a registry and keep them.
    Login(login::LoginArgs),
    /// Forget a registry's credentials.
    Logout(login::LogoutArgs),
    /// Write images to a tar archive (Docker's format and an OCI layout).
    Save(archive::SaveArgs),
    /// Load images from a tar archive (docker save's, or an OCI layout).
    Load(archive::LoadArgs),
    /// Make an image of a container's changes.
    Commit(archive::CommitArgs),
    /// Write a container's filesystem as a tar archive.
    Export(archive::ExportArgs),
    /// Copy files between a container and the host.
    Cp(copy::CpArgs),
    /// Show what a container changed in its filesystem.
    Diff(archive::DiffArgs),
    /// Remove images.
    Rmi(images::RmiArgs),
    /// Give an image another name.
    Tag(images::TagArgs),
    /// Show how an image was made.
    History(images::HistoryArgs),
    /// Create a container.
    Create(Box<run::CreateArgs>),
    /// Start stopped containers.
    Start(containers::StartArgs),
    /// Create and start a container (attached unless -d).
    Run(Box<run::RunArgs>),
    /// Run a command in a running container.
    Exec(exec::ExecArgs),
    /// Attach to a running container's output (and stdin).
    Attach(attach::AttachArgs),
    /// Stop running containers (SIGTERM, then SIGKILL).
    Stop(containers::StopArgs),
    /// Restart containers.
    Restart(containers::StopArgs),
    /// Send a signal to containers.
    Kill(containers::KillArgs),
    /// Freeze every process of containers.
    Pause(containers::NamesArgs),
    /// Thaw paused containers.
    Unpause(containers::NamesArgs),
    /// Remove containers.
    Rm(containers::RmArgs),
    /// Wait for containers to stop; print their exit codes.
    Wait(containers::NamesArgs),
    /// List containers.
    Ps(ps::PsArgs),
    /// Show containers' records (or images').
    Inspect(observe::InspectArgs),
    /// Show a container's output.
    Logs(observe::LogsArgs),
    /// Stream the engine's events.
    Events(observe::EventsArgs),
    /// Show a container's processes.
    Top(usage::TopArgs),
    /// Show containers' resource usage.
    Stats(usage::StatsArgs),
    /// Change containers' resource limits.
    Update(usage::UpdateArgs),
    /// Rename a container.
    Rename(containers::RenameArgs),
}

/// Runs one command against the daemon at `host`.
pub fn run(host: &str, command: EngineCommand) -> anyhow::Result<()> {
    let client = Client::new(host)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match command {
            EngineCommand::Import(a) => images::import(&client, a).await,
            EngineCommand::Images(a) => images::images(&client, a).await,
            EngineCommand::Pull(a) => registry::pull(&client, a).await,
            EngineCommand::Image(c) => disk::image(&client, c).await,
            EngineCommand::Info => info::info(&client).await,
            EngineCommand::Version => info::version(&client).await,
            EngineCommand::Container(c) => prune::container(&client, c).await,
            EngineCommand::System(c) => disk::system(&client, c).await,
            EngineCommand::Network(c) => networks::network(&client, c).await,
            EngineCommand::Volume(c) => volumes::volume(&client, c).await,
            EngineCommand::Port(a) => networks::port(&client, a).await,
            EngineCommand::Push(a) => registry::push(&client, a).await,
            EngineCommand::Login(a) => login::login(&client, a).await,
            EngineCommand::Logout(a) => login::logout(a).await,
            EngineCommand::Save(a) => archive::save(&client, a).await,
            EngineCommand::Load(a) => archive::load(&client, a).await,
            EngineCommand::Commit(a) => archive::commit(&client, a).await,
            EngineCommand::Export(a) => archive::export(&client, a).await,
            EngineCommand::Cp(a) => copy::cp(&client, a).await,
            EngineCommand::Diff(a) => archive::diff(&client, a).await,
            EngineCommand::Rmi(a) => images::rmi(&client, a).await,
            EngineCommand::Tag(a) => images::tag(&client, a).await,
            EngineCommand::History(a) => images::history(&client, a).await,
            EngineCommand::Create(a) => run::create(&client, *a).await,
            EngineCommand::Start(a) => containers::start(&client, a).await,
            EngineCommand::Run(a) => run::run(&client, *a).await,
            EngineCommand::Exec(a) => exec::exec(&client, a).await,
            EngineCommand::Attach(a) => attach::attach(&client, a).await,
            EngineCommand::Stop(a) => containers::stop(&client, a, "stop").await,
            EngineCommand::Restart(a) => containers::stop(&client, a, "restart").await,
            EngineCommand::Kill(a) => containers::kill(&client, a).await,
            EngineCommand::Pause(a) => containers::simple(&client, a, "pause").await,
            EngineCommand::Unpause(a) => containers::simple(&client, a, "unpause").await,
            EngineCommand::Rm(a) => containers::rm(&client, a).await,
            EngineCommand::Wait(a) => containers::wait(&client, a).await,
            EngineCommand::Ps(a) => ps::ps(&client, a).await,
            EngineCommand::Inspect(a) => observe::inspect(&client, a).await,
            EngineCommand::Logs(a) => observe::logs(&client, a).await,
            EngineCommand::Events(a) => observe::events(&client, a).await,
            EngineCommand::Top(a) => usage::top(&client, a).await,
            EngineCommand::Stats(a) => usage::stats(&client, a).await,
            EngineCommand::Update(a) => usage::update(&client, a).await,
            EngineCommand::Rename(a) => containers::rename(&client, a).await,
        }
    })
}

/// The daemon's containers (running ones, or `all`), newest first;
/// `filters` are docker's `KEY=VALUE` ones.
pub async fn list_containers(
    client: &Client,
    all: bool,
    filters: &[String],
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut path = format!("/containers/json?all={}", all as u8);
    if !filters.is_empty() {
        path.push_str(&format!("&filters={}", filters_query(filters)?));
    }
    let list = client.json("GET", &path, None).await?;
    Ok(list.as_array().cloned().unwrap_or_default())
}

/// `--WHAT KEY=VALUE`s as a JSON object (`--opt`, `--label`, `--sysctl`).
pub fn pairs(
    list: &[String],
    what: &str,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    list.iter()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("--{what} {kv:?}: not KEY=VALUE"))?;
            Ok((k.to_string(), serde_json::json!(v)))
        })
        .collect()
}

/// `--filter KEY=VALUE`s as the API's `filters` query value, encoded.
pub fn filters_query(filters: &[String]) -> anyhow::Result<String> {
    let mut by_key = serde_json::Map::new();
    for f in filters {
        let (k, v) = f
            .split_once('=')
            .with_context(|| format!("--filter {f:?}: not KEY=VALUE"))?;
        let values = by_key.entry(k).or_insert_with(|| serde_json::json!([]));
        if let Some(values) = values.as_array_mut() {
            values.push(v.into());
        }
    }
    Ok(enc(&serde_json::Value::Object(by_key).to_string()))
}

/// `inspect` of objects by name: each read at `{prefix}/{name}`, then
/// shown as [`print_inspected`] shows them.
pub async fn inspect_named(
    client: &Client,
    prefix: &str,
    names: &[String],
    format: Option<&str>,
) -> anyhow::Result<()> {
    let mut out = Vec::new();
    for n in names {
        out.push(
            client
                .json("GET", &format!("{prefix}/{}", enc(n)), None)
                .await?,
        );
    }
    print_inspected(&out, format)
}

/// Prints what `inspect` shows of `objects`: pretty JSON, or `format`
/// (a template, or `json`) over each.
pub fn print_inspected(objects: &[serde_json::Value], format: Option<&str>) -> anyhow::Result<()> {
    match format {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(objects)?),
        Some(t) => {
            let t = format::Template::parse(t)?;
            for v in objects {
                println!("{}", t.render(v));
            }
        }
    }
    Ok(())
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Errors of several names are reported one per line; the command fails
/// if any did.
pub fn report(errors: Vec<String>) -> anyhow::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    for e in &errors[..errors.len() - 1] {
        eprintln!("{e}");
    }
    Err(anyhow::anyhow!(errors.last().cloned().unwrap_or_default()))
}
