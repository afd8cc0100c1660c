//! Networks of a running container: `network connect` and `disconnect`,
//! and what a restarted engine takes up again ([`Networks::adopt`]) or
//! removes ([`Networks::sweep`]).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use bollard_stubs::models::EndpointSettings;

use super::endpoint::{address_of, host_veth, published};
use super::{firewall, link, ports, Attachment, JoinRequest, Network, Networks};
use crate::error::{EngineError, Result};

impl Networks {
    /// Puts a running container on one more network: an endpoint in its
    /// sandbox (the lowest `ethN` free there), named in the DNS of that
    /// network.
    pub fn connect(
        &self,
        req: &JoinRequest,
        rec: &Network,
        mut ep: EndpointSettings,
        att: &mut Attachment,
    ) -> Result<()> {
        if att.sandbox_key.is_empty() {
            return Err(EngineError::Conflict(format!(
                "container {} runs without a network of its own: stop it, connect it, and start it again",
                req.name
            )));
        }
        let sandbox = PathBuf::from(&att.sandbox_key);
        let routed = att
            .networks
            .values()
            .any(|e| e.gateway.as_deref().is_some_and(|g| !g.is_empty()));
        let taken = self
            .netlink
            .links_in(&sandbox)
            .map_err(EngineError::io("listing the container's interfaces"))?;
        let n = (0..)
            .find(|n| !taken.contains(&link::interface(*n)))
            .unwrap_or(0);
        if let Err(e) = self.plug(req, rec, n, !routed, &mut ep, &sandbox) {
            self.unplug(req.id, rec, &mut ep);
            return Err(e);
        }
        att.networks.insert(rec.name.clone(), ep);
        if !rec.is_default() {
            if let Err(e) = self.dns.serve(req.id, &sandbox, req.upstream.clone()) {
                tracing::warn!(container = %req.id, error = %e, "starting the container's DNS server");
            }
        }
        Ok(())
    }

    /// Takes a running container off a network; the ports published to
    /// its address there go with it.
    pub fn disconnect(&self, id: &str, rec: &Network, att: &mut Attachment) {
        let Some(ep) = att.networks.get_mut(&rec.name) else {
            return;
        };
        let ip = address_of(ep);
        self.unplug(id, rec, ep);
        let dropped = {
            let mut st = self.lock();
            let held = st.ports.entry(id.to_string()).or_default();
            let before = held.len();
            held.retain(|(_, f)| Some(f.to) != ip);
            let dropped = held.len() != before;
            att.ports = published(held);
            if held.is_empty() {
                st.ports.remove(id);
            }
            dropped
        };
        if dropped {
            if let Err(e) = self.sync() {
                tracing::warn!(container = %id, error = %e, "removing the container's ports");
            }
        }
    }

    fn unplug(&self, id: &str, rec: &Network, ep: &mut EndpointSettings) {
        if let Err(e) = self.netlink.delete_link(&host_veth(id, &rec.id)) {
            tracing::warn!(container = %id, error = %e, "deleting an endpoint's veth");
        }
        if let Some(ip) = ep.ip_address.take().and_then(|ip| ip.parse().ok()) {
            self.release(&rec.id, ip);
        }
        self.dns.forget(id, Some(&rec.id));
    }

    /// A container's name changed: its DNS names on each network with it.
    pub fn renamed(&self, id: &str, from: &str, to: &str, att: &mut Attachment) {
        for ep in att.networks.values_mut() {
            let ip = address_of(ep);
            let Some(names) = ep.dns_names.as_mut() else {
                continue;
            };
            for n in names.iter_mut().filter(|n| *n == from) {
                *n = to.to_string();
            }
            let rec = ep.network_id.as_deref().and_then(|n| self.find(n).ok());
            if let (Some(ip), Some(rec)) = (ip, rec) {
                self.dns.forget(id, Some(&rec.id));
                self.dns.add((&rec.id, &rec.name), id, names, ip);
            }
        }
    }

    /// Takes up a running container's endpoints and ports again after a
    /// restart of the engine (its sandbox and veths outlived it). `first`
    /// is the network its mode names.
    pub fn adopt(&self, id: &str, att: &Attachment, first: &str, upstream: Vec<SocketAddr>) {
        let mut user = false;
        for ep in att.networks.values() {
            let ip = address_of(ep);
            let rec = ep.network_id.as_deref().and_then(|n| self.find(n).ok());
            if let (Some(ip), Some(rec)) = (ip, rec) {
                let mut st = self.lock();
                if let Some(net) = st.nets.get_mut(&rec.id) {
                    if !net.addrs.hold(ip) {
                        tracing::warn!(container = %id, %ip, "an address held twice");
                    }
                }
                drop(st);
                if let Some(names) = &ep.dns_names {
                    self.dns.add((&rec.id, &rec.name), id, names, ip);
                    user = true;
                }
            }
        }
        if user {
            if let Err(e) = self.dns.serve(id, Path::new(&att.sandbox_key), upstream) {
                tracing::warn!(container = %id, error = %e, "starting the container's DNS server again");
            }
        }
        let Some(to) = att.target(first) else {
            return;
        };
        let mut held = Vec::new();
        for (key, list) in &att.ports {
            let Some((port, proto)) = ports::parse_key(key) else {
                continue;
            };
            for pb in list.iter().flatten() {
                let host_ip = pb
                    .host_ip
                    .as_deref()
                    .and_then(|ip| ip.parse().ok())
                    .filter(|ip: &Ipv4Addr| !ip.is_unspecified());
                let Some(hp) = pb.host_port.as_deref().and_then(|p| p.parse().ok()) else {
                    continue;
                };
                let b = ports::Binding {
                    proto: proto.clone(),
                    port,
                    host_ip,
                    host_ports: (hp, hp),
                };
                let h = ports::hold_again(&b, hp).unwrap_or_else(|e| {
                    tracing::warn!(container = %id, error = %e, "holding a published port again");
                    ports::Held::unbound(b.clone(), hp)
                });
                let fwd = firewall::Forward {
                    proto: proto.clone(),
                    host_ip,
                    host_port: hp,
                    to,
                    port,
                };
                held.push((h, fwd));
            }
        }
        if !held.is_empty() {
            self.lock().ports.insert(id.to_string(), held);
        }
    }

    /// Removes the sandboxes no running container owns (what a crash
    /// left); their veths go with them.
    pub fn sweep(&self, running: &dyn Fn(&str) -> bool) {
        let Ok(entries) = std::fs::read_dir(&self.sandboxes) else {
            return;
        };
        for e in entries.flatten() {
            let id = e.file_name().to_string_lossy().to_string();
            if !running(&id) {
                if let Err(err) = self.netlink.remove_sandbox(&e.path()) {
                    tracing::warn!(container = %id, error = %err, "removing a sandbox left behind");
                }
            }
        }
    }
}
