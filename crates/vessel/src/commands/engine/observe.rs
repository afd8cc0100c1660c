//! `inspect`, `logs`, `events`.

use std::io::Write;

use clap::Args;
use serde_json::Value;

use super::format::Template;
use super::{enc, report};
use crate::api_client::{ApiError, Client};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A template such as `{{.State.ExitCode}}`, or `json`.
    #[arg(long, short)]
    format: Option<String>,
    #[arg(required = true)]
    names: Vec<String>,
}

pub async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<()> {
    let template = match a.format.as_deref() {
        None | Some("json") => None,
        Some(t) => Some(Template::parse(t)?),
    };
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
                let image = client
                    .json("GET", &format!("/images/{}/json", enc(n)), None)
                    .await;
                let found_one = match image {
                    Ok(v) => Ok(v),
                    Err(_) => {
                        client
                            .json("GET", &format!("/networks/{}", enc(n)), None)
                            .await
                    }
                };
                match found_one {
                    Ok(v) => found.push(v),
                    Err(_) => errors.push(format!("Error: No such object: {n}")),
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    match (template, a.format.is_some()) {
        (Some(t), _) => {
            for v in &found {
                println!("{}", t.render(v));
            }
        }
        (None, true) => {
            for v in &found {
                println!("{v}");
            }
        }
        (None, false) => {
            // docker indents by four spaces.
            let mut text = Vec::new();
            let indent = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            serde::Serialize::serialize(
                &found,
                &mut serde_json::Serializer::with_formatter(&mut text, indent),
            )?;
            println!("{}", String::from_utf8_lossy(&text));
        }
    }
    report(errors)
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
    /// Show the details the log driver keeps with each line (`--log-opt`
    /// labels and env; Vessel keeps none, so this is an empty prefix).
    #[arg(long)]
    details: bool,
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
        "/containers/{}/logs?stdout=1&stderr=1&tail={}&follow={}&timestamps={}&details={}",
        enc(&a.container),
        enc(&a.tail),
        a.follow as u8,
        a.timestamps as u8,
        a.details as u8
    );
    for (k, v) in [("since", &a.since), ("until", &a.until)] {
        if let Some(v) = v {
            path.push_str(&format!("&{k}={}", enc(&to_unix(k, v)?)));
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

/// `--since`/`--until` as Unix seconds, from what docker takes: Unix
/// seconds (with a fraction), RFC 3339, a date and time without a zone
/// (local; `2026-11-24T10:00:00`, or a date alone), or a duration back
/// from now (`10m`, `1h30m`, `500ms`).
fn to_unix(flag: &str, s: &str) -> anyhow::Result<String> {
    use chrono::TimeZone;
    let nanos = |n: i64| {
        format!(
            "{}.{:09}",
            n.div_euclid(1_000_000_000),
            n.rem_euclid(1_000_000_000)
        )
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    if !whole.is_empty() && digits(whole) && digits(frac) {
        return Ok(s.to_string());
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(nanos(t.timestamp_nanos_opt().unwrap_or(0)));
    }
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        });
    if let Ok(t) = naive {
        if let Some(t) = chrono::Local.from_local_datetime(&t).earliest() {
            return Ok(nanos(t.timestamp_nanos_opt().unwrap_or(0)));
        }
    }
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    match go_duration(s).and_then(|back| now.checked_sub(back)) {
        Some(then) => Ok(nanos(then)),
        None => anyhow::bail!("--{flag}: failed to parse value as time or duration: {s:?}"),
    }
}

/// A Go duration (`300ms`, `1.5h`, `2h45m`) in nanoseconds.
pub(super) fn go_duration(s: &str) -> Option<i64> {
    let mut rest = s.strip_prefix('-').unwrap_or(s);
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&n| n > 0)?;
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    // Out of range is no duration (Go refuses it too).
    let total = if s.starts_with('-') { -total } else { total };
    (total.abs() < i64::MAX as f64).then_some(total as i64)
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
    /// `json` (the raw events) or a TEMPLATE such as `{{.Action}} {{.Actor.ID}}`.
    #[arg(long)]
    format: Option<String>,
}

pub async fn events(client: &Client, a: EventsArgs) -> anyhow::Result<()> {
    let template = match a.format.as_deref() {
        None | Some("json") => None,
        Some(t) => Some(Template::parse(t)?),
    };
    let mut path = "/events?".to_string();
    for (k, v) in [("since", &a.since), ("until", &a.until)] {
        if let Some(v) = v {
            path.push_str(&format!("{k}={}&", enc(&to_unix(k, v)?)));
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
                let text = match (&template, a.format.is_some()) {
                    (Some(t), _) => t.render(&e),
                    (None, true) => e.to_string(),
                    (None, false) => describe_event(&e),
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
    fn times_take_dockers_forms() {
        assert_eq!(to_unix("since", "1700000000").unwrap(), "1700000000");
        assert_eq!(to_unix("since", "1700000000.5").unwrap(), "1700000000.5");
        assert_eq!(
            to_unix("since", "2026-01-01T00:00:01Z").unwrap(),
            "1767225601.000000000"
        );
        let now = chrono::Utc::now().timestamp();
        let back: f64 = to_unix("since", "1h30m").unwrap().parse().unwrap();
        assert!((now as f64 - 5400.0 - back).abs() < 5.0, "{back}");
        assert!(to_unix("until", "2026-11-24").is_ok());
        let e = to_unix("since", "abc").unwrap_err().to_string();
        assert_eq!(
            e,
            "--since: failed to parse value as time or duration: \"abc\""
        );
        assert!(to_unix("until", "10x").is_err());
        assert!(to_unix("until", "9999999h").is_err());
    }

    #[test]
    fn durations_read_as_go_reads_them() {
        assert_eq!(go_duration("300ms"), Some(300_000_000));
        assert_eq!(go_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(go_duration("2h45m"), Some(9_900_000_000_000));
        assert_eq!(go_duration("10"), None);
        assert_eq!(go_duration("m"), None);
        assert_eq!(go_duration(""), None);
        assert_eq!(go_duration("-9999999999h"), None);
    }
}
