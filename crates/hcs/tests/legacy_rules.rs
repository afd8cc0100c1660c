//! The rules for a Windows container from Docker's 2016 spec and the NAT
//! device of its Windows exec driver, one test per rule.

mod common;

use common::*;
use serde_json::json;
use vessel_hcs::BuildOptions;

#[test]
fn legacy_layer_folder_is_the_layer_folder_path_and_root_the_volume() {
    let d = doc(legacy_spec(json!({})));
    assert_eq!(d["LayerFolderPath"], RW);
    // Unchanged: the 2016 translation took the path as given.
    assert_eq!(d["VolumePath"], VOLUME);
}

#[test]
fn legacy_layer_paths_become_layers_identified_by_name_to_guid() {
    assert_eq!(
        doc(legacy_spec(json!({})))["Layers"],
        json!([{"ID": MID_ID, "Path": MID}, {"ID": BASE_ID, "Path": BASE}])
    );
}

#[test]
fn legacy_layer_without_a_known_id_names_its_field() {
    let e = err(legacy_spec(
        json!({"windows": {"layer_paths": ["C:\\x\\unknown"]}}),
    ));
    assert!(
        e.starts_with("windows.layer_paths[0]:") && e.contains("--layer-id unknown="),
        "{e}"
    );
}

#[test]
fn legacy_first_start_sets_ignore_flushes_during_boot() {
    assert_eq!(
        doc(legacy_spec(json!({"windows": {"first_start": true}})))["IgnoreFlushesDuringBoot"],
        true
    );
}

#[test]
fn legacy_endpoints_become_the_endpoint_list() {
    let d = doc(legacy_spec(
        json!({"windows": {"networking": {"endpoints": ["e1"]}}}),
    ));
    assert_eq!(d["EndpointList"], json!(["e1"]));
    assert!(d.get("Devices").is_none(), "no bridge, no NAT device");
}

#[test]
fn legacy_hyperv_sandbox_path_is_the_parent_of_the_layer_folder() {
    let d = doc(legacy_spec(
        json!({"windows": {"hv_runtime": {"image_path": "C:\\uvm"}}}),
    ));
    assert_eq!(d["SandboxPath"], r"C:\wf");
    assert_eq!(d["HvPartition"], true);
    // Set with the struct, before the isolation branch: every container's.
    assert_eq!(d["LayerFolderPath"], RW);
}

#[test]
fn legacy_hyperv_volume_path_is_always_empty() {
    let d = doc(legacy_spec(
        json!({"windows": {"hv_runtime": {"image_path": "C:\\uvm"}}}),
    ));
    assert!(d.get("VolumePath").is_none());
}

#[test]
fn legacy_hyperv_image_path_is_taken_as_given() {
    let d = doc(legacy_spec(
        json!({"windows": {"hv_runtime": {"image_path": "C:\\uvm"}}}),
    ));
    assert_eq!(d["HvRuntime"], json!({"ImagePath": r"C:\uvm"}));
}

#[test]
fn legacy_hyperv_servicing_keeps_the_layer_folder_path() {
    let mut opts = BuildOptions::new("c");
    opts.servicing = true;
    let spec = legacy_spec(json!({"windows": {"hv_runtime": {"image_path": "C:\\uvm"}}}));
    let d = build_with(spec, &opts, &host()).unwrap();
    assert_eq!(d.config.layer_folder_path, RW);
    assert!(d.config.servicing);
}

#[test]
fn legacy_skip_template_for_images_below_build_14350() {
    let hv = |version: &str| {
        doc(legacy_spec(json!({"platform": {"os.version": version},
            "windows": {"hv_runtime": {"image_path": "C:\\uvm"}}})))["HvRuntime"]
            .clone()
    };
    assert_eq!(hv("10.0.14300.1000")["SkipTemplate"], true);
    assert!(hv("10.0.14350").get("SkipTemplate").is_none());
    assert!(
        hv("").get("SkipTemplate").is_none(),
        "unknown version: no skip"
    );
}

#[test]
fn legacy_cpu_percent_becomes_hundredths() {
    let d = doc(legacy_spec(
        json!({"windows": {"resources": {"cpu": {"percent": 25, "shares": 10}}}}),
    ));
    assert_eq!(d["ProcessorMaximum"], 2500);
    assert_eq!(d["ProcessorWeight"], 10);
}

#[test]
fn legacy_cpu_count_is_clamped_to_the_host() {
    let d = build(legacy_spec(
        json!({"windows": {"resources": {"cpu": {"count": 9}}}}),
    ))
    .unwrap();
    assert_eq!(d.config.processor_count, 4);
    assert_eq!(d.warnings.len(), 1);
}

#[test]
fn legacy_memory_and_storage_including_sandbox_size() {
    let d = doc(legacy_spec(json!({"windows": {"resources": {
        "memory": {"limit": 1073741824},
        "storage": {"iops": 5, "bps": 6, "sandbox_size": 7}}}})));
    assert_eq!(d["MemoryMaximumInMB"], 1024);
    assert_eq!(d["StorageIOPSMaximum"], 5);
    assert_eq!(d["StorageBandwidthMaximum"], 6);
    assert_eq!(d["StorageSandboxSize"], 7);
}

#[test]
fn legacy_mount_readonly_flag_is_kept() {
    let d = doc(legacy_spec(
        json!({"mounts": [{"destination": "C:\\a", "source": "C:\\b", "readonly": true}]}),
    ));
    assert_eq!(d["MappedDirectories"][0]["ReadOnly"], true);
}

fn nat(networking: serde_json::Value) -> Result<serde_json::Value, String> {
    build(legacy_spec(json!({"windows": {"networking": networking}})))
        .map(|d| serde_json::to_value(d.config).unwrap()["Devices"].clone())
        .map_err(|e| e.to_string())
}

#[test]
fn nat_device_is_built_from_the_bridge() {
    let devices = nat(
        json!({"bridge": "Virtual Switch", "mac": "02:42:ac:11:00:02",
        "port_bindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                          "53/udp": [{"HostPort": "5353"}]}}),
    )
    .unwrap();
    assert_eq!(
        devices,
        json!([{
            "DeviceType": "Network",
            "Connection": {
                "NetworkName": "Virtual Switch",
                "EnableNat": false,
                "Nat": {"Name": "ContainerNAT", "PortBindings": [
                    {"Protocol": "UDP", "InternalPort": 53, "ExternalPort": 5353},
                    {"Protocol": "TCP", "InternalPort": 80, "ExternalPort": 8080}
                ]}
            },
            "Settings": {"MacAddress": "02-42-ac-11-00-02"}
        }])
    );
}

#[test]
fn nat_device_without_ports_or_mac_has_null_bindings_and_settings() {
    let devices = nat(json!({"bridge": "sw"})).unwrap();
    assert_eq!(devices[0]["Connection"]["Nat"]["PortBindings"], json!(null));
    assert_eq!(devices[0]["Settings"], json!(null));
}

#[test]
fn nat_name_can_be_overridden() {
    let mut opts = BuildOptions::new("c");
    opts.container_nat = "MyNAT".into();
    let spec = legacy_spec(json!({"windows": {"networking": {"bridge": "sw"}}}));
    let d = build_with(spec, &opts, &host()).unwrap();
    assert_eq!(d.config.devices[0].connection.nat.name, "MyNAT");
}

#[test]
fn nat_protocol_must_be_tcp_or_udp() {
    let e = nat(json!({"bridge": "sw", "port_bindings": {"80/sctp": [{"HostPort": "80"}]}}))
        .unwrap_err();
    assert!(e.contains("\"80/sctp\"") && e.contains("\"sctp\""), "{e}");
}

#[test]
fn nat_takes_one_host_port_per_container_port() {
    let e = nat(json!({"bridge": "sw", "port_bindings":
        {"80/tcp": [{"HostPort": "80"}, {"HostPort": "81"}]}}))
    .unwrap_err();
    assert!(e.contains("2 host ports"), "{e}");
}

#[test]
fn nat_rejects_a_host_ip() {
    let e = nat(json!({"bridge": "sw", "port_bindings":
        {"80/tcp": [{"HostIp": "10.0.0.1", "HostPort": "80"}]}}))
    .unwrap_err();
    assert!(e.contains("\"10.0.0.1\""), "{e}");
}

#[test]
fn nat_host_port_must_be_a_number() {
    let e = nat(json!({"bridge": "sw", "port_bindings": {"80/tcp": [{"HostPort": "http"}]}}))
        .unwrap_err();
    assert!(e.contains("host port \"http\""), "{e}");
}

#[test]
fn nat_container_port_must_be_a_number() {
    let e = nat(json!({"bridge": "sw", "port_bindings": {"web/tcp": [{"HostPort": "80"}]}}))
        .unwrap_err();
    assert!(e.contains("container port \"web\""), "{e}");
}

#[test]
fn nat_ports_must_be_within_0_to_65535() {
    let e = nat(json!({"bridge": "sw", "port_bindings": {"80/tcp": [{"HostPort": "65536"}]}}))
        .unwrap_err();
    assert!(e.contains("65536"), "{e}");
    let e = nat(json!({"bridge": "sw", "port_bindings": {"-1/tcp": [{"HostPort": "80"}]}}))
        .unwrap_err();
    assert!(e.contains("-1"), "{e}");
    assert!(
        nat(json!({"bridge": "sw", "port_bindings": {"0/tcp": [{"HostPort": "65535"}]}})).is_ok()
    );
}
