//! The json-file driver's options (`--log-opt`): `max-size` and
//! `max-file`, read as Docker's driver reads them; the options Vessel
//! does not carry out are refused by name.

use std::collections::HashMap;

use vessel_runtime::logs::Rotation;

use crate::error::{EngineError, Result};

/// The json-file options Docker knows and Vessel does not carry out.
const NOT_CARRIED_OUT: [&str; 5] = ["labels", "labels-regex", "env", "env-regex", "tag"];

fn invalid(why: String) -> EngineError {
    EngineError::InvalidParameter(format!("HostConfig.LogConfig.Config: {why}"))
}

/// A size as Docker's `max-size` reads it (`units.FromHumanSize`: `10k`,
/// `1.5m`, `2GB`; powers of 1000).
fn human_size(s: &str) -> Option<u64> {
    let lower = s.trim().to_ascii_lowercase();
    let digits = lower
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(lower.len());
    let number: f64 = lower[..digits].parse().ok()?;
    let unit = lower[digits..].trim();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(unit);
    let scale = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        _ => return None,
    };
    Some((number * scale) as u64)
}

/// The rotation `driver` with options `opts` asks for (none without
/// `max-size`), or why the options are refused.
pub fn rotation(driver: &str, opts: Option<&HashMap<String, String>>) -> Result<Option<Rotation>> {
    let opts = opts.cloned().unwrap_or_default();
    let mut keys: Vec<&String> = opts.keys().collect();
    keys.sort();
    for key in keys {
        let known = driver == super::DEFAULT_LOG_DRIVER;
        match key.as_str() {
            "max-size" | "max-file" if known => {}
            "compress" if known && opts[key] == "false" => {}
            k if known && (NOT_CARRIED_OUT.contains(&k) || k == "compress") => {
                return Err(invalid(format!(
                    "{k}={:?}: not supported: Vessel's json-file log keeps no attributes and compresses nothing",
                    opts[key]
                )))
            }
            k => return Err(invalid(format!("unknown log opt '{k}' for {driver} log driver"))),
        }
    }
    let max_size = match opts.get("max-size") {
        None => None,
        Some(v) => match human_size(v) {
            Some(0) => return Err(invalid("max-size must be a positive number".into())),
            Some(n) => Some(n),
            None => return Err(invalid(format!("max-size: invalid size: {v:?}"))),
        },
    };
    let max_files = match opts.get("max-file") {
        None => 1,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n < 1 => return Err(invalid("max-file cannot be less than 1".into())),
            Ok(n) => n.min(u32::MAX as i64) as u32,
            Err(_) => return Err(invalid(format!("max-file: {v:?} is not a number"))),
        },
    };
    Ok(max_size.map(|max_size| Rotation {
        max_size,
        max_files,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sizes_and_counts_read_as_dockers() {
        let r = rotation(
            "json-file",
            Some(&opts(&[("max-size", "10k"), ("max-file", "3")])),
        )
        .unwrap();
        assert_eq!(
            r,
            Some(Rotation {
                max_size: 10_000,
                max_files: 3
            })
        );
        let r = rotation("json-file", Some(&opts(&[("max-size", "1.5MB")]))).unwrap();
        assert_eq!(
            r,
            Some(Rotation {
                max_size: 1_500_000,
                max_files: 1
            })
        );
        assert_eq!(
            rotation("json-file", Some(&opts(&[("max-file", "3")]))).unwrap(),
            None
        );
        assert_eq!(rotation("json-file", None).unwrap(), None);
        assert_eq!(
            rotation("json-file", Some(&opts(&[("compress", "false")]))).unwrap(),
            None
        );
    }

    #[test]
    fn the_rest_is_refused_by_name() {
        for (driver, given, want) in [
            (
                "json-file",
                opts(&[("max-size", "0")]),
                "max-size must be a positive number",
            ),
            ("json-file", opts(&[("max-size", "1x")]), "invalid size"),
            (
                "json-file",
                opts(&[("max-size", "1k"), ("max-file", "0")]),
                "max-file cannot be less than 1",
            ),
            (
                "json-file",
                opts(&[("bogus", "1")]),
                "unknown log opt 'bogus' for json-file log driver",
            ),
            (
                "json-file",
                opts(&[("labels", "a")]),
                "labels=\"a\": not supported",
            ),
            (
                "json-file",
                opts(&[("compress", "true")]),
                "compress=\"true\": not supported",
            ),
            (
                "none",
                opts(&[("max-size", "1k")]),
                "unknown log opt 'max-size' for none log driver",
            ),
        ] {
            let e = rotation(driver, Some(&given)).unwrap_err().to_string();
            assert!(
                e.contains(want) && e.starts_with("HostConfig.LogConfig.Config"),
                "{e}"
            );
        }
    }
}
