//! The HCS schema-v1 documents, field for field.
//!
//! Field names, their order and which fields are left out when empty follow
//! hcsshim's `schema1` package, so that the JSON is what `vmcompute.dll`
//! receives from Docker. Two fields of older generations are kept:
//! `SandboxPath` (Hyper-V, 2016) and `Devices` (the NAT network device of
//! Docker's Windows exec driver).

use std::collections::BTreeMap;

use serde::Serialize;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// The document passed to `HcsCreateComputeSystem` for a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    pub system_type: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub owner: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub volume_path: String,
    /// Network devices, as the 2016 exec driver declared them (pre-HNS).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    #[serde(skip_serializing_if = "is_false")]
    pub ignore_flushes_during_boot: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub layer_folder_path: String,
    /// Always present; `None` marshals as `null`, as a nil Go slice does.
    pub layers: Option<Vec<Layer>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub credentials: String,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub processor_count: u32,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub processor_weight: u64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub processor_maximum: i64,
    #[serde(rename = "StorageIOPSMaximum", skip_serializing_if = "is_zero_u64")]
    pub storage_iops_maximum: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub storage_bandwidth_maximum: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub storage_sandbox_size: u64,
    #[serde(rename = "MemoryMaximumInMB", skip_serializing_if = "is_zero_i64")]
    pub memory_maximum_in_mb: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mapped_directories: Vec<MappedDir>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mapped_pipes: Vec<MappedPipe>,
    /// Location of the unmounted sandbox of a Hyper-V container (2016).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sandbox_path: String,
    /// Always present.
    pub hv_partition: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network_shared_container_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoint_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hv_runtime: Option<HvRuntime>,
    #[serde(skip_serializing_if = "is_false")]
    pub servicing: bool,
    #[serde(rename = "AllowUnqualifiedDNSQuery", skip_serializing_if = "is_false")]
    pub allow_unqualified_dns_query: bool,
    #[serde(rename = "DNSSearchList", skip_serializing_if = "String::is_empty")]
    pub dns_search_list: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_type: String,
    #[serde(skip_serializing_if = "is_false")]
    pub terminate_on_last_handle_closed: bool,
}

/// A read-only image layer below the container's sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Path")]
    pub path: String,
}

/// A host directory shared into the container (or its utility VM).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MappedDir {
    pub host_path: String,
    pub container_path: String,
    pub read_only: bool,
    pub bandwidth_maximum: u64,
    #[serde(rename = "IOPSMaximum")]
    pub iops_maximum: u64,
    #[serde(rename = "CreateInUtilityVM")]
    pub create_in_utility_vm: bool,
}

/// A host named pipe shared into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MappedPipe {
    pub host_path: String,
    pub container_pipe_name: String,
}

/// Hyper-V settings: where the utility VM boots from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HvRuntime {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_path: String,
    #[serde(skip_serializing_if = "is_false")]
    pub skip_template: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub linux_initrd_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub linux_kernel_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub linux_boot_parameters: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub boot_source: String,
    #[serde(skip_serializing_if = "is_false")]
    pub writable_boot_source: bool,
}

/// A device of the 2016 exec driver; only `"Network"` was ever built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Device {
    pub device_type: String,
    pub connection: NetworkConnection,
    /// `null` unless a MAC address was given.
    pub settings: Option<NetworkSettings>,
}

/// The virtual switch a network device attaches to, and its NAT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkConnection {
    pub network_name: String,
    pub enable_nat: bool,
    pub nat: NatSettings,
}

/// The container NAT device and the ports published through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatSettings {
    pub name: String,
    /// `null` when no port is published, as a nil Go slice marshals.
    pub port_bindings: Option<Vec<PortBinding>>,
}

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    pub protocol: String,
    pub internal_port: u16,
    pub external_port: u16,
}

/// Per-device network settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// Windows writes MAC addresses with dashes.
    pub mac_address: String,
}

/// The document passed to `HcsCreateProcess`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub application_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub command_line: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command_args: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub working_directory: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "is_false")]
    pub emulate_console: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub create_std_in_pipe: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub create_std_out_pipe: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub create_std_err_pipe: bool,
    /// `[height, width]`; a fixed array, so always present.
    pub console_size: [u32; 2],
    /// Spelled with a lower-case `m` in the schema.
    #[serde(rename = "CreateInUtilityVm", skip_serializing_if = "is_false")]
    pub create_in_utility_vm: bool,
    /// The whole OCI spec, handed through HCS to the Linux guest (LCOW).
    #[serde(rename = "OCISpecification", skip_serializing_if = "Option::is_none")]
    pub oci_specification: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_container_config_keeps_layers_and_hv_partition() {
        let doc = serde_json::to_value(ContainerConfig::default()).unwrap();
        assert_eq!(
            doc,
            json!({"SystemType": "", "Name": "", "Layers": null, "HvPartition": false})
        );
    }

    #[test]
    fn empty_process_config_keeps_console_size() {
        let doc = serde_json::to_value(ProcessConfig::default()).unwrap();
        assert_eq!(doc, json!({"ConsoleSize": [0, 0]}));
    }

    #[test]
    fn mapped_dir_fields_are_never_omitted() {
        let doc = serde_json::to_value(MappedDir::default()).unwrap();
        assert_eq!(
            doc,
            json!({"HostPath": "", "ContainerPath": "", "ReadOnly": false,
                   "BandwidthMaximum": 0, "IOPSMaximum": 0, "CreateInUtilityVM": false})
        );
    }

    #[test]
    fn container_config_field_order_follows_the_schema() {
        let cfg = ContainerConfig {
            system_type: "Container".into(),
            name: "n".into(),
            owner: "o".into(),
            hv_runtime: Some(HvRuntime::default()),
            servicing: true,
            ..Default::default()
        };
        let text = serde_json::to_string(&cfg).unwrap();
        assert_eq!(
            text,
            r#"{"SystemType":"Container","Name":"n","Owner":"o","Layers":null,"HvPartition":false,"HvRuntime":{},"Servicing":true}"#
        );
    }
}
