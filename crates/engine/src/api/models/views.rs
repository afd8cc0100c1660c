//! The container views the daemon keeps for readers (`daemon::views`):
//! a row of the listing and the inspect, each as JSON with one hole for
//! what is fresh at each read (the row's `Status`, the inspect's
//! `ExecIDs`).

use bytes::Bytes;
use serde_json::Value;

use super::inspect::{inspect, sort_keys, summary};
use crate::container::Container;
use crate::daemon::Spliced;

/// The hole's stand-in: a NUL, which JSON writes escaped, so that the
/// stand-in with its key, quotes unescaped, can only be the member itself.
const HOLE: &str = "\0";

/// Where `key`'s value goes: `"key":` and its stand-in, as serialized.
fn hole(key: &str, stand_in: Value) -> Vec<u8> {
    format!("\"{key}\":{stand_in}").into_bytes()
}

/// A listing's row without its status. `Status` follows `Labels` (the
/// user's keys), and no member after it holds a string under that key,
/// so the hole is found from the end.
pub fn summary_view(c: &Container) -> Spliced {
    let mut row = summary(c, chrono::Utc::now());
    row.status = Some(HOLE.into());
    let mut v = serde_json::to_value(row).unwrap_or_default();
    sort_keys(v.get_mut("Labels"));
    let made = serde_json::to_vec(&v).unwrap_or_default();
    Spliced::around(made, &hole("Status", Value::from(HOLE)), true).expect("the row has a status")
}

/// The inspect without its execs. `ExecIDs` precedes every member that
/// holds the user's keys (`HostConfig`, `Config`), so the hole is found
/// from the start.
pub fn inspect_view(c: &Container) -> Spliced {
    // Given as a list of one, the execs keep their place among the keys.
    let v = inspect(c, vec![HOLE.into()]);
    let mut made = serde_json::to_vec(&v).unwrap_or_default();
    made.push(b'\n');
    let hole = hole("ExecIDs", Value::from(vec![HOLE]));
    Spliced::around(made, &hole, false).expect("the inspect has its execs")
}

/// What fills a row's hole.
pub fn status_piece(status: &str) -> Bytes {
    format!("\"Status\":{}", Value::from(status)).into()
}

/// What fills the inspect's hole: Docker's `null` when no exec runs.
pub fn exec_ids_piece(ids: &[String]) -> Bytes {
    let ids = match ids.is_empty() {
        true => Value::Null,
        false => Value::from(ids),
    };
    format!("\"ExecIDs\":{ids}").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_filled_in_is_the_json_made_whole() {
        let mut c = super::super::inspect::tests::container();
        c.config.labels = Some([("Status".to_string(), HOLE.to_string())].into());
        let row = summary_view(&c).with(status_piece("Up 1 second")).concat();
        let row: Value = serde_json::from_slice(&row).unwrap();
        assert_eq!(row["Status"], "Up 1 second");
        assert_eq!(row["Labels"]["Status"], HOLE);
        let whole = inspect_view(&c)
            .with(exec_ids_piece(&["e1".into()]))
            .concat();
        let whole: Value = serde_json::from_slice(&whole).unwrap();
        assert_eq!(whole["ExecIDs"], serde_json::json!(["e1"]));
        assert_eq!(whole, inspect(&c, vec!["e1".into()]));
        let keys: Vec<&String> = whole.as_object().unwrap().keys().collect();
        let at = keys.iter().position(|k| *k == "ExecIDs").unwrap();
        assert_eq!(keys[at - 1], "AppArmorProfile", "Docker's order: {keys:?}");
    }
}
