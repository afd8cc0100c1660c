//! The `filters` query parameter of listings and events.

use chrono::{DateTime, Utc};
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

/// The `filters` query value `given` (none, or empty: no filters), read as
/// [`parse_filters`] reads it.
pub fn optional_filters(given: Option<&str>, known: &[&str]) -> Result<Filters> {
    match given.filter(|f| !f.is_empty()) {
        Some(f) => parse_filters(f, known),
        None => Ok(Vec::new()),
    }
}

/// The moment an `until` (or `since`) filter value names, as Docker reads
/// it: seconds since the epoch (with a fraction), an RFC 3339 time, or a
/// duration before `now` (`10m`, `1h30m`, `45s`).
pub fn timestamp(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let bad = || {
        EngineError::InvalidParameter(format!(
            "failed to parse value as time or duration: {value:?}"
        ))
    };
    // Seconds or RFC 3339, as `logs --since` reads them.
    if let Some(nanos) = super::logs::parse_time(value) {
        return Ok(DateTime::from_timestamp_nanos(nanos));
    }
    let mut total = 0f64;
    let mut number = String::new();
    let mut units = 0;
    for ch in value.chars() {
        if ch.is_ascii_digit() || ch == '.' {
            number.push(ch);
            continue;
        }
        let n: f64 = number.parse().map_err(|_| bad())?;
        total += n * match ch {
            'h' => 3600.0,
            'm' => 60.0,
            's' => 1.0,
            _ => return Err(bad()),
        };
        number.clear();
        units += 1;
    }
    if units == 0 || !number.is_empty() {
        return Err(bad());
    }
    Ok(now - chrono::Duration::milliseconds((total * 1000.0) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_come_as_seconds_rfc3339_or_durations() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |v| timestamp(v, now).unwrap().to_rfc3339();
        assert_eq!(at("1767268800"), "2026-01-01T12:00:00+00:00");
        assert_eq!(at("2026-01-01T11:00:00Z"), "2026-01-01T11:00:00+00:00");
        assert_eq!(at("1h30m"), "2026-01-01T10:30:00+00:00");
        assert_eq!(at("45s"), "2026-01-01T11:59:15+00:00");
        for bad in ["", "x", "10x", "1h5"] {
            assert!(timestamp(bad, now).is_err(), "{bad:?}");
        }
    }
}
