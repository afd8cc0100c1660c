//! The Dockerfile instructions `docker import --change` and `docker
//! commit --change` take, applied to an image's run config as Docker's
//! builder applies them: `CMD ENTRYPOINT ENV EXPOSE LABEL ONBUILD
//! STOPSIGNAL USER VOLUME WORKDIR`.

use std::collections::BTreeMap;

use super::{Empty, ImageConfig};
use crate::error::{EngineError, Result};

/// Applies `changes`, in order, to `config`.
pub fn apply_changes(config: &mut ImageConfig, changes: &[String]) -> Result<()> {
    let mut cmd_set = false;
    for change in changes {
        let line = change.trim();
        let (instr, arg) = line.split_once([' ', '\t']).unwrap_or((line, ""));
        let arg = arg.trim();
        let bad = |why: &str| EngineError::InvalidParameter(format!("changes: {line:?}: {why}"));
        let refused = |why: Why| bad(&why.0);
        match instr.to_ascii_uppercase().as_str() {
            "CMD" => {
                config.cmd = Some(command(arg));
                cmd_set = true;
            }
            "ENTRYPOINT" => {
                config.entrypoint = Some(command(arg));
                // As a Dockerfile's: an entrypoint drops the command it
                // did not set itself.
                if !cmd_set {
                    config.cmd = None;
                }
            }
            "ENV" => {
                for (k, v) in pairs(arg, true).map_err(refused)? {
                    config
                        .env
                        .retain(|e| e.split_once('=').map_or(e.as_str(), |(n, _)| n) != k);
                    config.env.push(format!("{k}={v}"));
                }
            }
            "LABEL" => {
                let labels = config.labels.get_or_insert_with(BTreeMap::new);
                for (k, v) in pairs(arg, false).map_err(refused)? {
                    labels.insert(k, v);
                }
            }
            "EXPOSE" => {
                let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
                for p in arg.split_whitespace() {
                    for port in expose(p).map_err(refused)? {
                        ports.insert(port, Empty {});
                    }
                }
            }
            "VOLUME" => {
                let paths = match serde_json::from_str::<Vec<String>>(arg) {
                    Ok(list) => list,
                    Err(_) => arg.split_whitespace().map(String::from).collect(),
                };
                if paths.is_empty() || paths.iter().any(|p| p.is_empty()) {
                    return Err(bad("VOLUME needs a path"));
                }
                let volumes = config.volumes.get_or_insert_with(BTreeMap::new);
                for p in paths {
                    volumes.insert(p, Empty {});
                }
            }
            "ONBUILD" => {
                let (next, rest) = arg.split_once([' ', '\t']).unwrap_or((arg, ""));
                let next = next.to_ascii_uppercase();
                if matches!(next.as_str(), "ONBUILD" | "FROM" | "MAINTAINER" | "") {
                    return Err(bad(&format!("{next} isn't allowed as an ONBUILD trigger")));
                }
                let trigger = format!("{next} {}", rest.trim());
                config
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(trigger.trim().to_string());
            }
            "STOPSIGNAL" => {
                if arg.is_empty() {
                    return Err(bad("STOPSIGNAL needs a signal"));
                }
                config.stop_signal = arg.to_string();
            }
            "USER" => config.user = arg.to_string(),
            "WORKDIR" => {
                if arg.is_empty() {
                    return Err(bad("WORKDIR needs a path"));
                }
                config.working_dir = match arg.starts_with('/') {
                    true => arg.to_string(),
                    false => {
                        let base = match config.working_dir.as_str() {
                            "" => "/",
                            d => d,
                        };
                        format!("{}/{arg}", base.trim_end_matches('/'))
                    }
                };
            }
            other => {
                return Err(EngineError::InvalidParameter(format!(
                    "{} is not a valid change command",
                    other.to_ascii_lowercase()
                )))
            }
        }
    }
    Ok(())
}

/// Why an instruction's argument is refused (the caller names the
/// instruction).
#[derive(Debug)]
struct Why(String);

impl Why {
    fn new(why: &str) -> Self {
        Why(why.to_string())
    }
}

/// A JSON array, or a shell command run by `/bin/sh -c`.
fn command(arg: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(arg)
        .unwrap_or_else(|_| vec!["/bin/sh".into(), "-c".into(), arg.into()])
}

/// `k=v k2="v 2"` (or, for ENV, the old `k value with spaces`).
fn pairs(arg: &str, legacy: bool) -> std::result::Result<Vec<(String, String)>, Why> {
    let words = words(arg)?;
    let first = words
        .first()
        .ok_or(Why::new("needs at least one argument"))?;
    if !first.contains('=') {
        if !legacy {
            return Err(Why::new("LABEL needs key=value"));
        }
        let (k, v) = arg
            .split_once([' ', '\t'])
            .ok_or(Why::new("ENV needs a name and a value"))?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(Why(format!("{w:?} is not key=value"))),
        })
        .collect()
}

/// Words split on blanks, with quotes and backslashes as a shell reads
/// them.
fn words(s: &str) -> std::result::Result<Vec<String>, Why> {
    let (mut out, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, ' ' | '\t') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                cur.push(chars.next().unwrap_or('\\'));
                any = true;
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if quote.is_some() {
        return Err(Why::new("an unterminated quote"));
    }
    if any {
        out.push(cur);
    }
    Ok(out)
}

/// `80`, `80/udp`, `8000-8002/tcp` as Docker's `port/proto` keys.
fn expose(p: &str) -> std::result::Result<Vec<String>, Why> {
    let (ports, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(Why(format!("invalid proto: {proto}")));
    }
    let num = |s: &str| {
        s.parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| Why(format!("invalid containerPort: {s}")))
    };
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(ports)?, num(ports)?),
    };
    if hi < lo {
        return Err(Why(format!("invalid port range: {ports}")));
    }
    Ok((lo..=hi).map(|n| format!("{n}/{proto}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(changes: &[&str]) -> ImageConfig {
        let mut c = ImageConfig {
            cmd: Some(vec!["base".into()]),
            env: vec!["A=0".into()],
            ..ImageConfig::default()
        };
        let changes: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
        apply_changes(&mut c, &changes).unwrap();
        c
    }

    #[test]
    fn every_instruction_docker_takes_applies_as_its_builder_does() {
        let c = applied(&[
            "ENV A=1 B=\"two words\"",
            "ENV C three words",
            "LABEL k=v 'k 2'=x",
            "EXPOSE 80 53/udp 8000-8001",
            "VOLUME [\"/data\", \"/logs\"]",
            "ONBUILD run echo hi",
            "STOPSIGNAL SIGINT",
            "USER app",
            "WORKDIR /srv",
            "WORKDIR www",
            "ENTRYPOINT [\"/bin/app\"]",
        ]);
        assert_eq!(c.env, ["A=1", "B=two words", "C=three words"]);
        let labels = c.labels.unwrap();
        assert_eq!((labels["k"].as_str(), labels["k 2"].as_str()), ("v", "x"));
        let ports: Vec<&String> = c.exposed_ports.as_ref().unwrap().keys().collect();
        assert_eq!(ports, ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        assert_eq!(c.volumes.unwrap().len(), 2);
        assert_eq!(c.on_build.unwrap(), ["RUN echo hi"]);
        assert_eq!((c.stop_signal.as_str(), c.user.as_str()), ("SIGINT", "app"));
        assert_eq!(c.working_dir, "/srv/www");
        assert_eq!(c.entrypoint.unwrap(), ["/bin/app"]);
        assert_eq!(c.cmd, None, "an entrypoint drops the base's command");
        let c = applied(&["CMD echo hi", "ENTRYPOINT [\"e\"]"]);
        assert_eq!(c.cmd.unwrap(), ["/bin/sh", "-c", "echo hi"]);
    }

    #[test]
    fn what_docker_refuses_is_refused_by_name() {
        let mut c = ImageConfig::default();
        for (change, says) in [
            ("RUN true", "run is not a valid change command"),
            ("EXPOSE 80/xyz", "invalid proto"),
            ("EXPOSE 0", "invalid containerPort"),
            ("LABEL novalue", "key=value"),
            ("ONBUILD FROM x", "isn't allowed"),
            ("ENV A=\"open", "unterminated"),
        ] {
            let e = apply_changes(&mut c, &[change.to_string()])
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{change}: {e}");
        }
    }
}
