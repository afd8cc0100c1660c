//! A container's side of its networks: the sandbox it runs in, an
//! endpoint on each network, its published ports; made when it starts
//! ([`Networks::join`]), undone when it stops ([`Networks::leave`]),
//! taken up again by an engine that restarts while it runs
//! ([`Networks::adopt`]).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use bollard_stubs::models::{EndpointSettings, PortBinding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{firewall, link, ports, Network, Networks};
use crate::error::{EngineError, Result};

/// What a container's record keeps of its networks, in Docker's shapes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    /// The sandbox's file, while the container runs.
    #[serde(default)]
    pub sandbox_key: String,
    /// Each network the container is on, by name: what it asked for
    /// (aliases, an address, a MAC address) and, while it runs, what it
    /// was given.
    #[serde(default)]
    pub networks: BTreeMap<String, EndpointSettings>,
    /// The ports published while it runs (`80/tcp` → the host's side).
    #[serde(default)]
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
}

/// A container about to start.
#[derive(Debug)]
pub struct JoinRequest<'a> {
    pub id: &'a str,
    /// Its name, without the slash.
    pub name: &'a str,
    pub bindings: &'a [ports::Binding],
    /// Where its DNS server sends what it does not answer itself.
    pub upstream: Vec<std::net::SocketAddr>,
    /// The network its network mode names: its `eth0`, its default
    /// route, where its published ports lead.
    pub first: &'a str,
}

impl Attachment {
    /// The networks in the order their interfaces are made: `first`,
    /// then the others by name.
    pub fn order(&self, first: &str) -> Vec<String> {
        let mut names: Vec<String> = self.networks.keys().cloned().collect();
        names.sort_by_key(|n| (n != first, n.clone()));
        names
    }

    /// The address published ports lead to: the first network's.
    pub(super) fn target(&self, first: &str) -> Option<Ipv4Addr> {
        let name = self.order(first).into_iter().next()?;
        self.networks
            .get(&name)?
            .ip_address
            .as_deref()
            .and_then(|ip| ip.parse().ok())
    }
}

/// The names a container answers to on a user-defined network, as
/// Docker's `DNSNames`: its name, its aliases, its short id.
fn dns_names(id: &str, name: &str, ep: &EndpointSettings) -> Vec<String> {
    let mut names = vec![name.to_string()];
    names.extend(ep.aliases.iter().flatten().cloned());
    names.push(id[..12.min(id.len())].to_string());
    names.dedup();
    names
}

/// An endpoint's address, when it has one.
pub(super) fn address_of(ep: &EndpointSettings) -> Option<Ipv4Addr> {
    ep.ip_address.as_deref().and_then(|ip| ip.parse().ok())
}

/// The host's end of a container's veth pair on a network.
pub(super) fn host_veth(container: &str, network: &str) -> String {
    let hash = Sha256::digest(format!("{container}/{network}"));
    format!("veth{}", &crate::hex(&hash[..4])[..7])
}

impl Networks {
    /// Where a container's sandbox is bound.
    pub fn sandbox(&self, id: &str) -> std::path::PathBuf {
        self.sandboxes.join(id)
    }

    /// Makes the container's sandbox, an endpoint on each of its
    /// networks (`eth0`, `eth1`, ... in order, the default route through
    /// the first that has a gateway) and holds its ports. On any error
    /// everything made is undone.
    pub fn join(&self, req: &JoinRequest, att: &mut Attachment) -> Result<()> {
        let sandbox = self.sandbox(req.id);
        // What a crash left under this name goes first.
        let _ = self.netlink.remove_sandbox(&sandbox);
        self.netlink
            .make_sandbox(&sandbox)
            .map_err(EngineError::io("making the container's network namespace"))?;
        att.sandbox_key = sandbox.display().to_string();
        let made = self.join_all(req, att, &sandbox);
        if made.is_err() {
            self.leave(req.id, att);
        }
        made
    }

    fn join_all(&self, req: &JoinRequest, att: &mut Attachment, sandbox: &Path) -> Result<()> {
        let mut routed = false;
        let mut user = false;
        for (i, name) in att.order(req.first).iter().enumerate() {
            let ep = att.networks.get_mut(name).expect("a listed network");
            let rec = self.find(name)?;
            self.plug(req, &rec, i, !routed, ep, sandbox)?;
            routed |= !rec.internal;
            user |= !rec.is_default();
        }
        if user {
            self.dns
                .serve(req.id, sandbox, req.upstream.clone())
                .map_err(EngineError::io("starting the container's DNS server"))?;
        }
        if req.bindings.is_empty() {
            return Ok(());
        }
        let to: Ipv4Addr = att.target(req.first).ok_or_else(|| {
            EngineError::InvalidParameter("published ports need a network with an address".into())
        })?;
        let mut held = Vec::new();
        {
            let mut st = self.lock();
            for b in req.bindings {
                let cursor = st.cursor.entry(b.proto.clone()).or_insert(0);
                let h = ports::hold(b, cursor, req.name)?;
                let fwd = firewall::Forward {
                    proto: b.proto.clone(),
                    host_ip: b.host_ip,
                    host_port: h.host_port,
                    to,
                    port: b.port,
                };
                held.push((h, fwd));
            }
            att.ports = published(&held);
            st.ports.insert(req.id.to_string(), held);
        }
        self.sync()
    }

    /// One endpoint: an address (the one asked for, or the lowest free),
    /// the veth pair, the settings Docker reports.
    pub(super) fn plug(
        &self,
        req: &JoinRequest,
        rec: &Network,
        n: usize,
        route: bool,
        ep: &mut EndpointSettings,
        sandbox: &Path,
    ) -> Result<()> {
        // A start right after a stop: the old pair (and its address)
        // must be gone first.
        self.worker().wait_for(&host_veth(req.id, &rec.id));
        let asked = ep
            .ipam_config
            .as_ref()
            .and_then(|c| c.ipv4_address.clone())
            .filter(|s| !s.is_empty());
        let ip = {
            let mut st = self.lock();
            let net = st
                .nets
                .get_mut(&rec.id)
                .ok_or_else(|| EngineError::NotFound(format!("network {} not found", rec.name)))?;
            match &asked {
                Some(text) => {
                    let ip: Ipv4Addr = text.parse().map_err(|_| {
                        EngineError::InvalidParameter(format!("invalid IPv4 address: {text}"))
                    })?;
                    if !rec.subnet().contains(ip) || ip == rec.gateway() || !net.addrs.hold(ip) {
                        return Err(EngineError::Conflict(format!(
                            "Address {ip} is not available on network {}",
                            rec.name
                        )));
                    }
                    ip
                }
                None => net.addrs.take(&rec.range(), rec.gateway()).ok_or_else(|| {
                    EngineError::Conflict(format!(
                        "no available IPv4 addresses on network {}",
                        rec.name
                    ))
                })?,
            }
        };
        let mac = match ep.mac_address.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => link::parse_mac(m).ok_or_else(|| {
                EngineError::InvalidParameter(format!("invalid MAC address: {m}"))
            })?,
            None => link::mac_of(ip),
        };
        let id = req.id;
        let prefix = rec.subnet().len;
        let veth = link::Veth {
            host: host_veth(id, &rec.id),
            bridge: rec.bridge().to_string(),
            inside: link::interface(n),
            ip,
            prefix,
            mac,
            mtu: rec.mtu(),
            gateway: (route && !rec.internal).then(|| rec.gateway()),
        };
        // Set before the pair is made: a failure below is undone by
        // `leave`, which reads them.
        ep.network_id = Some(rec.id.clone());
        ep.ip_address = Some(ip.to_string());
        self.netlink
            .plug(sandbox, &veth)
            .map_err(EngineError::io(format!("joining the network {}", rec.name)))?;
        let endpoint = Sha256::digest(format!("{id}/{}/{}", rec.id, veth.host));
        ep.endpoint_id = Some(crate::hex(&endpoint));
        ep.gateway = Some(if rec.internal {
            String::new()
        } else {
            rec.gateway.clone()
        });
        ep.ip_prefix_len = Some(prefix.into());
        ep.mac_address = Some(link::mac_text(&mac));
        if !rec.is_default() {
            let names = dns_names(id, req.name, ep);
            self.dns.add((&rec.id, &rec.name), id, &names, ip);
            ep.dns_names = Some(names);
        }
        Ok(())
    }

    /// Undoes [`Networks::join`]: the ports, each endpoint, the sandbox;
    /// clears what the container was given. Best effort: what fails is
    /// logged (a later start or restore removes it).
    pub fn leave(&self, id: &str, att: &mut Attachment) {
        self.dns.stop(id);
        let had_ports = self.lock().ports.remove(id).is_some();
        if had_ports {
            if let Err(e) = self.sync() {
                tracing::warn!(container = %id, error = %e, "removing the container's ports");
            }
        }
        for ep in att.networks.values_mut() {
            let Some(net_id) = ep.network_id.clone() else {
                continue;
            };
            // A veth this container was given goes with its sandbox, in
            // the background, and its address after it (see `teardown`);
            // one half made goes with the sandbox at once.
            let ip = ep.ip_address.take().and_then(|ip| ip.parse().ok());
            if ep.endpoint_id.as_deref().is_some_and(|e| !e.is_empty()) {
                self.worker().delete(host_veth(id, &net_id), net_id, ip);
            } else if let Some(ip) = ip {
                self.release(&net_id, ip);
            }
            for f in [&mut ep.endpoint_id, &mut ep.gateway, &mut ep.mac_address] {
                *f = Some(String::new());
            }
            ep.ip_address = Some(String::new());
            ep.ip_prefix_len = Some(0);
            ep.dns_names = None;
        }
        if let Err(e) = self.netlink.remove_sandbox(&self.sandbox(id)) {
            tracing::warn!(container = %id, error = %e, "removing the container's network namespace");
        }
        att.sandbox_key.clear();
        att.ports.clear();
    }

    /// Waits until the veths the container left (see `leave`) are gone:
    /// a container that is removed leaves nothing on the host.
    pub fn settle(&self, id: &str, att: &Attachment) {
        for net_id in att
            .networks
            .values()
            .filter_map(|ep| ep.network_id.as_deref())
        {
            self.worker().wait_for(&host_veth(id, net_id));
        }
    }
}

/// Docker's `NetworkSettings.Ports` for the ports held.
pub(super) fn published(
    held: &[(ports::Held, firewall::Forward)],
) -> BTreeMap<String, Option<Vec<PortBinding>>> {
    let mut out: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for (h, _) in held {
        let key = format!("{}/{}", h.binding.port, h.binding.proto);
        out.entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(
                    h.binding
                        .host_ip
                        .unwrap_or(Ipv4Addr::UNSPECIFIED)
                        .to_string(),
                ),
                host_port: Some(h.host_port.to_string()),
            });
    }
    out
}
