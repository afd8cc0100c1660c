//! The Windows section of runtime-spec 1.0, as Docker filled it in 2017.

use serde::Deserialize;
use serde_json::Value;

/// `windows` of a runtime-spec 1.0 document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Windows {
    #[serde(rename = "layerFolders")]
    pub layer_folders: Option<Vec<String>>,
    pub resources: Option<Resources>,
    #[serde(rename = "credentialSpec")]
    pub credential_spec: Option<Value>,
    pub servicing: bool,
    #[serde(rename = "ignoreFlushesDuringBoot")]
    pub ignore_flushes_during_boot: bool,
    pub hyperv: Option<HyperV>,
    pub network: Option<Network>,
}

/// `windows.hyperv`: its presence asks for Hyper-V isolation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HyperV {
    #[serde(rename = "utilityVMPath")]
    pub utility_vm_path: String,
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
    pub limit: Option<u64>,
}

/// `windows.resources.cpu`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Cpu {
    pub count: Option<u64>,
    pub shares: Option<u16>,
    /// Hundredths of a percent of the host's CPU time, 1 to 10000.
    pub maximum: Option<u16>,
}

/// `windows.resources.storage`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Storage {
    pub iops: Option<u64>,
    pub bps: Option<u64>,
    #[serde(rename = "sandboxSize")]
    pub sandbox_size: Option<u64>,
}

/// `windows.network`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Network {
    #[serde(rename = "endpointList")]
    pub endpoint_list: Vec<String>,
    #[serde(rename = "allowUnqualifiedDNSQuery")]
    pub allow_unqualified_dns_query: bool,
    #[serde(rename = "DNSSearchList")]
    pub dns_search_list: Option<Vec<String>>,
    #[serde(rename = "networkSharedContainerName")]
    pub network_shared_container_name: String,
}

/// An entry of `mounts`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct Mount {
    pub destination: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub options: Vec<String>,
}
