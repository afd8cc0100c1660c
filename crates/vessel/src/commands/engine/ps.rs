//! `ps`: the daemon's containers, as `docker ps` lists them.

use clap::Args;
use serde_json::Value;

use super::filters_query;
use super::format::{ellipsis, go_time, row, Listing, CONTAINERS};
use super::usage::scaled;
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Stopped containers too.
    #[arg(long, short)]
    all: bool,
    /// Only ids.
    #[arg(long, short)]
    quiet: bool,
    /// Full ids and commands.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// `table`, `table TEMPLATE`, `json`, or a TEMPLATE such as `{{.Names}}`.
    #[arg(long)]
    format: Option<String>,
    /// KEY=VALUE: id, name, label (KEY or KEY=VALUE), status, exited,
    /// ancestor, before, since, network, volume, health.
    #[arg(long, short)]
    filter: Vec<String>,
    /// The N containers created last (stopped ones too).
    #[arg(long, short = 'n', default_value_t = -1)]
    last: i64,
    /// The container created last (stopped or not).
    #[arg(long, short)]
    latest: bool,
    /// Each container's size on disk (its writable layer, and that with
    /// its image's).
    #[arg(long, short)]
    size: bool,
}

pub async fn ps(client: &Client, a: PsArgs) -> anyhow::Result<()> {
    let format = match (a.quiet, a.format.as_deref()) {
        (true, _) => Some("{{.ID}}"),
        (false, f) => f,
    };
    let mut default_format = None;
    if a.size && format.is_none() {
        default_format = Some(format!("{}\t{{{{.Size}}}}", CONTAINERS.default));
    }
    let listing = Listing::parse(format.or(default_format.as_deref()), &CONTAINERS)?;
    let limit = if a.latest { 1 } else { a.last };
    let mut path = format!("/containers/json?all={}&size={}", a.all as u8, a.size as u8);
    if limit > 0 {
        path.push_str(&format!("&limit={limit}"));
    }
    if !a.filter.is_empty() {
        path.push_str(&format!("&filters={}", filters_query(&a.filter)?));
    }
    let list = client.json("GET", &path, None).await?;
    let list = list.as_array().cloned().unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<_> = list
        .iter()
        .map(|c| container_row(c, !a.no_trunc, now))
        .collect();
    print!("{}", listing.print(&CONTAINERS, &rows));
    Ok(())
}

/// A container of `GET /containers/json` as `docker ps` shows it.
fn container_row(c: &Value, trunc: bool, now: i64) -> Value {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut id = s(&c["Id"]);
    let mut command = s(&c["Command"]);
    if trunc {
        id.truncate(12);
        command = ellipsis(&command, 20);
    }
    let names: Vec<String> = list_of(&c["Names"])
        .iter()
        .map(|n| n.trim_start_matches('/').to_string())
        .collect();
    let labels: Vec<String> = c["Labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    let mounts: Vec<String> = c["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let name = m["Name"].as_str().filter(|n| !n.is_empty());
            let name = name.unwrap_or(m["Source"].as_str().unwrap_or(""));
            if trunc {
                ellipsis(name, 15)
            } else {
                name.to_string()
            }
        })
        .collect();
    let local_volumes = c["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["Driver"] == "local")
        .count();
    let networks: Vec<String> = match c["NetworkSettings"]["Networks"].as_object() {
        Some(n) => n.keys().cloned().collect(),
        None => c["HostConfig"]["NetworkMode"]
            .as_str()
            .map(|m| vec![m.to_string()])
            .unwrap_or_default(),
    };
    let created = c["Created"].as_i64().unwrap_or(0);
    row([
        // Quoted as Go's strconv.Quote does (close enough: JSON's).
        ("Command", Value::String(command).to_string()),
        ("CreatedAt", go_time(created)),
        ("ID", id),
        ("Image", s(&c["Image"])),
        ("Labels", labels.join(",")),
        ("LocalVolumes", local_volumes.to_string()),
        ("Mounts", mounts.join(",")),
        ("Names", names.join(",")),
        ("Networks", networks.join(",")),
        ("Ports", String::new()),
        (
            "RunningFor",
            format!(
                "{} ago",
                vessel_engine::container::human_duration(now - created)
            ),
        ),
        ("Size", size(c)),
        ("State", s(&c["State"])),
        ("Status", s(&c["Status"])),
    ])
}

/// The strings of a JSON array.
fn list_of(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect()
}

/// Docker's `units.HumanSizeWithPrecision(v, 3)`.
fn scaled_size(v: f64) -> String {
    scaled(v, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"], 3)
}

/// `docker ps -s`'s size: the writable layer's, and the whole's.
fn size(c: &Value) -> String {
    let rw = c["SizeRw"].as_f64().unwrap_or(0.0);
    match c["SizeRootFs"].as_f64() {
        Some(root) => format!("{} (virtual {})", scaled_size(rw), scaled_size(root)),
        None => scaled_size(rw),
    }
}
