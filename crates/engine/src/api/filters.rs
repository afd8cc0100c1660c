//! The `filters` query parameter of listings and events.

use serde_json::Value;

use crate::error::{EngineError, Result};

/// Filters by key, with the values given for each.
pub type Filters = Vec<(String, Vec<String>)>;

/// Docker's `filters` query value, `{"key":["v"]}` or `{"key":{"v":true}}`;
/// a key not in `known` is refused as Docker refuses it.
pub fn parse_filters(s: &str, known: &[&str]) -> Result<Filters> {
    let v: Value = serde_json::from_str(s)
        .map_err(|e| EngineError::InvalidParameter(format!("filters: {s:?} is not JSON: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(EngineError::InvalidParameter(format!(
            "filters: {s:?} is not an object"
        )));
    };
    if let Some(bad) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(EngineError::InvalidParameter(format!(
            "invalid filter '{bad}'"
        )));
    }
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
