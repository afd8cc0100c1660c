//! The daemon's side of networks: a container's network mode and
//! endpoints checked at create, its endpoints joined at start and left
//! when it stops.

use std::path::PathBuf;

use bollard_stubs::models::{EndpointSettings, NetworkingConfig};

use super::Daemon;
use crate::container::{Config, Container, HostConfig};
use crate::error::{EngineError, Result};
use crate::network::{link, ports, Attachment, JoinRequest, Network, BRIDGE};

/// Docker's words for a request that sets what a `container:` network
/// mode takes from its peer.
fn conflicting(what: &str) -> EngineError {
    EngineError::InvalidParameter(format!("conflicting options: {what} and the network mode"))
}

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::InvalidParameter(msg.into())
}

/// The ports a container publishes: its `PortBindings`, and with
/// `PublishAllPorts` its exposed ports, read with Docker's checks.
fn port_bindings(config: &Config, hc: &HostConfig) -> Result<Vec<ports::Binding>> {
    let exposed: Vec<String> = config
        .exposed_ports
        .iter()
        .flat_map(|e| e.keys().cloned())
        .collect();
    let bindings = hc
        .port_bindings
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    ports::bindings(&bindings, &exposed, hc.publish_all_ports == Some(true))
}

impl Daemon {
    /// Reads a create's network mode (`default` when none is given, as
    /// Docker records it), its endpoints and its ports, with Docker's
    /// checks; the endpoints the container will join, and warnings.
    pub(super) fn network_config(
        &self,
        config: &mut Config,
        hc: &mut HostConfig,
        networking: Option<&NetworkingConfig>,
    ) -> Result<(Attachment, Vec<String>)> {
        let mode = match hc.network_mode.as_deref().unwrap_or_default() {
            "" => "default".to_string(),
            m => m.to_string(),
        };
        hc.network_mode = Some(mode.clone());
        let publishes = hc.port_bindings.as_ref().is_some_and(|p| !p.is_empty())
            || hc.publish_all_ports == Some(true);
        let mut warnings = Vec::new();
        if hc.links.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err(invalid(
                "HostConfig.Links: legacy links are not supported: put the containers on a user-defined network, where they find each other by name",
            ));
        }
        let asked = networking
            .and_then(|n| n.endpoints_config.clone())
            .unwrap_or_default();
        if mode.starts_with("container:") || mode == "host" || mode == "none" {
            if let Some(name) = asked.keys().find(|k| *k != "default" && **k != mode) {
                return Err(invalid(format!(
                    "NetworkingConfig.EndpointsConfig[{name}]: a container in network mode {mode} joins no network"
                )));
            }
            if let Some(mac) = config.mac_address.as_deref().filter(|m| !m.is_empty()) {
                return Err(invalid(format!(
                    "MacAddress: {mac:?}: the container's network mode is {mode}"
                )));
            }
        }
        if let Some(peer) = mode.strip_prefix("container:") {
            self.check_peer_mode(peer, config, hc, publishes)?;
            return Ok((Attachment::default(), warnings));
        }
        match mode.as_str() {
            "host" => {
                if publishes {
                    warnings.push("Published ports are discarded when using host network mode".into());
                    hc.port_bindings = None;
                    hc.publish_all_ports = None;
                }
                return Ok((Attachment::default(), warnings));
            }
            "none" if publishes => {
                return Err(invalid(
                    "HostConfig.PortBindings: published ports need a network, and the container's network mode is none",
                ))
            }
            "none" => return Ok((Attachment::default(), warnings)),
            _ => {}
        }
        let main = match mode.as_str() {
            "default" | BRIDGE => self.networks.find(BRIDGE)?,
            name => self.networks.find(name)?,
        };
        let mut att = Attachment::default();
        let mut first = EndpointSettings::default();
        for (key, ep) in &asked {
            let net = match key.as_str() {
                "default" => main.clone(),
                name => self.networks.find(name)?,
            };
            let ep = endpoint_config(key, ep, &net)?;
            if net.id == main.id {
                first = ep;
            } else {
                att.networks.insert(net.name.clone(), ep);
            }
        }
        if let Some(mac) = config.mac_address.take().filter(|m| !m.is_empty()) {
            first.mac_address.get_or_insert(mac.clone());
            link::parse_mac(&mac)
                .ok_or_else(|| invalid(format!("MacAddress: {mac:?} is not a MAC address")))?;
        }
        first.network_id = Some(main.id.clone());
        att.networks.insert(main.name.clone(), first);
        port_bindings(config, hc)?;
        Ok((att, warnings))
    }

    /// What a `container:NAME` network mode refuses (the peer's network
    /// is taken whole), as Docker does; the peer must exist.
    fn check_peer_mode(
        &self,
        peer: &str,
        config: &Config,
        hc: &HostConfig,
        publishes: bool,
    ) -> Result<()> {
        let set = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
        if config.hostname.as_deref().is_some_and(|h| !h.is_empty()) {
            return Err(conflicting("hostname"));
        }
        if set(&hc.dns) || set(&hc.dns_search) || set(&hc.dns_options) {
            return Err(conflicting("dns"));
        }
        if set(&hc.extra_hosts) {
            return Err(conflicting("custom host-to-IP mapping"));
        }
        if publishes {
            return Err(invalid(
                "conflicting options: port publishing and the container type network mode",
            ));
        }
        if config.exposed_ports.as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(invalid(
                "conflicting options: port exposing and the container type network mode",
            ));
        }
        self.get(peer).map(|_| ()).map_err(|e| match e {
            EngineError::NotFound(m) => EngineError::InvalidParameter(m),
            other => other,
        })
    }

    /// Joins the container's networks before it starts: its sandbox (to
    /// run in), or none when it is not on any.
    pub(super) fn join_networks(
        &self,
        c: &mut Container,
        upstream: Vec<std::net::SocketAddr>,
    ) -> Result<Option<PathBuf>> {
        if c.network_settings.networks.is_empty() {
            return Ok(None);
        }
        let bindings = port_bindings(&c.config, &c.host_config)?;
        let name = c.short_name().to_string();
        let first = first_network(c);
        let req = JoinRequest {
            id: &c.id,
            name: &name,
            bindings: &bindings,
            upstream,
            first: &first,
        };
        self.networks.join(&req, &mut c.network_settings)?;
        self.endpoint_events(c, "connect");
        Ok(Some(self.networks.sandbox(&c.id)))
    }

    /// Docker's `network connect` (or `disconnect`) event for each of the
    /// container's networks, as it joins (or leaves) them.
    fn endpoint_events(&self, c: &Container, action: &str) {
        for name in c.network_settings.networks.keys() {
            if let Ok(n) = self.networks.find(name) {
                self.network_event(&n, action, &[("container", c.id.clone())]);
            }
        }
    }

    /// Leaves the container's networks (when it stops, or a start
    /// failed): nothing when it holds none.
    pub(super) fn release_network(&self, c: &mut Container) {
        let holds = !c.network_settings.sandbox_key.is_empty()
            || c.network_settings
                .networks
                .values()
                .any(|ep| ep.ip_address.as_deref().is_some_and(|ip| !ip.is_empty()));
        if holds {
            let id = c.id.clone();
            self.networks.leave(&id, &mut c.network_settings);
            self.endpoint_events(c, "disconnect");
        }
    }

    /// A container in `container:` network mode runs in its peer's
    /// network, under its name, with its `hosts` and `resolv.conf` (a
    /// copy made at each start; Docker shares the peer's files).
    pub(super) fn take_peer_files(
        &self,
        c: &mut Container,
        peer: &crate::spec::Peer,
    ) -> Result<()> {
        let (from, to) = (self.dir(&peer.id), self.dir(&c.id));
        for name in ["hosts", "resolv.conf"] {
            match std::fs::copy(from.join(name), to.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(EngineError::io(format!("copying the peer's {name}"))(e))
                }
                _ => {}
            }
        }
        let _ = std::fs::remove_file(to.join("hostname"));
        c.config.hostname = Some(peer.hostname.clone());
        Ok(())
    }

    /// Whether the container is on a user-defined network (whose DNS
    /// server it then asks).
    pub(super) fn on_user_network(&self, c: &Container) -> bool {
        c.network_settings
            .networks
            .keys()
            .any(|name| self.networks.find(name).is_ok_and(|n| !n.is_default()))
    }

    /// The resolvers a container's DNS server forwards to.
    pub(super) fn upstream(&self, c: &Container) -> Vec<std::net::SocketAddr> {
        match crate::etc::Names::of(&c.host_config) {
            Ok(names) => crate::etc::upstream(&self.host_files, &names),
            Err(_) => Vec::new(),
        }
    }

    /// The first address of a container on networks.
    pub(super) fn address(c: &Container) -> Option<String> {
        c.network_settings
            .networks
            .values()
            .find_map(|ep| ep.ip_address.clone().filter(|ip| !ip.is_empty()))
    }
}

impl Daemon {
    /// What the engine does as it stops: with no container running, its
    /// default bridge and its firewall table go (made again when it
    /// starts); containers that run keep both.
    pub fn shutdown(&self) {
        let entries: Vec<std::sync::Arc<super::Entry>> = self.table().values().cloned().collect();
        let any_running = entries.iter().any(|e| e.lock().state.running);
        self.networks.shutdown(any_running);
    }
}

/// The network a container's mode names (the default bridge for
/// `default`): its first.
pub(super) fn first_network(c: &Container) -> String {
    match c.network_mode() {
        "" | "default" => BRIDGE.to_string(),
        mode => mode.to_string(),
    }
}

/// An endpoint's settings as a create or connect asks for them, checked
/// against the network (`key` names it in errors).
pub(super) fn endpoint_config(
    key: &str,
    ep: &EndpointSettings,
    net: &Network,
) -> Result<EndpointSettings> {
    let field = format!("NetworkingConfig.EndpointsConfig[{key}]");
    if ep.links.as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(invalid(format!(
            "{field}.Links: legacy links are not supported"
        )));
    }
    if ep.driver_opts.as_ref().is_some_and(|o| !o.is_empty()) {
        return Err(invalid(format!("{field}.DriverOpts: not supported")));
    }
    let ipam = ep.ipam_config.clone().unwrap_or_default();
    if ipam.ipv6_address.as_deref().is_some_and(|a| !a.is_empty()) {
        return Err(invalid(format!(
            "{field}.IPAMConfig.IPv6Address: IPv6 is not supported"
        )));
    }
    if ipam.link_local_ips.as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(invalid(format!(
            "{field}.IPAMConfig.LinkLocalIPs: not supported"
        )));
    }
    let ip = ipam.ipv4_address.clone().filter(|a| !a.is_empty());
    if let Some(ip) = &ip {
        if net.is_default() {
            return Err(invalid(
                "user specified IP address is supported on user defined networks only",
            ));
        }
        if !net.user_subnet {
            return Err(invalid("user specified IP address is supported only when connecting to networks with user configured subnets"));
        }
        let addr: std::net::Ipv4Addr = ip.parse().map_err(|_| {
            invalid(format!(
                "{field}.IPAMConfig.IPv4Address: {ip:?} is not an IPv4 address"
            ))
        })?;
        if !net.subnet().contains(addr) || addr == net.gateway() {
            return Err(invalid(format!(
                "{field}.IPAMConfig.IPv4Address: {ip} is not an address of the network {} ({})",
                net.name, net.subnet
            )));
        }
    }
    let aliases = ep.aliases.clone().filter(|a| !a.is_empty());
    if aliases.is_some() && net.is_default() {
        return Err(invalid(
            "network-scoped alias is supported only for containers in user defined networks",
        ));
    }
    let mac = ep.mac_address.clone().filter(|m| !m.is_empty());
    if let Some(m) = &mac {
        link::parse_mac(m)
            .ok_or_else(|| invalid(format!("{field}.MacAddress: {m:?} is not a MAC address")))?;
    }
    Ok(EndpointSettings {
        ipam_config: ip.map(|ip| bollard_stubs::models::EndpointIpamConfig {
            ipv4_address: Some(ip),
            ..Default::default()
        }),
        aliases,
        mac_address: mac,
        network_id: Some(net.id.clone()),
        ..Default::default()
    })
}
