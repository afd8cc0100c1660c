//! `top`, `stats`, `update`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};

use super::format::{align, row, Listing, STATS};
use super::limits::Limits;
use super::{enc, list_containers, report};
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct TopArgs {
    container: String,
    /// Options for ps (default -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    ps_args: Vec<String>,
}

pub async fn top(client: &Client, a: TopArgs) -> anyhow::Result<()> {
    let path = format!(
        "/containers/{}/top?ps_args={}",
        enc(&a.container),
        enc(&a.ps_args.join(" "))
    );
    let v = client.json("GET", &path, None).await?;
    let text = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let titles = text(&v["Titles"]);
    let rows: Vec<Vec<String>> = v["Processes"]
        .as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default();
    // docker's `top` aligns its columns at least 20 characters wide.
    let lines: Vec<String> = std::iter::once(&titles)
        .chain(&rows)
        .map(|cells| cells.join("\t"))
        .collect();
    print!("{}", align(&lines, 20));
    Ok(())
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Stopped containers too (when none are named).
    #[arg(long, short)]
    all: bool,
    /// Print one reading and exit.
    #[arg(long = "no-stream")]
    no_stream: bool,
    /// `table`, `table TEMPLATE`, `json`, or a TEMPLATE such as `{{.Name}}`.
    #[arg(long)]
    format: Option<String>,
    containers: Vec<String>,
}

pub async fn stats(client: &Client, a: StatsArgs) -> anyhow::Result<()> {
    let listing = Listing::parse(a.format.as_deref(), &STATS)?;
    let clear = !a.no_stream && std::io::stdout().is_terminal();
    loop {
        let names = if a.containers.is_empty() {
            list_containers(client, a.all, &[])
                .await?
                .iter()
                .filter_map(|c| {
                    c["Id"]
                        .as_str()
                        .map(|id| id[..12.min(id.len())].to_string())
                })
                .collect()
        } else {
            a.containers.clone()
        };
        // Each reading spans a moment on the daemon's side: read them all
        // at once.
        let mut tasks = tokio::task::JoinSet::new();
        for (i, n) in names.iter().enumerate() {
            let (client, n) = (client.clone(), n.clone());
            tasks.spawn(async move {
                let path = format!("/containers/{}/stats?stream=false", enc(&n));
                (i, client.json("GET", &path, None).await)
            });
        }
        let mut readings: Vec<Option<anyhow::Result<Value>>> = names.iter().map(|_| None).collect();
        while let Some(done) = tasks.join_next().await {
            let (i, r) = done?;
            readings[i] = Some(r);
        }
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for (r, asked) in readings.into_iter().zip(&names) {
            let Some(r) = r else { continue };
            match r {
                Ok(v) => rows.push(Row {
                    container: asked.clone(),
                    ..Row::from_stats(&v)
                }),
                Err(e) => errors.push(e.to_string()),
            }
        }
        let mut out = String::new();
        if clear {
            out.push_str("\x1b[2J\x1b[H");
        }
        let rows: Vec<_> = rows.iter().map(Row::fields).collect();
        out.push_str(&listing.print(&STATS, &rows));
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            // Whoever read the output has gone.
            return Ok(());
        }
        if a.no_stream || !errors.is_empty() {
            return report(errors);
        }
        tokio::time::sleep(Duration::from_millis(750)).await;
    }
}

/// One container's line of `stats`, computed as docker's CLI does.
struct Row {
    /// The container as it was asked for (its short id when none was).
    container: String,
    id: String,
    name: String,
    cpu: String,
    mem_usage: String,
    mem_perc: String,
    net: String,
    block: String,
    pids: String,
}

impl Row {
    fn from_stats(v: &Value) -> Row {
        let n = |v: &Value| v.as_u64().unwrap_or(0) as f64;
        let cpu = &v["cpu_stats"];
        let pre = &v["precpu_stats"];
        let cpu_delta = n(&cpu["cpu_usage"]["total_usage"]) - n(&pre["cpu_usage"]["total_usage"]);
        let sys_delta = n(&cpu["system_cpu_usage"]) - n(&pre["system_cpu_usage"]);
        let online = match n(&cpu["online_cpus"]) {
            0.0 => cpu["cpu_usage"]["percpu_usage"]
                .as_array()
                .map_or(0, |a| a.len()) as f64,
            c => c,
        };
        let cpu_perc = if cpu_delta > 0.0 && sys_delta > 0.0 {
            cpu_delta / sys_delta * online * 100.0
        } else {
            0.0
        };

        let mem = &v["memory_stats"];
        let usage = n(&mem["usage"]);
        // The page cache that can be dropped does not count (cgroup v1
        // names it total_inactive_file, v2 inactive_file).
        let inactive = ["total_inactive_file", "inactive_file"]
            .iter()
            .find_map(|k| mem["stats"][*k].as_u64())
            .map_or(0.0, |x| x as f64);
        let used = if inactive < usage {
            usage - inactive
        } else {
            usage
        };
        let limit = n(&mem["limit"]);
        let mem_perc = if limit > 0.0 {
            used / limit * 100.0
        } else {
            0.0
        };

        let (mut read, mut write) = (0.0, 0.0);
        for d in v["blkio_stats"]["io_service_bytes_recursive"]
            .as_array()
            .into_iter()
            .flatten()
        {
            match d["op"].as_str().map(|o| o.to_ascii_lowercase()) {
                Some(o) if o.starts_with('r') => read += n(&d["value"]),
                Some(o) if o.starts_with('w') => write += n(&d["value"]),
                _ => {}
            }
        }
        let (mut rx, mut tx) = (0.0, 0.0);
        if let Some(nets) = v["networks"].as_object() {
            for net in nets.values() {
                rx += n(&net["rx_bytes"]);
                tx += n(&net["tx_bytes"]);
            }
        }
        let id = v["id"].as_str().unwrap_or("").to_string();
        Row {
            container: id.chars().take(12).collect(),
            id: id.chars().take(12).collect(),
            name: v["name"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches('/')
                .to_string(),
            cpu: format!("{cpu_perc:.2}%"),
            mem_usage: format!("{} / {}", binary_size(used), binary_size(limit)),
            mem_perc: format!("{mem_perc:.2}%"),
            net: format!("{} / {}", decimal_size(rx), decimal_size(tx)),
            block: format!("{} / {}", decimal_size(read), decimal_size(write)),
            pids: n(&v["pids_stats"]["current"]).to_string(),
        }
    }

    /// The row under docker's field names.
    fn fields(&self) -> Value {
        row([
            ("BlockIO", &self.block),
            ("CPUPerc", &self.cpu),
            ("Container", &self.container),
            ("ID", &self.id),
            ("MemPerc", &self.mem_perc),
            ("MemUsage", &self.mem_usage),
            ("Name", &self.name),
            ("NetIO", &self.net),
            ("PIDs", &self.pids),
        ]
        .map(|(name, v)| (name, v.clone())))
    }
}

/// `v` with `digits` significant digits, trailing zeros dropped (C's %g
/// for the magnitudes sizes have here).
fn significant(v: f64, digits: i32) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub(super) fn scaled(mut v: f64, base: f64, units: &[&str], digits: i32) -> String {
    let mut i = 0;
    while v >= base && i < units.len() - 1 {
        v /= base;
        i += 1;
    }
    format!("{}{}", significant(v, digits), units[i])
}

/// Memory sizes, as docker prints them: 1024-based, 4 digits.
fn binary_size(v: f64) -> String {
    scaled(
        v,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
        4,
    )
}

/// I/O amounts and image sizes, as docker prints them: 1000-based, 3
/// digits.
pub(super) fn decimal_size(v: f64) -> String {
    scaled(v, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"], 3)
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    limits: Limits,
    #[arg(required = true)]
    containers: Vec<String>,
}

pub async fn update(client: &Client, a: UpdateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        !a.limits.is_empty(),
        "update: give at least one of --memory, --memory-swap, --cpus, --cpu-shares, --pids-limit, --restart"
    );
    let mut body = json!({});
    a.limits.apply(&mut body)?;
    let mut errors = Vec::new();
    for c in &a.containers {
        match client
            .call(
                "POST",
                &format!("/containers/{}/update", enc(c)),
                Some(body.clone()),
            )
            .await
        {
            Ok(_) => println!("{c}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_dockers() {
        assert_eq!(binary_size(0.0), "0B");
        assert_eq!(binary_size(372_736.0), "364KiB");
        assert_eq!(binary_size(1_288_490_188.8), "1.2GiB");
        assert_eq!(binary_size(8.0 * 1024.0 * 1024.0 * 1024.0), "8GiB");
        assert_eq!(decimal_size(4096.0), "4.1kB");
        assert_eq!(decimal_size(999.0), "999B");
    }

    #[test]
    fn a_row_is_computed_from_two_readings() {
        let v = json!({
            "id": "0123456789abcdef", "name": "/web",
            "cpu_stats": {"cpu_usage": {"total_usage": 300}, "system_cpu_usage": 2000, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 1000},
            "memory_stats": {"usage": 2048, "limit": 4096, "stats": {"total_inactive_file": 1024}},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"op": "Read", "value": 1000}, {"op": "write", "value": 2000}]},
            "pids_stats": {"current": 3}
        });
        let r = Row::from_stats(&v);
        assert_eq!(r.id, "0123456789ab");
        assert_eq!(r.name, "web");
        assert_eq!(r.cpu, "40.00%");
        assert_eq!(r.mem_usage, "1KiB / 4KiB");
        assert_eq!(r.mem_perc, "25.00%");
        assert_eq!(r.block, "1kB / 2kB");
        assert_eq!(r.net, "0B / 0B");
        assert_eq!(r.pids, "3");
    }
}
