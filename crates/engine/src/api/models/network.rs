//! Networks as the Docker API shows them: a container's
//! `NetworkSettings` (inspect) and its ports and networks in `docker ps`,
//! and a network's own resource (`GET /networks`).

use std::collections::HashMap;

use bollard_stubs::models::{
    ContainerSummaryNetworkSettings, EndpointSettings, Ipam, IpamConfig, NetworkContainer,
    NetworkSettings, Port, PortTypeEnum,
};
use serde_json::{json, Value};

use crate::container::Container;
use crate::network::{ports, Network};

/// An endpoint with every member Docker shows, empty where it has none.
fn shown(ep: &EndpointSettings) -> EndpointSettings {
    let text = |v: &Option<String>| Some(v.clone().unwrap_or_default());
    EndpointSettings {
        network_id: text(&ep.network_id),
        endpoint_id: text(&ep.endpoint_id),
        gateway: text(&ep.gateway),
        ip_address: text(&ep.ip_address),
        ip_prefix_len: Some(ep.ip_prefix_len.unwrap_or(0)),
        ipv6_gateway: Some(String::new()),
        global_ipv6_address: Some(String::new()),
        global_ipv6_prefix_len: Some(0),
        mac_address: text(&ep.mac_address),
        ..ep.clone()
    }
}

/// The container's networks: its endpoints, or the mode it is in
/// (`none`, `host`; nothing for a `container:` mode).
fn networks(c: &Container) -> HashMap<String, EndpointSettings> {
    let mut out: HashMap<String, EndpointSettings> = c
        .network_settings
        .networks
        .iter()
        .map(|(name, ep)| (name.clone(), shown(ep)))
        .collect();
    if out.is_empty() {
        let mode = match c.network_mode() {
            "host" => Some("host"),
            m if m.starts_with("container:") => None,
            _ => Some("none"),
        };
        if let Some(mode) = mode {
            out.insert(mode.into(), shown(&EndpointSettings::default()));
        }
    }
    out
}

/// The exposed ports (the image's, `--expose`) and the published ones.
fn port_map(c: &Container) -> HashMap<String, Option<Vec<bollard_stubs::models::PortBinding>>> {
    let mut map: HashMap<_, _> = c.network_settings.ports.clone().into_iter().collect();
    if c.state.running && !c.network_settings.networks.is_empty() {
        for key in c.config.exposed_ports.iter().flat_map(|e| e.keys()) {
            let key = match ports::parse_key(key) {
                Some((port, proto)) => format!("{port}/{proto}"),
                None => key.clone(),
            };
            map.entry(key).or_insert(None);
        }
    }
    map
}

/// Inspect's `NetworkSettings`: the endpoints, and the legacy top-level
/// members from the default bridge's, as Docker fills them.
pub fn container_settings(c: &Container) -> NetworkSettings {
    let networks = networks(c);
    let main = networks
        .get(crate::network::BRIDGE)
        .cloned()
        .unwrap_or_else(|| shown(&Default::default()));
    NetworkSettings {
        bridge: Some(String::new()),
        sandbox_id: Some(String::new()),
        hairpin_mode: Some(false),
        link_local_ipv6_address: Some(String::new()),
        link_local_ipv6_prefix_len: Some(0),
        ports: Some(port_map(c)),
        sandbox_key: Some(c.network_settings.sandbox_key.clone()),
        secondary_ip_addresses: None,
        secondary_ipv6_addresses: None,
        endpoint_id: main.endpoint_id.clone(),
        gateway: main.gateway.clone(),
        global_ipv6_address: Some(String::new()),
        global_ipv6_prefix_len: Some(0),
        ip_address: main.ip_address.clone(),
        ip_prefix_len: main.ip_prefix_len,
        ipv6_gateway: Some(String::new()),
        mac_address: main.mac_address.clone(),
        networks: Some(networks),
    }
}

/// `docker ps`'s ports: each published one, then each exposed one that
/// is not.
pub fn summary_ports(c: &Container) -> Vec<Port> {
    let mut out = Vec::new();
    for (key, list) in port_map(c) {
        let Some((port, proto)) = ports::parse_key(&key) else {
            continue;
        };
        let typ = Some(if proto == "udp" {
            PortTypeEnum::UDP
        } else {
            PortTypeEnum::TCP
        });
        match list {
            Some(list) if !list.is_empty() => {
                for b in list {
                    out.push(Port {
                        ip: b.host_ip.clone(),
                        private_port: port,
                        public_port: b.host_port.as_deref().and_then(|p| p.parse().ok()),
                        typ,
                    });
                }
            }
            _ => out.push(Port {
                ip: None,
                private_port: port,
                public_port: None,
                typ,
            }),
        }
    }
    out.sort_by_key(|p| (p.private_port, p.public_port));
    out
}

pub fn summary_settings(c: &Container) -> ContainerSummaryNetworkSettings {
    ContainerSummaryNetworkSettings {
        networks: Some(networks(c)),
    }
}

/// A network as `GET /networks/{id}` shows it; `containers` are those on
/// it (id, name and endpoint), listed only when `verbose`.
pub fn network_resource(n: &Network, containers: &[(String, String, EndpointSettings)]) -> Value {
    let mut config = IpamConfig {
        subnet: Some(n.subnet.clone()),
        gateway: Some(n.gateway.clone()),
        ..Default::default()
    };
    if !n.ip_range.is_empty() {
        config.ip_range = Some(n.ip_range.clone());
    }
    let ipam = Ipam {
        driver: Some("default".into()),
        options: None,
        config: Some(vec![config]),
    };
    let members: HashMap<&String, NetworkContainer> = containers
        .iter()
        .map(|(id, name, ep)| {
            let ip = ep.ip_address.clone().unwrap_or_default();
            let prefix = ep.ip_prefix_len.unwrap_or(0);
            (
                id,
                NetworkContainer {
                    name: Some(name.clone()),
                    endpoint_id: ep.endpoint_id.clone(),
                    mac_address: ep.mac_address.clone(),
                    ipv4_address: Some(if ip.is_empty() {
                        ip
                    } else {
                        format!("{ip}/{prefix}")
                    }),
                    ipv6_address: Some(String::new()),
                },
            )
        })
        .collect();
    json!({
        "Name": n.name,
        "Id": n.id,
        "Created": n.created,
        "Scope": "local",
        "Driver": n.driver,
        "EnableIPv6": false,
        "IPAM": ipam,
        "Internal": n.internal,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": members,
        "Options": n.options,
        "Labels": n.labels,
    })
}

/// The two networks that are modes rather than bridges, as Docker lists
/// them (`host` and `none`), with ids made from the engine's.
pub fn mode_network(name: &str, id: &str, created: &str) -> Value {
    let driver = if name == "host" { "host" } else { "null" };
    json!({
        "Name": name,
        "Id": id,
        "Created": created,
        "Scope": "local",
        "Driver": driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": []},
        "Internal": false,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": {},
        "Options": {},
        "Labels": {},
    })
}
