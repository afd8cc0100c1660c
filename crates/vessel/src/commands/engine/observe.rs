//! `ps`, `inspect`, `logs`, `events`.

use std::io::Write;

use clap::Args;
use serde_json::Value;

use super::{enc, list_containers, print_table, report};
use crate::api_client::{ApiError, Client};

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Stopped containers too.
    #[arg(long, short)]
    all: bool,
    /// Only ids.
    #[arg(long, short)]
    quiet: bool,
    /// `json`: one JSON object per container.
    #[arg(long)]
    format: Option<String>,
}

pub async fn ps(client: &Client, a: PsArgs) -> anyhow::Result<()> {
    let list = list_containers(client, a.all).await?;
    if a.format.as_deref() == Some("json") {
        for c in &list {
            println!("{c}");
        }
        return Ok(());
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    if a.quiet {
        for c in &list {
            println!("{}", &s(&c["Id"])[..12]);
        }
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            let mut command = s(&c["Command"]);
            if command.chars().count() > 20 {
                command = command.chars().take(19).collect::<String>() + "…";
            }
            let created = c["Created"].as_i64().unwrap_or(0);
            vec![
                s(&c["Id"])[..12].to_string(),
                s(&c["Image"]),
                format!("\"{command}\""),
                format!(
                    "{} ago",
                    vessel_engine::container::human_duration(now - created)
                ),
                s(&c["Status"]),
                String::new(),
                c["Names"][0]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches('/')
                    .to_string(),
            ]
        })
        .collect();
    print_table(
        &[
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES",
        ],
        &rows,
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Go-template-like path such as `{{.State.ExitCode}}`, or `json`.
    #[arg(long, short)]
    format: Option<String>,
    #[arg(required = true)]
    names: Vec<String>,
}

pub async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<()> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for n in &a.names {
        match client
            .json("GET", &format!("/containers/{}/json", enc(n)), None)
            .await
        {
            Ok(v) => found.push(v),
            Err(e)
                if e.downcast_ref::<ApiError>()
                    .is_some_and(|e| e.status == 404) =>
            {
                match client
                    .json("GET", &format!("/images/{}/json", enc(n)), None)
                    .await
                {
                    Ok(v) => found.push(v),
                    Err(_) => errors.push(format!("Error: No such object: {n}")),
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    match a.format.as_deref() {
        None => println!("{}", serde_json::to_string_pretty(&found)?),
        Some("json") => {
            for v in &found {
                println!("{v}");
            }
        }
        Some(template) => {
            for v in &found {
                println!("{}", render(template, v));
            }
        }
    }
    report(errors)
}

/// Fills `{{.A.B}}` (and `{{json .A}}`) from `v`.
fn render(template: &str, v: &Value) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        let expr = rest[start + 2..start + end].trim();
        let (as_json, path) = match expr.strip_prefix("json ") {
            Some(p) => (true, p.trim()),
            None => (false, expr),
        };
        let mut cur = v;
        for key in path
            .trim_start_matches('.')
            .split('.')
            .filter(|k| !k.is_empty())
        {
            cur = &cur[key];
        }
        match cur {
            Value::String(s) if !as_json => out.push_str(s),
            Value::Null if !as_json => out.push_str("<no value>"),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep following the output.
    #[arg(long, short)]
    follow: bool,
    /// Only the last N lines (`all` for everything).
    #[arg(long, short = 'n', default_value = "all")]
    tail: String,
    /// Prefix each line with its time.
    #[arg(long, short)]
    timestamps: bool,
    /// Only lines since this time (Unix seconds or RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// Only lines before this time.
    #[arg(long)]
    until: Option<String>,
    container: String,
}

pub async fn logs(client: &Client, a: LogsArgs) -> anyhow::Result<()> {
    let info = client
        .json(
            "GET",
            &format!("/containers/{}/json", enc(&a.container)),
            None,
        )
        .await?;
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let mut path = format!(
        "/containers/{}/logs?stdout=1&stderr=1&tail={}&follow={}&timestamps={}",
        enc(&a.container),
        enc(&a.tail),
        a.follow as u8,
        a.timestamps as u8
    );
    for (k, v) in [("since", &a.since), ("until", &a.until)] {
        if let Some(v) = v {
            path.push_str(&format!("&{k}={}", enc(&to_unix(v))));
        }
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    client
        .stream("GET", &path, |chunk| {
            if tty {
                return out.write_all(chunk).and_then(|_| out.flush()).is_ok();
            }
            pending.extend_from_slice(chunk);
            while let Some(header) = pending.first_chunk::<8>() {
                let (stream, len) = vessel_runtime::frame::decode_header(header);
                if pending.len() < 8 + len {
                    break;
                }
                let frame: Vec<u8> = pending.drain(..8 + len).collect();
                let target: &mut dyn Write = if stream == vessel_runtime::frame::STDERR {
                    &mut err
                } else {
                    &mut out
                };
                if target
                    .write_all(&frame[8..])
                    .and_then(|_| target.flush())
                    .is_err()
                {
                    return false;
                }
            }
            true
        })
        .await
}

/// `since`/`until` as Unix seconds: RFC 3339 and durations (`10m`) too.
fn to_unix(s: &str) -> String {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        let n = t.timestamp_nanos_opt().unwrap_or(0);
        return format!("{}.{:09}", n / 1_000_000_000, n % 1_000_000_000);
    }
    let unit = match s.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        _ => return s.to_string(),
    };
    match s[..s.len() - 1].parse::<f64>() {
        Ok(n) => {
            let t = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
                - (n * unit as f64 * 1e9) as i64;
            format!("{}.{:09}", t / 1_000_000_000, t % 1_000_000_000)
        }
        Err(_) => s.to_string(),
    }
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Events since this time (Unix seconds, RFC 3339, or a duration).
    #[arg(long)]
    since: Option<String>,
    /// Stop at this time.
    #[arg(long)]
    until: Option<String>,
    /// key=value (type, container, event, image).
    #[arg(long, short)]
    filter: Vec<String>,
    /// `json`: the raw events.
    #[arg(long)]
    format: Option<String>,
}

pub async fn events(client: &Client, a: EventsArgs) -> anyhow::Result<()> {
    let mut path = "/events?".to_string();
    for (k, v) in [("since", &a.since), ("until", &a.until)] {
        if let Some(v) = v {
            path.push_str(&format!("{k}={}&", enc(&to_unix(v))));
        }
    }
    if !a.filter.is_empty() {
        let mut filters = serde_json::Map::new();
        for f in &a.filter {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--filter {f:?}: expected key=value"))?;
            let entry = filters
                .entry(k.to_string())
                .or_insert_with(|| Value::Object(Default::default()));
            entry[v] = Value::Bool(true);
        }
        path.push_str(&format!(
            "filters={}",
            enc(&Value::Object(filters).to_string())
        ));
    }
    let json = a.format.as_deref() == Some("json");
    let mut pending = Vec::new();
    let mut out = std::io::stdout();
    client
        .stream("GET", &path, |chunk| {
            pending.extend_from_slice(chunk);
            while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=i).collect();
                let Ok(e) = serde_json::from_slice::<Value>(&line) else {
                    continue;
                };
                let text = if json {
                    e.to_string()
                } else {
                    describe_event(&e)
                };
                if writeln!(out, "{text}").and_then(|_| out.flush()).is_err() {
                    return false;
                }
            }
            true
        })
        .await
}

/// `2026-01-01T00:00:00.000000000Z container start <id> (image=..., name=...)`.
fn describe_event(e: &Value) -> String {
    let nanos = e["timeNano"].as_i64().unwrap_or(0);
    let time =
        chrono::DateTime::from_timestamp(nanos / 1_000_000_000, (nanos % 1_000_000_000) as u32)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
            .unwrap_or_default();
    let attrs: Vec<String> = e["Actor"]["Attributes"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{time} {} {} {} ({})",
        e["Type"].as_str().unwrap_or(""),
        e["Action"].as_str().unwrap_or(""),
        e["Actor"]["ID"].as_str().unwrap_or(""),
        attrs.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_templates_read_paths() {
        let v = serde_json::json!({"State": {"ExitCode": 3, "Status": "exited"}});
        assert_eq!(render("{{.State.ExitCode}}", &v), "3");
        assert_eq!(render("s={{.State.Status}}", &v), "s=exited");
        assert_eq!(
            render("{{json .State}}", &v),
            r#"{"ExitCode":3,"Status":"exited"}"#
        );
    }
}
