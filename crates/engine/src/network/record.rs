//! A network's record, kept as `<root>/network/<id>.json` in Docker's
//! shape, and the checks a `network create` request goes through.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use vessel_runtime::record::{write_atomic, Durability};

use super::ipam::Subnet;
use crate::error::{EngineError, Result};

/// `-o com.docker.network.bridge.name=NAME`: the bridge's interface.
pub const BRIDGE_NAME: &str = "com.docker.network.bridge.name";
/// `-o com.docker.network.driver.mtu=N`.
pub const MTU: &str = "com.docker.network.driver.mtu";
/// `-o com.docker.network.bridge.enable_ip_masquerade=false`: no
/// outbound NAT.
pub const MASQUERADE: &str = "com.docker.network.bridge.enable_ip_masquerade";
/// Marks the default bridge, as Docker's does.
pub const DEFAULT_BRIDGE: &str = "com.docker.network.bridge.default_bridge";

/// The name of the default network, and its driver.
pub const BRIDGE: &str = "bridge";

/// A bridge network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    pub name: String,
    pub id: String,
    pub created: String,
    pub driver: String,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// The subnet, as given or chosen.
    pub subnet: String,
    pub gateway: String,
    /// `--ip-range`: where addresses are handed out from (the subnet
    /// when empty).
    #[serde(rename = "IPRange")]
    pub ip_range: String,
    /// Whether `--subnet` was given (only then may a container ask for
    /// an address, as in Docker).
    pub user_subnet: bool,
}

impl Network {
    /// The record's file in `dir`.
    pub fn file(dir: &Path, id: &str) -> std::path::PathBuf {
        dir.join(format!("{id}.json"))
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| EngineError::Internal(format!("encoding a network: {e}")))?;
        write_atomic(
            &Network::file(dir, &self.id),
            &bytes,
            Durability::MachineCrash,
        )
        .map_err(EngineError::io(format!(
            "writing the network {}",
            self.name
        )))
    }

    pub fn load(file: &Path) -> Result<Network> {
        let bytes = std::fs::read(file).map_err(EngineError::io(format!(
            "reading the network record {}",
            file.display()
        )))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| EngineError::Internal(format!("{}: {e}", file.display())))
    }

    pub fn subnet(&self) -> Subnet {
        Subnet::parse(&self.subnet).unwrap_or(Subnet::new(Ipv4Addr::UNSPECIFIED, 32))
    }

    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// Where endpoints' addresses come from.
    pub fn range(&self) -> Subnet {
        Subnet::parse(&self.ip_range).unwrap_or_else(|| self.subnet())
    }

    /// The bridge's interface name.
    pub fn bridge(&self) -> &str {
        self.options
            .get(BRIDGE_NAME)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn mtu(&self) -> u32 {
        self.options
            .get(MTU)
            .and_then(|m| m.parse().ok())
            .unwrap_or(1500)
    }

    /// Whether traffic leaving the host from it is masqueraded.
    pub fn masquerade(&self) -> bool {
        !self.internal && self.options.get(MASQUERADE).map(String::as_str) != Some("false")
    }

    pub fn is_default(&self) -> bool {
        self.options.contains_key(DEFAULT_BRIDGE)
    }
}

/// What a `network create` asks for, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub name: String,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub subnet: Option<Subnet>,
    pub gateway: Option<Ipv4Addr>,
    pub ip_range: Option<Subnet>,
}

impl Request {
    /// Reads Docker's request, refusing by name what Vessel does not
    /// carry out (other drivers, IPv6, attachable and ingress networks,
    /// more than one subnet, driver options it does not know).
    pub fn of(r: &bollard_stubs::models::NetworkCreateRequest) -> Result<Request> {
        let bad = |field: &str, value: &dyn std::fmt::Debug, why: &str| {
            Err(EngineError::InvalidParameter(format!(
                "{field}: {value:?} {why}"
            )))
        };
        check_name(&r.name)?;
        match r.driver.as_deref() {
            None | Some("" | BRIDGE) => {}
            Some(d) => return bad("Driver", &d, "is not supported (only bridge)"),
        }
        for (field, on) in [
            ("EnableIPv6", r.enable_ipv6),
            ("Attachable", r.attachable),
            ("Ingress", r.ingress),
        ] {
            if on == Some(true) {
                return bad(field, &true, "is not supported");
            }
        }
        let mut req = Request {
            name: r.name.clone(),
            internal: r.internal.unwrap_or(false),
            labels: r.labels.clone().unwrap_or_default().into_iter().collect(),
            ..Default::default()
        };
        for (k, v) in r.options.clone().unwrap_or_default() {
            let ok = match k.as_str() {
                BRIDGE_NAME => is_interface_name(&v),
                MTU => v.parse::<u32>().is_ok_and(|m| (68..=65535).contains(&m)),
                MASQUERADE => v == "true" || v == "false",
                _ => return bad(&format!("Options[{k}]"), &v, "is not a supported option"),
            };
            if !ok {
                return bad(&format!("Options[{k}]"), &v, "is not a valid value");
            }
            req.options.insert(k, v);
        }
        if let Some(ipam) = &r.ipam {
            req.read_ipam(ipam)?;
        }
        Ok(req)
    }

    fn read_ipam(&mut self, ipam: &bollard_stubs::models::Ipam) -> Result<()> {
        let invalid = |field: &str, value: &str, why: &str| {
            EngineError::InvalidParameter(format!("{field}: {value:?} {why}"))
        };
        let bad = |field: &str, value: &str, why: &str| Err(invalid(field, value, why));
        match ipam.driver.as_deref() {
            None | Some("" | "default") => {}
            Some(d) => return bad("IPAM.Driver", d, "is not supported (only default)"),
        }
        if ipam.options.as_ref().is_some_and(|o| !o.is_empty()) {
            return bad("IPAM.Options", "...", "are not supported");
        }
        let configs = ipam.config.clone().unwrap_or_default();
        if configs.len() > 1 {
            return bad(
                "IPAM.Config",
                "...",
                "has more than one subnet (one is supported)",
            );
        }
        let Some(c) = configs.first() else {
            return Ok(());
        };
        let text = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let Some(subnet) = text(&c.subnet) else {
            if c.ip_range.is_some() || c.gateway.is_some() {
                return bad(
                    "IPAM.Config[0].Subnet",
                    "",
                    "must be given with a gateway or range",
                );
            }
            return Ok(());
        };
        let sub = Subnet::parse(&subnet)
            .filter(|s| s.len <= 30)
            .ok_or_else(|| {
                invalid(
                    "IPAM.Config[0].Subnet",
                    &subnet,
                    "is not an IPv4 subnet of /30 or wider",
                )
            })?;
        self.subnet = Some(sub);
        if let Some(range) = text(&c.ip_range) {
            let r = Subnet::parse(&range)
                .filter(|r| sub.covers(r))
                .ok_or_else(|| {
                    invalid(
                        "IPAM.Config[0].IPRange",
                        &range,
                        "is not a subnet inside the subnet",
                    )
                })?;
            self.ip_range = Some(r);
        }
        if let Some(gw) = text(&c.gateway) {
            let ip = gw
                .parse::<Ipv4Addr>()
                .ok()
                .filter(|ip| sub.contains(*ip) && *ip != sub.addr)
                .ok_or_else(|| {
                    invalid(
                        "IPAM.Config[0].Gateway",
                        &gw,
                        "is not an address of the subnet",
                    )
                })?;
            self.gateway = Some(ip);
        }
        if c.auxiliary_addresses
            .as_ref()
            .is_some_and(|a| !a.is_empty())
        {
            return bad(
                "IPAM.Config[0].AuxiliaryAddresses",
                "...",
                "are not supported",
            );
        }
        Ok(())
    }
}

/// Docker's rule for network names (as for container names).
fn check_name(name: &str) -> Result<()> {
    if crate::daemon::names::valid_name(name) {
        return Ok(());
    }
    Err(EngineError::InvalidParameter(format!(
        "Name: {name:?} is not a valid network name (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)"
    )))
}

/// A Linux interface name: 1 to 15 bytes, no `/`, no space, not `.` or
/// `..`.
pub fn is_interface_name(name: &str) -> bool {
    (1..16).contains(&name.len())
        && name != "."
        && name != ".."
        && !name.contains(|c: char| c == '/' || c == ':' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard_stubs::models::{Ipam, IpamConfig, NetworkCreateRequest};

    fn req(v: serde_json::Value) -> Result<Request> {
        let r: NetworkCreateRequest = serde_json::from_value(v).unwrap();
        Request::of(&r)
    }

    #[test]
    fn a_create_request_is_read_and_checked_by_name() {
        let r = req(serde_json::json!({"Name": "app", "Driver": "bridge", "Internal": true,
            "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.9.0.0/24",
            "IPRange": "10.9.0.128/25", "Gateway": "10.9.0.254"}]},
            "Options": {"com.docker.network.bridge.name": "br-app", "com.docker.network.driver.mtu": "1400"},
            "Labels": {"a": "b"}}))
        .unwrap();
        assert_eq!(r.subnet, Subnet::parse("10.9.0.0/24"));
        assert_eq!(r.ip_range, Subnet::parse("10.9.0.128/25"));
        assert_eq!(r.gateway, Some(Ipv4Addr::new(10, 9, 0, 254)));
        assert!(r.internal);
        let err = |v| req(v).unwrap_err().to_string();
        assert!(err(serde_json::json!({"Name": "a b"})).contains("Name"));
        assert!(err(serde_json::json!({"Name": "a", "Driver": "overlay"})).contains("Driver"));
        assert!(err(serde_json::json!({"Name": "a", "Options": {"x": "1"}})).contains("Options[x]"));
        assert!(err(serde_json::json!({"Name": "a", "Options": {MTU: "9"}})).contains("mtu"));
        assert!(err(serde_json::json!({"Name": "a", "EnableIPv6": true})).contains("EnableIPv6"));
        let ipam = |c: IpamConfig| {
            let r = NetworkCreateRequest {
                name: "a".into(),
                ipam: Some(Ipam {
                    config: Some(vec![c]),
                    ..Default::default()
                }),
                ..Default::default()
            };
            Request::of(&r).unwrap_err().to_string()
        };
        let c = |s: &str, r: &str, g: &str| IpamConfig {
            subnet: Some(s.into()),
            ip_range: Some(r.into()).filter(|r: &String| !r.is_empty()),
            gateway: Some(g.into()).filter(|g: &String| !g.is_empty()),
            ..Default::default()
        };
        assert!(ipam(c("10.0.0.0/33", "", "")).contains("Subnet"));
        assert!(ipam(c("10.0.0.0/24", "10.1.0.0/25", "")).contains("IPRange"));
        assert!(ipam(c("10.0.0.0/24", "", "10.0.1.1")).contains("Gateway"));
    }
}
