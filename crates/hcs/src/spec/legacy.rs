//! The interim Windows spec Docker used in 2016 (`libcontainerd/windowsoci`),
//! which also fed the Windows exec driver's `Run`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `windows` of a 2016 Docker spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Windows {
    pub resources: Option<Resources>,
    pub networking: Option<Networking>,
    pub first_start: bool,
    pub layer_folder: String,
    pub layer_paths: Vec<String>,
    pub hv_runtime: Option<HvRuntime>,
}

/// `windows.hv_runtime`: its presence asks for Hyper-V isolation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HvRuntime {
    pub image_path: String,
}

/// `windows.networking`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Networking {
    pub endpoints: Vec<String>,
    /// MAC address of the NAT network device, written with colons.
    pub mac: String,
    /// The virtual switch of the NAT network device.
    pub bridge: String,
    /// Published ports: `"80/tcp"` to the host ports bound to it.
    pub port_bindings: BTreeMap<String, Vec<HostBinding>>,
}

/// One host side of a published port.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HostBinding {
    #[serde(rename = "HostIp")]
    pub host_ip: String,
    #[serde(rename = "HostPort")]
    pub host_port: String,
}

/// `windows.resources`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub memory: Option<Memory>,
    pub cpu: Option<Cpu>,
    pub storage: Option<Storage>,
}

/// `windows.resources.memory`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Memory {
    pub limit: Option<i64>,
}

/// `windows.resources.cpu`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Cpu {
    pub count: Option<u64>,
    pub shares: Option<u64>,
    /// Percent of the host's CPU time, 1 to 100.
    pub percent: Option<i64>,
}

/// `windows.resources.storage`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Storage {
    pub iops: Option<u64>,
    pub bps: Option<u64>,
    pub sandbox_size: Option<u64>,
}

/// An entry of `mounts` in the 2016 shape: read-only is a flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Mount {
    pub destination: String,
    pub source: String,
    pub readonly: bool,
}
