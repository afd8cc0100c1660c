//! `container prune` and `system prune`: removing what nothing uses.

use clap::{Args, Subcommand};

use super::disk::{confirm, human, print_deleted_images};
use super::filters_query;
use crate::api_client::Client;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ContainerCommand {
    /// Remove every stopped container.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation.
    #[arg(long, short)]
    force: bool,
    /// `until=TIME`, `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`.
    #[arg(long)]
    filter: Vec<String>,
}

pub async fn container(client: &Client, command: ContainerCommand) -> anyhow::Result<()> {
    let ContainerCommand::Prune(a) = command;
    if !a.force {
        anyhow::ensure!(
            confirm("This will remove all stopped containers.")?,
            "not pruned"
        );
    }
    let mut path = "/containers/prune".to_string();
    if !a.filter.is_empty() {
        path.push_str(&format!("?filters={}", filters_query(&a.filter)?));
    }
    let answer = client.json("POST", &path, None).await?;
    let reclaimed = print_list(&answer, "ContainersDeleted", "Deleted Containers:");
    println!("Total reclaimed space: {}", human(reclaimed));
    Ok(())
}

#[derive(Debug, Args)]
pub struct SystemPruneArgs {
    /// Every image no container uses, not only dangling ones.
    #[arg(long, short)]
    all: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    force: bool,
    /// Anonymous volumes no container uses too.
    #[arg(long)]
    volumes: bool,
    /// `until=TIME`, `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`.
    #[arg(long)]
    filter: Vec<String>,
}

/// `system prune`: the container, network and image prunes in turn, as
/// docker's does them (Vessel keeps no build cache).
pub async fn system_prune(client: &Client, a: SystemPruneArgs) -> anyhow::Result<()> {
    if !a.force {
        let images = match a.all {
            true => "all images without at least one container associated to them",
            false => "all dangling images",
        };
        let volumes = match a.volumes {
            true => "  - all anonymous volumes not used by at least one container\n",
            false => "",
        };
        let what = format!(
            "This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n{volumes}  - {images}\n  - unused build cache\n"
        );
        anyhow::ensure!(confirm(&what)?, "not pruned");
    }
    let query = |extra: &[&str]| -> anyhow::Result<String> {
        let mut filters = a.filter.clone();
        filters.extend(extra.iter().map(|f| f.to_string()));
        match filters.is_empty() {
            true => Ok(String::new()),
            false => Ok(format!("?filters={}", filters_query(&filters)?)),
        }
    };
    let containers = client
        .json("POST", &format!("/containers/prune{}", query(&[])?), None)
        .await?;
    let mut reclaimed = print_list(&containers, "ContainersDeleted", "Deleted Containers:");
    let networks = client
        .json("POST", &format!("/networks/prune{}", query(&[])?), None)
        .await?;
    print_list(&networks, "NetworksDeleted", "Deleted Networks:");
    if a.volumes {
        // Docker's takes no `until` for volumes.
        let filters: Vec<String> = a
            .filter
            .iter()
            .filter(|f| !f.starts_with("until="))
            .cloned()
            .collect();
        let path = format!("/volumes/prune?filters={}", filters_query(&filters)?);
        let volumes = client.json("POST", &path, None).await?;
        reclaimed += print_list(&volumes, "VolumesDeleted", "Deleted Volumes:");
    }
    let all: &[&str] = if a.all { &["dangling=false"] } else { &[] };
    let images = client
        .json("POST", &format!("/images/prune{}", query(all)?), None)
        .await?;
    reclaimed += print_deleted_images(&images);
    println!("Total reclaimed space: {}", human(reclaimed));
    Ok(())
}

/// The ids or names under `key` of a prune's answer, under `title`; the
/// bytes it freed.
pub(super) fn print_list(answer: &serde_json::Value, key: &str, title: &str) -> f64 {
    let deleted = answer[key].as_array().cloned().unwrap_or_default();
    if !deleted.is_empty() {
        println!("{title}");
        for id in deleted {
            println!("{}", id.as_str().unwrap_or_default());
        }
        println!();
    }
    answer["SpaceReclaimed"].as_f64().unwrap_or(0.0)
}
