//! `volume create|ls|inspect|rm|prune`, with docker's flags and output.

use clap::{Args, Subcommand};
use serde_json::json;

use super::{enc, filters_query, pairs};
use crate::api_client::Client;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum VolumeCommand {
    /// Create a volume.
    Create(CreateArgs),
    /// List volumes.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show volumes in detail.
    Inspect(InspectArgs),
    /// Remove volumes (not one a container uses).
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove the volumes no container uses (anonymous ones unless -a).
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The driver: only `local`.
    #[arg(long, short, default_value = "local")]
    driver: String,
    /// The volume's name (or give it as the argument).
    #[arg(long)]
    name: Option<String>,
    /// A driver option: `type=`, `device=`, `o=`.
    #[arg(long = "opt", short = 'o')]
    opt: Vec<String>,
    /// A label: KEY=VALUE.
    #[arg(long)]
    label: Vec<String>,
    volume: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only the names.
    #[arg(long, short)]
    quiet: bool,
    /// `dangling=true|false`, `driver=`, `label=`, `name=`.
    #[arg(long, short)]
    filter: Vec<String>,
    /// A template over each volume (or `json`).
    #[arg(long)]
    format: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A template over each volume (or `json`).
    #[arg(long, short)]
    format: Option<String>,
    #[arg(required = true)]
    volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// No error for a volume that is not there.
    #[arg(long, short)]
    force: bool,
    #[arg(required = true)]
    volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Named volumes too, not only anonymous ones.
    #[arg(long, short)]
    all: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    force: bool,
    /// `label=...`, `label!=...`.
    #[arg(long)]
    filter: Vec<String>,
}

pub async fn volume(client: &Client, command: VolumeCommand) -> anyhow::Result<()> {
    match command {
        VolumeCommand::Create(a) => create(client, a).await,
        VolumeCommand::Ls(a) => ls(client, a).await,
        VolumeCommand::Inspect(a) => inspect(client, a).await,
        VolumeCommand::Rm(a) => rm(client, a).await,
        VolumeCommand::Prune(a) => prune(client, a).await,
    }
}

async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<()> {
    let name = match (&a.name, &a.volume) {
        (Some(n), Some(v)) if n != v => {
            anyhow::bail!(
                "conflicting options: either specify --name or provide positional arg, not both"
            )
        }
        (Some(n), _) | (None, Some(n)) => n.clone(),
        (None, None) => String::new(),
    };
    let body = json!({
        "Name": name,
        "Driver": a.driver,
        "DriverOpts": pairs(&a.opt, "opt")?,
        "Labels": labels(&a.label),
    });
    let v = client.json("POST", "/volumes/create", Some(body)).await?;
    println!("{}", v["Name"].as_str().unwrap_or_default());
    Ok(())
}

/// `--label KEY[=VALUE]`s as docker reads them.
fn labels(list: &[String]) -> serde_json::Map<String, serde_json::Value> {
    list.iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_string(), json!(v))
        })
        .collect()
}

async fn ls(client: &Client, a: LsArgs) -> anyhow::Result<()> {
    let path = format!("/volumes?filters={}", filters_query(&a.filter)?);
    let answer = client.json("GET", &path, None).await?;
    let mut all = answer["Volumes"].as_array().cloned().unwrap_or_default();
    all.sort_by(|x, y| x["Name"].as_str().cmp(&y["Name"].as_str()));
    if let Some(t) = a.format.as_deref() {
        let t = super::format::Template::parse(t)?;
        for v in &all {
            println!("{}", t.render(v));
        }
        return Ok(());
    }
    if !a.quiet {
        println!("{:<10}VOLUME NAME", "DRIVER");
    }
    for v in all {
        let name = v["Name"].as_str().unwrap_or_default();
        match a.quiet {
            true => println!("{name}"),
            false => println!("{:<10}{name}", v["Driver"].as_str().unwrap_or_default()),
        }
    }
    Ok(())
}

async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<()> {
    super::inspect_named(client, "/volumes", &a.volumes, a.format.as_deref()).await
}

async fn rm(client: &Client, a: RmArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for n in &a.volumes {
        let path = format!("/volumes/{}?force={}", enc(n), a.force as u8);
        match client.call("DELETE", &path, None).await {
            Ok(_) => println!("{n}"),
            Err(e) => errors.push(format!("Error response from daemon: {e:#}")),
        }
    }
    super::report(errors)
}

async fn prune(client: &Client, a: PruneArgs) -> anyhow::Result<()> {
    if !a.force {
        let what = match a.all {
            true => "This will remove all local volumes not used by at least one container.",
            false => "This will remove anonymous local volumes not used by at least one container.",
        };
        anyhow::ensure!(super::disk::confirm(what)?, "not pruned");
    }
    let mut filters = a.filter.clone();
    if a.all {
        filters.push("all=true".into());
    }
    let path = format!("/volumes/prune?filters={}", filters_query(&filters)?);
    let answer = client.json("POST", &path, None).await?;
    let reclaimed = super::prune::print_list(&answer, "VolumesDeleted", "Deleted Volumes:");
    println!("Total reclaimed space: {}", super::disk::human(reclaimed));
    Ok(())
}
