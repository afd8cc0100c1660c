//! `GET /events`.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::{Response, StatusCode};
use serde_json::Value;

use crate::api::body::channel;
use crate::api::logs;
use crate::api::{error, Call, Reply};
use crate::daemon::Daemon;
use crate::error::{EngineError, Result};

/// `GET /events`: past events from `since`, then live ones until `until`
/// (or the client leaves).
pub(super) fn events(d: Arc<Daemon>, call: &Call) -> Reply {
    let since = call.q("since").and_then(logs::parse_time);
    let until = call.q("until").and_then(logs::parse_time);
    let filters = match call.q("filters").map(parse_filters).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return error(&e),
    };
    let (tx, body) = channel();
    std::thread::spawn(move || {
        let (past, live) = d.events.subscribe(since.or(Some(i64::MAX)));
        let wanted = |e: &crate::events::Event| {
            filters.iter().all(|(key, values)| {
                let got: Vec<&str> = match key.as_str() {
                    "type" => vec![e.kind.as_str()],
                    "event" | "action" => vec![e.action.as_str()],
                    "container" if e.kind != "container" => return false,
                    "container" => vec![
                        e.actor.id.as_str(),
                        e.actor.attributes.get("name").map_or("", |s| s),
                    ],
                    "image" => vec![e.actor.attributes.get("image").map_or("", |s| s)],
                    _ => return true,
                };
                values.iter().any(|v| {
                    got.iter().any(|g| {
                        !g.is_empty()
                            && (g == v || (key == "container" && g.starts_with(v.as_str())))
                    })
                })
            })
        };
        let emit = |e: &crate::events::Event| -> bool {
            if !wanted(e) {
                return true;
            }
            tx.send(format!(
                "{}\n",
                serde_json::to_string(e).unwrap_or_default()
            ))
        };
        for e in &past {
            if until.is_some_and(|u| e.time_nano > u) {
                return;
            }
            if !emit(e) {
                return;
            }
        }
        loop {
            let timeout = match until {
                Some(u) => {
                    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
                    if now >= u {
                        return;
                    }
                    std::time::Duration::from_nanos((u - now) as u64)
                }
                None => std::time::Duration::from_secs(1),
            };
            match live.recv_timeout(timeout) {
                Ok(e) => {
                    if until.is_some_and(|u| e.time_nano > u) || !emit(&e) {
                        return;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if tx.is_closed() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(body.boxed())
        .expect("a valid response")
}

/// Filters as `{"k":{"v":true}}` or `{"k":["v"]}`.
fn parse_filters(s: &str) -> Result<Vec<(String, Vec<String>)>> {
    let v: Value = serde_json::from_str(s)
        .map_err(|e| EngineError::InvalidParameter(format!("filters: {s:?} is not JSON: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(EngineError::InvalidParameter(format!(
            "filters: {s:?} is not an object"
        )));
    };
    Ok(obj
        .iter()
        .map(|(k, v)| {
            let values = match v {
                Value::Object(m) => m.keys().cloned().collect(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => Vec::new(),
            };
            (k.clone(), values)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_come_in_both_shapes() {
        let a = parse_filters(r#"{"type":{"container":true}}"#).unwrap();
        let b = parse_filters(r#"{"type":["container"]}"#).unwrap();
        assert_eq!(a, b);
    }
}
