//! `image prune` and `system df`: what images and containers keep on
//! disk, and giving it back.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::usage::scaled;
use crate::api_client::Client;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ImageCommand {
    /// Remove images no container uses (untagged ones, or all with -a).
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Every image no container uses, not only untagged ones.
    #[arg(long, short)]
    all: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    force: bool,
    /// `dangling=true|false`.
    #[arg(long)]
    filter: Vec<String>,
}

pub async fn image(client: &Client, command: ImageCommand) -> anyhow::Result<()> {
    let ImageCommand::Prune(a) = command;
    if !a.force {
        anyhow::ensure!(
            confirm(match a.all {
                true =>
                    "This will remove all images without at least one container associated to them.",
                false => "This will remove all dangling images.",
            })?,
            "not pruned"
        );
    }
    let mut filters = a.filter.clone();
    if a.all {
        filters.push("dangling=false".into());
    }
    let path = format!("/images/prune?filters={}", super::filters_query(&filters)?);
    let answer = client.json("POST", &path, None).await?;
    let reclaimed = print_deleted_images(&answer);
    println!("Total reclaimed space: {}", human(reclaimed));
    Ok(())
}

/// An image prune's answer as docker prints it; the bytes it freed.
pub(super) fn print_deleted_images(answer: &Value) -> f64 {
    let deleted = answer["ImagesDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted Images:");
        for d in deleted {
            for (k, v) in d.as_object().into_iter().flatten() {
                println!("{}: {}", k.to_lowercase(), v.as_str().unwrap_or_default());
            }
        }
        println!();
    }
    answer["SpaceReclaimed"].as_f64().unwrap_or(0.0)
}

/// Asks on the terminal, as Docker's prune does.
pub(super) fn confirm(what: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    print!("WARNING! {what}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SystemCommand {
    /// Show what images, containers and volumes keep on disk.
    Df(DfArgs),
    /// Remove stopped containers, unused networks and dangling images
    /// (every unused image with -a).
    Prune(super::prune::SystemPruneArgs),
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// `table` or `json`.
    #[arg(long)]
    format: Option<String>,
}

pub async fn system(client: &Client, command: SystemCommand) -> anyhow::Result<()> {
    let a = match command {
        SystemCommand::Df(a) => a,
        SystemCommand::Prune(a) => return super::prune::system_prune(client, a).await,
    };
    let df = client.json("GET", "/system/df", None).await?;
    let rows = [
        images(&df),
        containers(&df),
        empty("Local Volumes"),
        empty("Build Cache"),
    ];
    match a.format.as_deref() {
        Some("json") | Some("{{json .}}") => {
            for r in rows {
                println!(
                    "{}",
                    serde_json::json!({
                        "Active": r.active.to_string(), "Reclaimable": r.reclaimable,
                        "Size": r.size, "TotalCount": r.total.to_string(), "Type": r.kind,
                    })
                );
            }
        }
        None | Some("table") => {
            println!(
                "{:<16}{:<10}{:<10}{:<10}RECLAIMABLE",
                "TYPE", "TOTAL", "ACTIVE", "SIZE"
            );
            for r in rows {
                println!(
                    "{:<16}{:<10}{:<10}{:<10}{}",
                    r.kind, r.total, r.active, r.size, r.reclaimable
                );
            }
        }
        Some(other) => anyhow::bail!("--format {other:?}: only table and json are supported"),
    }
    Ok(())
}

struct Row {
    kind: &'static str,
    total: usize,
    active: usize,
    size: String,
    reclaimable: String,
}

/// As Docker's CLI counts them: an image with a container is active; what
/// only active images hold is not reclaimable.
fn images(df: &Value) -> Row {
    let list = df["Images"].as_array().cloned().unwrap_or_default();
    let total = df["LayersSize"].as_f64().unwrap_or(0.0);
    let active: Vec<&Value> = list
        .iter()
        .filter(|i| i["Containers"].as_u64() > Some(0))
        .collect();
    let used: f64 = active
        .iter()
        .map(|i| i["Size"].as_f64().unwrap_or(0.0) - i["SharedSize"].as_f64().unwrap_or(0.0))
        .sum();
    Row {
        kind: "Images",
        total: list.len(),
        active: active.len(),
        size: human(total),
        reclaimable: share(total - used, total),
    }
}

fn containers(df: &Value) -> Row {
    let list = df["Containers"].as_array().cloned().unwrap_or_default();
    let size = |c: &Value| c["SizeRw"].as_f64().unwrap_or(0.0);
    let running = |c: &&Value| matches!(c["State"].as_str(), Some("running" | "paused"));
    let total: f64 = list.iter().map(size).sum();
    let idle: f64 = list.iter().filter(|c| !running(c)).map(size).sum();
    Row {
        kind: "Containers",
        total: list.len(),
        active: list.iter().filter(running).count(),
        size: human(total),
        reclaimable: share(idle, total),
    }
}

fn empty(kind: &'static str) -> Row {
    Row {
        kind,
        total: 0,
        active: 0,
        size: human(0.0),
        reclaimable: human(0.0),
    }
}

/// `300kB (75%)`
fn share(part: f64, total: f64) -> String {
    match total > 0.0 {
        true => format!("{} ({}%)", human(part), (part * 100.0 / total) as i64),
        false => human(part),
    }
}

/// Docker's `units.BytesSize`: binary units, four significant digits.
pub(super) fn human_binary(v: f64) -> String {
    scaled(
        v,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
        4,
    )
}

/// Docker's `units.HumanSize`: decimal units, four significant digits.
pub(super) fn human(v: f64) -> String {
    scaled(v, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"], 4)
}
