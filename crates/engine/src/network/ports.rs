//! Published ports: what a container asks for (`HostConfig.PortBindings`,
//! `PublishAllPorts` with its exposed ports), checked at create, and the
//! host ports held for it while it runs.
//!
//! A held port is a socket the engine binds (and, for TCP, listens on)
//! without ever accepting: the kernel then refuses the port to anyone
//! else, and reports one that is taken at once. The packets themselves
//! never reach it: the firewall's DNAT sends them to the container first.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use bollard_stubs::models::PortBinding;

use crate::error::{EngineError, Result};

/// One port a container publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// `tcp` or `udp`.
    pub proto: String,
    pub port: u16,
    /// The host's address; none for all of them.
    pub host_ip: Option<Ipv4Addr>,
    /// The host ports it may take (`0..=0`: any free one).
    pub host_ports: (u16, u16),
}

/// Reads `80/tcp`, `53/udp` or `80` (tcp).
pub fn parse_key(key: &str) -> Option<(u16, String)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
    matches!(proto, "tcp" | "udp").then(|| (port, proto.to_string()))
}

/// The bindings of a create request: each of `bindings`, and with
/// `publish_all` every exposed port that has none, on a free host port.
pub fn bindings(
    bindings: &BTreeMap<String, Option<Vec<PortBinding>>>,
    exposed: &[String],
    publish_all: bool,
) -> Result<Vec<Binding>> {
    let bad = |field: String, value: &str, want: &str| {
        EngineError::InvalidParameter(format!("{field}: {value:?} is not {want}"))
    };
    let mut out = Vec::new();
    for (key, list) in bindings {
        let field = format!("HostConfig.PortBindings[{key}]");
        let (port, proto) =
            parse_key(key).ok_or_else(|| bad(field.clone(), key, "PORT[/tcp|udp]"))?;
        for b in list.iter().flatten() {
            let host_ip = match b.host_ip.as_deref().unwrap_or_default() {
                "" | "0.0.0.0" => None,
                ip => Some(ip.parse::<Ipv4Addr>().map_err(|_| {
                    bad(
                        format!("{field}.HostIp"),
                        ip,
                        "an IPv4 address (IPv6 is not supported)",
                    )
                })?),
            };
            let text = b.host_port.as_deref().unwrap_or_default();
            let host_ports = host_port_range(text).ok_or_else(|| {
                bad(
                    format!("{field}.HostPort"),
                    text,
                    "a port or a range of ports",
                )
            })?;
            out.push(Binding {
                proto: proto.clone(),
                port,
                host_ip,
                host_ports,
            });
        }
    }
    if publish_all {
        for key in exposed {
            let (port, proto) = parse_key(key)
                .ok_or_else(|| bad("Config.ExposedPorts".into(), key, "PORT[/tcp|udp]"))?;
            if !out.iter().any(|b| b.port == port && b.proto == proto) {
                out.push(Binding {
                    proto,
                    port,
                    host_ip: None,
                    host_ports: (0, 0),
                });
            }
        }
    }
    Ok(out)
}

fn host_port_range(text: &str) -> Option<(u16, u16)> {
    if text.is_empty() {
        return Some((0, 0));
    }
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
    (a <= b && (a > 0 || b == 0)).then_some((a, b))
}

/// A host port held for a container.
#[derive(Debug)]
pub struct Held {
    pub binding: Binding,
    pub host_port: u16,
    _socket: Option<Socket>,
}

impl Held {
    /// A port the container keeps although the engine could not bind it
    /// again (after a restart, while a process that inherited the old
    /// socket still holds it): its rule stays.
    pub fn unbound(binding: Binding, host_port: u16) -> Held {
        Held {
            binding,
            host_port,
            _socket: None,
        }
    }
}

#[derive(Debug)]
enum Socket {
    Tcp(#[allow(dead_code)] TcpListener),
    Udp(#[allow(dead_code)] UdpSocket),
}

/// Binds `port` of `b`'s host address; the kernel's error when it is
/// taken.
fn bind(b: &Binding, port: u16) -> std::io::Result<Socket> {
    let addr = SocketAddr::from((b.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), port));
    match b.proto.as_str() {
        "udp" => UdpSocket::bind(addr).map(Socket::Udp),
        _ => TcpListener::bind(addr).map(Socket::Tcp),
    }
}

/// Holds `port` for `b` again after a restart of the engine. The dead
/// engine's socket may still be open for a moment in a child it was
/// starting (a process keeps its parent's descriptors until it execs), so
/// a port in use is tried again for up to two seconds.
pub fn hold_again(b: &Binding, port: u16) -> std::io::Result<Held> {
    let mut tries = 0;
    loop {
        match bind(b, port) {
            Ok(s) => {
                return Ok(Held {
                    binding: b.clone(),
                    host_port: port,
                    _socket: Some(s),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The host's range of ports handed out when none is asked for.
fn ephemeral_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut it = text.split_whitespace().filter_map(|p| p.parse().ok());
    match (it.next(), it.next()) {
        (Some(a), Some(b)) if a <= b => (a, b),
        _ => (32768, 60999),
    }
}

/// Holds a host port for `b`: the one asked for, or the first free one
/// of its range, or (none asked for) the next free one after `cursor`
/// in the host's ephemeral range, as Docker hands them out. `endpoint`
/// names the container in errors.
pub fn hold(b: &Binding, cursor: &mut u16, endpoint: &str) -> Result<Held> {
    let addr = b.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let taken = |port: u16, e: std::io::Error| {
        EngineError::Conflict(format!(
            "driver failed programming external connectivity on endpoint {endpoint}: \
             Bind for {addr}:{port} failed: {}",
            match e.kind() {
                std::io::ErrorKind::AddrInUse => "port is already allocated".to_string(),
                _ => crate::error::os_text(&e),
            }
        ))
    };
    let held = |port, socket| Held {
        binding: b.clone(),
        host_port: port,
        _socket: Some(socket),
    };
    match b.host_ports {
        (0, 0) => {
            let (lo, hi) = ephemeral_range();
            let span = u32::from(hi - lo) + 1;
            let start = (*cursor).clamp(lo, hi);
            for i in 0..span {
                let port = (u32::from(start - lo) + i) % span + u32::from(lo);
                let port = port as u16;
                if let Ok(s) = bind(b, port) {
                    *cursor = if port == hi { lo } else { port + 1 };
                    return Ok(held(port, s));
                }
            }
            Err(EngineError::Conflict(format!(
                "driver failed programming external connectivity on endpoint {endpoint}: \
                 no free port in {lo}-{hi} for {addr}"
            )))
        }
        (a, b_) if a == b_ => bind(b, a).map(|s| held(a, s)).map_err(|e| taken(a, e)),
        (a, z) => {
            let mut last = None;
            for port in a..=z {
                match bind(b, port) {
                    Ok(s) => return Ok(held(port, s)),
                    Err(e) => last = Some(e),
                }
            }
            Err(taken(
                z,
                last.unwrap_or_else(|| std::io::ErrorKind::AddrInUse.into()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: Some(ip.into()),
            host_port: Some(port.into()),
        }
    }

    #[test]
    fn bindings_are_read_and_checked_by_name() {
        let map = BTreeMap::from([
            (
                "80/tcp".to_string(),
                Some(vec![pb("", "8080"), pb("127.0.0.1", "9000-9010")]),
            ),
            ("53/udp".to_string(), Some(vec![pb("", "")])),
        ]);
        let b = bindings(&map, &["443/tcp".into(), "80/tcp".into()], true).unwrap();
        assert_eq!(b.len(), 4);
        assert_eq!(b[0].proto, "udp");
        assert_eq!(b[1].host_ports, (8080, 8080));
        assert_eq!(b[2].host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(b[2].host_ports, (9000, 9010));
        assert_eq!(b[3].port, 443);
        assert_eq!(b[3].host_ports, (0, 0));
        let err = |k: &str, ip: &str, port: &str| {
            let map = BTreeMap::from([(k.to_string(), Some(vec![pb(ip, port)]))]);
            bindings(&map, &[], false).unwrap_err().to_string()
        };
        assert!(err("80/sctp", "", "1").contains("PortBindings[80/sctp]"));
        assert!(err("80", "::", "1").contains("HostIp"));
        assert!(err("80", "", "x").contains("HostPort"));
        assert!(err("80", "", "90-80").contains("HostPort"));
    }

    #[test]
    fn a_held_port_is_refused_to_the_next() {
        let b = Binding {
            proto: "tcp".into(),
            port: 80,
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_ports: (0, 0),
        };
        let mut cursor = 0;
        let first = hold(&b, &mut cursor, "c").unwrap();
        let again = Binding {
            host_ports: (first.host_port, first.host_port),
            ..b.clone()
        };
        let err = hold(&again, &mut cursor, "c").unwrap_err().to_string();
        assert!(err.contains("port is already allocated"), "{err}");
        let second = hold(&b, &mut cursor, "c").unwrap();
        assert_ne!(first.host_port, second.host_port);
        let range = Binding {
            host_ports: (first.host_port, second.host_port.max(first.host_port + 1)),
            ..b
        };
        drop(second);
        assert!(hold(&range, &mut cursor, "c").is_ok());
    }
}
