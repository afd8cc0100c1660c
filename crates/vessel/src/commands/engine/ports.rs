//! The network flags of `create` and `run`, read as docker's CLI reads
//! them: `--network`, `-p/--publish`, `-P/--publish-all`, `--expose`,
//! `--ip`, `--mac-address`, `--network-alias`.

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Debug, Args)]
pub struct NetworkFlags {
    /// `bridge` (the default), a network's name, `none`, `host`, or
    /// `container:NAME`.
    #[arg(long, default_value = "default")]
    network: String,
    /// Publish a port: `[IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]`, with
    /// ranges (`8000-8010:80-90`).
    #[arg(long = "publish", short = 'p')]
    publish: Vec<String>,
    /// Publish every exposed port on a free host port.
    #[arg(long = "publish-all", short = 'P')]
    publish_all: bool,
    /// Expose a port or a range (`80`, `8000-8010/udp`).
    #[arg(long)]
    expose: Vec<String>,
    /// The container's IPv4 address on its network.
    #[arg(long)]
    ip: Option<String>,
    /// The container's MAC address on its network.
    #[arg(long = "mac-address")]
    mac_address: Option<String>,
    /// Another name the container answers to on its network.
    #[arg(long = "network-alias", alias = "alias")]
    network_alias: Vec<String>,
}

/// A port or a range of them: `80`, `8000-8010`.
fn range(text: &str) -> anyhow::Result<(u16, u16)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let parse = |p: &str| -> anyhow::Result<u16> {
        p.parse()
            .ok()
            .filter(|p| *p > 0)
            .with_context(|| format!("invalid port: {text:?}"))
    };
    let (a, b) = (parse(a)?, parse(b)?);
    anyhow::ensure!(a <= b, "invalid range of ports: {text:?}");
    Ok((a, b))
}

/// One `-p` value: each `PORT/PROTO` with its host binding.
pub fn parse_publish(spec: &str) -> anyhow::Result<Vec<(String, Value)>> {
    let (rest, proto) = spec.rsplit_once('/').unwrap_or((spec, "tcp"));
    if !matches!(proto, "tcp" | "udp") {
        bail!("invalid proto: {proto} (tcp or udp)");
    }
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => bail!("invalid port specification: {spec:?} (IPv6 host addresses are not supported)"),
    };
    if !ip.is_empty() {
        ip.parse::<std::net::Ipv4Addr>()
            .with_context(|| format!("invalid IP address: {ip:?}"))?;
    }
    let (c1, c2) = range(container)?;
    let hosts = match host {
        "" => None,
        h => Some(range(h)?),
    };
    let mut out = Vec::new();
    for (i, port) in (c1..=c2).enumerate() {
        let host_port = match hosts {
            None => String::new(),
            Some((h1, h2)) if c1 == c2 && h1 != h2 => format!("{h1}-{h2}"),
            Some((h1, h2)) => {
                anyhow::ensure!(
                    u32::from(h2 - h1) == u32::from(c2 - c1),
                    "invalid ranges specified for container and host ports: {spec:?}"
                );
                (h1 + i as u16).to_string()
            }
        };
        out.push((
            format!("{port}/{proto}"),
            json!({"HostIp": ip, "HostPort": host_port}),
        ));
    }
    Ok(out)
}

impl NetworkFlags {
    /// Sets the network members of a create request (`config` holds the
    /// host config under `HostConfig`).
    pub fn apply(&self, config: &mut Value) -> anyhow::Result<()> {
        let mut bindings: Map<String, Value> = Map::new();
        let mut exposed: Map<String, Value> = Map::new();
        for p in &self.publish {
            for (key, binding) in parse_publish(p).with_context(|| format!("--publish {p:?}"))? {
                exposed.insert(key.clone(), json!({}));
                let list = bindings.entry(key).or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.push(binding);
                }
            }
        }
        for e in &self.expose {
            let (rest, proto) = e.rsplit_once('/').unwrap_or((e, "tcp"));
            let (a, b) = range(rest).with_context(|| format!("--expose {e:?}"))?;
            for port in a..=b {
                exposed.insert(format!("{port}/{proto}"), json!({}));
            }
        }
        let host = &mut config["HostConfig"];
        host["NetworkMode"] = json!(self.network);
        host["PortBindings"] = Value::Object(bindings);
        host["PublishAllPorts"] = json!(self.publish_all);
        if !exposed.is_empty() {
            config["ExposedPorts"] = Value::Object(exposed);
        }
        let mut endpoint = Map::new();
        if let Some(ip) = &self.ip {
            endpoint.insert("IPAMConfig".into(), json!({"IPv4Address": ip}));
        }
        if let Some(mac) = &self.mac_address {
            endpoint.insert("MacAddress".into(), json!(mac));
        }
        if !self.network_alias.is_empty() {
            endpoint.insert("Aliases".into(), json!(self.network_alias));
        }
        if !endpoint.is_empty() {
            let key = match self.network.as_str() {
                "default" | "" => "bridge",
                n => n,
            };
            config["NetworkingConfig"] = json!({"EndpointsConfig": {key: endpoint}});
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs_are_read_as_dockers() {
        let p = |s| parse_publish(s).unwrap();
        assert_eq!(
            p("80"),
            vec![("80/tcp".into(), json!({"HostIp": "", "HostPort": ""}))]
        );
        assert_eq!(p("8080:80/udp")[0].0, "80/udp");
        assert_eq!(p("8080:80/udp")[0].1["HostPort"], "8080");
        assert_eq!(
            p("127.0.0.1::80")[0].1,
            json!({"HostIp": "127.0.0.1", "HostPort": ""})
        );
        let r = p("8000-8001:90-91");
        assert_eq!(
            (r[1].0.as_str(), r[1].1["HostPort"].as_str()),
            ("91/tcp", Some("8001"))
        );
        assert_eq!(p("8000-8010:80")[0].1["HostPort"], "8000-8010");
        assert_eq!(p("90-92").len(), 3);
        for bad in [
            "x",
            "80/sctp",
            "1.2.3:80:80",
            "8000-8002:80-81",
            "[::1]:80:80",
            "0",
        ] {
            assert!(parse_publish(bad).is_err(), "{bad}");
        }
    }
}
