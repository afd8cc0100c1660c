//! The engine's event stream (`docker events`): every lifecycle change of
//! a container or image, in the order it happened, kept in memory for
//! `--since` and pushed to every live subscriber.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How many past events are kept for `since`.
const KEEP: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// One event, in the Docker API's shape, with the older fields Docker
/// still sends for containers and images (`status`, `id`, `from`), which
/// clients written against them read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

#[derive(Debug, Default)]
struct Inner {
    past: VecDeque<Event>,
    subscribers: Vec<Sender<Event>>,
}

/// The event log.
#[derive(Debug, Default)]
pub struct Events {
    inner: Mutex<Inner>,
}

impl Events {
    /// Records an event now and hands it to every subscriber.
    pub fn log(&self, kind: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) {
        let now = chrono::Utc::now();
        let nanos = now.timestamp_nanos_opt().unwrap_or_default();
        let legacy = matches!(kind, "container" | "image");
        let event = Event {
            status: legacy.then(|| action.to_string()),
            id: legacy.then(|| id.to_string()),
            from: attributes
                .get("image")
                .filter(|_| kind == "container")
                .cloned(),
            kind: kind.into(),
            action: action.into(),
            actor: Actor {
                id: id.into(),
                attributes,
            },
            scope: "local".into(),
            time: nanos / 1_000_000_000,
            time_nano: nanos,
        };
        tracing::debug!(kind, action, id, "event");
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Event times never go backwards, whatever the clock does.
        if let Some(last) = inner.past.back() {
            if last.time_nano > event.time_nano {
                let mut e = event.clone();
                e.time_nano = last.time_nano;
                e.time = last.time;
                return Self::push(&mut inner, e);
            }
        }
        Self::push(&mut inner, event);
    }

    fn push(inner: &mut Inner, event: Event) {
        inner.subscribers.retain(|s| s.send(event.clone()).is_ok());
        if inner.past.len() == KEEP {
            inner.past.pop_front();
        }
        inner.past.push_back(event);
    }

    /// The kept events at or after `since_nanos`, and a receiver of every
    /// later one (none is lost or repeated between the two).
    pub fn subscribe(&self, since_nanos: Option<i64>) -> (Vec<Event>, Receiver<Event>) {
        let (tx, rx) = channel();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let past = match since_nanos {
            Some(t) => inner
                .past
                .iter()
                .filter(|e| e.time_nano >= t)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        inner.subscribers.push(tx);
        (past, rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_get_past_and_later_events_in_order() {
        let events = Events::default();
        events.log("container", "create", "a", BTreeMap::new());
        events.log("container", "start", "a", BTreeMap::new());
        let (past, rx) = events.subscribe(Some(0));
        events.log("container", "die", "a", BTreeMap::new());
        let actions: Vec<_> = past.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "start"]);
        assert_eq!(rx.recv().unwrap().action, "die");
        assert!(past[0].time_nano <= past[1].time_nano);
    }
}
