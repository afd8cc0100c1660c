//! The NAT network device of Docker's 2016 Windows exec driver.

use crate::error::HcsConfigError;
use crate::schema::{Device, NatSettings, NetworkConnection, NetworkSettings, PortBinding};
use crate::spec::legacy::Networking;

/// The network device for `networking`, with its published ports checked.
pub(super) fn device(networking: &Networking, nat_name: &str) -> Result<Device, HcsConfigError> {
    let mut bindings: Option<Vec<PortBinding>> = None;
    for (port, hosts) in &networking.port_bindings {
        let (number, protocol) = split_port(port);
        let upper = protocol.to_ascii_uppercase();
        if upper != "TCP" && upper != "UDP" {
            return Err(HcsConfigError::NatProtocol {
                port: port.clone(),
                protocol: protocol.to_string(),
            });
        }
        if hosts.len() > 1 {
            return Err(HcsConfigError::NatManyHostPorts {
                port: port.clone(),
                count: hosts.len(),
            });
        }
        for host in hosts {
            if !host.host_ip.is_empty() {
                return Err(HcsConfigError::NatHostIp {
                    port: port.clone(),
                    host_ip: host.host_ip.clone(),
                });
            }
            let external: i64 =
                host.host_port
                    .parse()
                    .map_err(|_| HcsConfigError::NatHostPortNotNumber {
                        port: port.clone(),
                        value: host.host_port.clone(),
                    })?;
            let internal: i64 =
                number
                    .parse()
                    .map_err(|_| HcsConfigError::NatContainerPortNotNumber {
                        port: port.clone(),
                        value: number.to_string(),
                    })?;
            let in_range = |p: i64| {
                u16::try_from(p).map_err(|_| HcsConfigError::NatPortRange {
                    port: port.clone(),
                    value: p,
                })
            };
            bindings.get_or_insert_with(Vec::new).push(PortBinding {
                protocol: upper.clone(),
                internal_port: in_range(internal)?,
                external_port: in_range(external)?,
            });
        }
    }
    Ok(Device {
        device_type: "Network".into(),
        connection: NetworkConnection {
            network_name: networking.bridge.clone(),
            enable_nat: false,
            nat: NatSettings {
                name: nat_name.to_string(),
                port_bindings: bindings,
            },
        },
        settings: (!networking.mac.is_empty()).then(|| NetworkSettings {
            mac_address: networking.mac.replace(':', "-"),
        }),
    })
}

/// `"80/udp"` to `("80", "udp")`; the protocol defaults to tcp.
fn split_port(port: &str) -> (&str, &str) {
    let mut parts = port.split('/');
    let number = parts.next().unwrap_or_default();
    match parts.next() {
        None | Some("") => (number, "tcp"),
        Some(protocol) => (number, protocol),
    }
}

#[cfg(test)]
mod tests {
    use super::split_port;

    #[test]
    fn port_keys_split_into_number_and_protocol() {
        assert_eq!(split_port("80/tcp"), ("80", "tcp"));
        assert_eq!(split_port("53/udp"), ("53", "udp"));
        assert_eq!(split_port("8080"), ("8080", "tcp"));
        assert_eq!(split_port("8080/"), ("8080", "tcp"));
        assert_eq!(split_port("1/sctp"), ("1", "sctp"));
    }
}
