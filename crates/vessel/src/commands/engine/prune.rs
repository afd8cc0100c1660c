//! `container prune`: removing every stopped container at once.

use clap::{Args, Subcommand};

use super::disk::{confirm, human};
use super::filters_query;
use crate::api_client::Client;

#[derive(Debug, Subcommand)]
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
    let deleted = answer["ContainersDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted Containers:");
        for id in deleted {
            println!("{}", id.as_str().unwrap_or_default());
        }
        println!();
    }
    let reclaimed = answer["SpaceReclaimed"].as_f64().unwrap_or(0.0);
    println!("Total reclaimed space: {}", human(reclaimed));
    Ok(())
}
