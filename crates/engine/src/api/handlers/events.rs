//! `GET /events`.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::{Response, StatusCode};

use crate::api::body::{channel, Sender};
use crate::api::filters::{parse_filters, Filters};
use crate::api::logs;
use crate::api::{error, Call, Reply};
use crate::daemon::Daemon;
use crate::error::EngineError;
use crate::events::Event;

/// `GET /events`: past events from `since`, then live ones until `until`
/// (or the client leaves).
pub(super) fn events(d: Arc<Daemon>, call: &Call) -> Reply {
    let (since, until) = match (
        logs::time_param(call, "since"),
        logs::time_param(call, "until"),
    ) {
        (Ok(Some(s)), Ok(Some(u))) if s > u => {
            return error(&EngineError::InvalidParameter(format!(
                "`since` time ({}) cannot be after `until` time ({})",
                call.q("since").unwrap_or_default(),
                call.q("until").unwrap_or_default()
            )))
        }
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => return error(&e),
    };
    let filters = match call
        .q("filters")
        .map(|f| parse_filters(f, EVENT_FILTERS))
        .transpose()
    {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return error(&e),
    };
    let (tx, body) = channel();
    // Its own thread: a subscription lasts as long as the client stays.
    std::thread::spawn(move || stream(&d, since, until, &filters, &tx));
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(body.boxed())
        .expect("a valid response")
}

/// Sends the events `filters` match: past ones when a time bounds them
/// (from `since`, or from the oldest kept when only `until` is given),
/// then live ones until `until` or until the client leaves.
fn stream(d: &Daemon, since: Option<i64>, until: Option<i64>, filters: &Filters, tx: &Sender) {
    let from = match (since, until) {
        (Some(s), _) => Some(s),
        (None, Some(_)) => Some(i64::MIN),
        (None, None) => Some(i64::MAX),
    };
    let (past, live) = d.events.subscribe(from);
    let emit = |e: &Event| -> bool {
        if !matches(filters, e) {
            return true;
        }
        tx.send(format!(
            "{}\n",
            serde_json::to_string(e).unwrap_or_default()
        ))
    };
    for e in &past {
        if until.is_some_and(|u| e.time_nano > u) || !emit(e) {
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
}

/// Whether event `e` passes every filter (Docker's rules).
fn matches(filters: &Filters, e: &Event) -> bool {
    filters.iter().all(|(key, values)| {
        let got: Vec<&str> = match key.as_str() {
            "type" => vec![e.kind.as_str()],
            // Docker's: these three match actions that carry more after
            // a colon ("exec_create: sh").
            "event" => {
                return values.iter().any(|v| match v.as_str() {
                    "exec_create" | "exec_start" | "health_status" => {
                        e.action.starts_with(v.as_str())
                    }
                    _ => e.action == *v,
                });
            }
            "scope" => vec![e.scope.as_str()],
            "container" if e.kind != "container" => return false,
            "container" => vec![
                e.actor.id.as_str(),
                e.actor.attributes.get("name").map_or("", |s| s),
            ],
            "network" if e.kind != "network" => return false,
            "network" => vec![
                e.actor.id.as_str(),
                e.actor.attributes.get("name").map_or("", |s| s),
            ],
            "image" => vec![e.actor.attributes.get("image").map_or("", |s| s)],
            "label" => {
                // `key` or `key=value`, against the actor's attributes (a
                // container's labels are among them). Every one given
                // must match, as Docker's.
                return values.iter().all(|v| match v.split_once('=') {
                    Some((k, val)) => e.actor.attributes.get(k).is_some_and(|a| a == val),
                    None => e.actor.attributes.contains_key(v.as_str()),
                });
            }
            // Objects Vessel has none of yet: nothing matches.
            _ => return false,
        };
        values.iter().any(|v| {
            got.iter().any(|g| {
                let by_prefix = matches!(key.as_str(), "container" | "network");
                !g.is_empty() && (g == v || (by_prefix && g.starts_with(v.as_str())))
            })
        })
    })
}

/// The filters `GET /events` knows (Docker's).
const EVENT_FILTERS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_come_in_both_shapes() {
        let a = parse_filters(r#"{"type":{"container":true}}"#, EVENT_FILTERS).unwrap();
        let b = parse_filters(r#"{"type":["container"]}"#, EVENT_FILTERS).unwrap();
        assert_eq!(a, b);
        let e =
            parse_filters(r#"{"type":["container"],"bogus":["1"]}"#, EVENT_FILTERS).unwrap_err();
        assert_eq!(e.to_string(), "invalid filter 'bogus'");
    }
}
