//! `network create|ls|inspect|rm|prune|connect|disconnect` and `port`,
//! with docker's flags and output.

use clap::{Args, Subcommand};
use serde_json::{json, Map};

use super::{enc, filters_query, pairs};
use crate::api_client::Client;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum NetworkCommand {
    /// Create a bridge network.
    Create(CreateArgs),
    /// List networks.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show networks in detail.
    Inspect(InspectArgs),
    /// Remove networks.
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove the networks no container is on.
    Prune(PruneArgs),
    /// Put a container on a network.
    Connect(ConnectArgs),
    /// Take a container off a network.
    Disconnect(DisconnectArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The driver: only `bridge`.
    #[arg(long, short, default_value = "bridge")]
    driver: String,
    /// The subnet, `a.b.c.d/len`.
    #[arg(long)]
    subnet: Option<String>,
    /// The gateway's address in the subnet.
    #[arg(long)]
    gateway: Option<String>,
    /// Where containers' addresses come from, inside the subnet.
    #[arg(long = "ip-range")]
    ip_range: Option<String>,
    /// No traffic in or out of the network.
    #[arg(long)]
    internal: bool,
    /// A label: KEY=VALUE.
    #[arg(long)]
    label: Vec<String>,
    /// A driver option: `com.docker.network.bridge.name=NAME`,
    /// `com.docker.network.driver.mtu=N`.
    #[arg(long = "opt", short = 'o')]
    opt: Vec<String>,
    name: String,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only the ids.
    #[arg(long, short)]
    quiet: bool,
    /// Full ids.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// `name=`, `id=`, `driver=`, `type=custom|builtin`, `label=`, `dangling=`.
    #[arg(long, short)]
    filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A template over each network (or `json`).
    #[arg(long, short)]
    format: Option<String>,
    #[arg(required = true)]
    networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    #[arg(required = true)]
    networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation.
    #[arg(long, short)]
    force: bool,
    /// `label=...`.
    #[arg(long)]
    filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Another name the container answers to on the network.
    #[arg(long)]
    alias: Vec<String>,
    /// The container's IPv4 address on the network.
    #[arg(long)]
    ip: Option<String>,
    network: String,
    container: String,
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Accepted for docker's sake.
    #[arg(long, short)]
    force: bool,
    network: String,
    container: String,
}

#[derive(Debug, Args)]
pub struct PortArgs {
    container: String,
    /// `PORT[/PROTO]`: only this one.
    port: Option<String>,
}

pub async fn network(client: &Client, command: NetworkCommand) -> anyhow::Result<()> {
    match command {
        NetworkCommand::Create(a) => create(client, a).await,
        NetworkCommand::Ls(a) => ls(client, a).await,
        NetworkCommand::Inspect(a) => inspect(client, a).await,
        NetworkCommand::Rm(a) => rm(client, a).await,
        NetworkCommand::Prune(a) => prune(client, a).await,
        NetworkCommand::Connect(a) => {
            let mut ep = Map::new();
            if let Some(ip) = &a.ip {
                ep.insert("IPAMConfig".into(), json!({"IPv4Address": ip}));
            }
            if !a.alias.is_empty() {
                ep.insert("Aliases".into(), json!(a.alias));
            }
            let body = json!({"Container": a.container, "EndpointConfig": ep});
            let path = format!("/networks/{}/connect", enc(&a.network));
            client.json("POST", &path, Some(body)).await.map(|_| ())
        }
        NetworkCommand::Disconnect(a) => {
            let body = json!({"Container": a.container, "Force": a.force});
            let path = format!("/networks/{}/disconnect", enc(&a.network));
            client.json("POST", &path, Some(body)).await.map(|_| ())
        }
    }
}

async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<()> {
    let mut ipam = Map::new();
    for (k, v) in [
        ("Subnet", &a.subnet),
        ("Gateway", &a.gateway),
        ("IPRange", &a.ip_range),
    ] {
        if let Some(v) = v {
            ipam.insert(k.into(), json!(v));
        }
    }
    let config = if ipam.is_empty() {
        json!([])
    } else {
        json!([ipam])
    };
    let body = json!({
        "Name": a.name,
        "Driver": a.driver,
        "Internal": a.internal,
        "IPAM": {"Driver": "default", "Config": config},
        "Options": pairs(&a.opt, "opt")?,
        "Labels": pairs(&a.label, "label")?,
    });
    let v = client.json("POST", "/networks/create", Some(body)).await?;
    println!("{}", v["Id"].as_str().unwrap_or_default());
    Ok(())
}

async fn ls(client: &Client, a: LsArgs) -> anyhow::Result<()> {
    let path = format!("/networks?filters={}", filters_query(&a.filter)?);
    let all = client.json("GET", &path, None).await?;
    let mut all = all.as_array().cloned().unwrap_or_default();
    all.sort_by(|x, y| x["Name"].as_str().cmp(&y["Name"].as_str()));
    if !a.quiet {
        println!("{:<15}{:<20}{:<10}SCOPE", "NETWORK ID", "NAME", "DRIVER");
    }
    for n in all {
        let id = n["Id"].as_str().unwrap_or_default();
        let id = if a.no_trunc {
            id
        } else {
            &id[..12.min(id.len())]
        };
        if a.quiet {
            println!("{id}");
            continue;
        }
        let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
        println!(
            "{:<15}{:<20}{:<10}{}",
            id,
            s("Name"),
            s("Driver"),
            s("Scope")
        );
    }
    Ok(())
}

async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<()> {
    super::inspect_named(client, "/networks", &a.networks, a.format.as_deref()).await
}

async fn rm(client: &Client, a: RmArgs) -> anyhow::Result<()> {
    let mut failed = false;
    for n in &a.networks {
        match client
            .json("DELETE", &format!("/networks/{}", enc(n)), None)
            .await
        {
            Ok(_) => println!("{n}"),
            Err(e) => {
                eprintln!("Error response from daemon: {e:#}");
                failed = true;
            }
        }
    }
    anyhow::ensure!(!failed, "some networks were not removed");
    Ok(())
}

async fn prune(client: &Client, a: PruneArgs) -> anyhow::Result<()> {
    if !a.force {
        anyhow::ensure!(
            super::disk::confirm(
                "This will remove all custom networks not used by at least one container."
            )?,
            "not pruned"
        );
    }
    let path = format!("/networks/prune?filters={}", filters_query(&a.filter)?);
    let v = client.json("POST", &path, None).await?;
    let gone = v["NetworksDeleted"].as_array().cloned().unwrap_or_default();
    if !gone.is_empty() {
        println!("Deleted Networks:");
        for n in gone {
            println!("{}", n.as_str().unwrap_or_default());
        }
    }
    Ok(())
}

/// `port`: the container's published ports, as docker prints them.
pub async fn port(client: &Client, a: PortArgs) -> anyhow::Result<()> {
    let c = client
        .json(
            "GET",
            &format!("/containers/{}/json", enc(&a.container)),
            None,
        )
        .await?;
    let ports = c["NetworkSettings"]["Ports"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let want = a.port.as_ref().map(|p| {
        if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        }
    });
    let mut keys: Vec<&String> = ports.keys().collect();
    keys.sort_by_key(|k| {
        (
            k.split('/').next().and_then(|p| p.parse::<u16>().ok()),
            k.to_string(),
        )
    });
    let mut found = false;
    for key in keys {
        if want.as_ref().is_some_and(|w| w != key) {
            continue;
        }
        for b in ports[key].as_array().into_iter().flatten() {
            found = true;
            let addr = format!(
                "{}:{}",
                b["HostIp"].as_str().unwrap_or_default(),
                b["HostPort"].as_str().unwrap_or_default()
            );
            match &want {
                Some(_) => println!("{addr}"),
                None => println!("{key} -> {addr}"),
            }
        }
    }
    if let (Some(w), false) = (&want, found) {
        anyhow::bail!("No public port '{w}' published for {}", a.container);
    }
    Ok(())
}
