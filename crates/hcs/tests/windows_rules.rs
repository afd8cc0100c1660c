//! The rules for a Windows container from a runtime-spec 1.0 spec, one
//! test per rule.

mod common;

use common::*;
use serde_json::json;
use vessel_hcs::{BuildOptions, HostFacts};

#[test]
fn root_path_must_be_a_volume_guid_path() {
    let e = err(oci_spec(json!({"root": {"path": "C:\\rootfs"}})));
    assert!(
        e.starts_with("root.path:") && e.contains(r"C:\\rootfs"),
        "{e}"
    );
}

#[test]
fn empty_root_path_is_rejected_for_process_isolation() {
    let e = err(oci_spec(json!({"root": {"path": ""}})));
    assert!(e.starts_with("root.path: \"\""), "{e}");
}

#[test]
fn volume_path_drops_the_trailing_backslash() {
    let d = doc(oci_spec(json!({})));
    assert_eq!(
        d["VolumePath"],
        r"\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}"
    );
}

#[test]
fn readonly_root_is_rejected() {
    let e = err(oci_spec(json!({"root": {"readonly": true}})));
    assert!(e.starts_with("root.readonly:"), "{e}");
}

#[test]
fn at_least_two_layer_folders_are_required() {
    for folders in [json!([]), json!([RW])] {
        let e = err(oci_spec(json!({"windows": {"layerFolders": folders}})));
        assert!(e.starts_with("windows.layerFolders: at least 2"), "{e}");
    }
    let e = err(oci_spec(
        json!({"windows": {"layerFolders": null, "servicing": false}}),
    ));
    assert!(e.contains("found 0"), "{e}");
}

#[test]
fn last_layer_folder_is_the_layer_folder_path() {
    assert_eq!(doc(oci_spec(json!({})))["LayerFolderPath"], RW);
}

#[test]
fn other_layer_folders_become_layers_identified_by_name_to_guid() {
    assert_eq!(
        doc(oci_spec(json!({})))["Layers"],
        json!([{"ID": MID_ID, "Path": MID}, {"ID": BASE_ID, "Path": BASE}])
    );
}

#[test]
fn a_layer_without_a_known_id_is_an_error_saying_how_to_supply_it() {
    let e = err(oci_spec(
        json!({"windows": {"layerFolders": [r"C:\wf\other", RW]}}),
    ));
    assert!(e.starts_with("windows.layerFolders[0]:"), "{e}");
    assert!(e.contains("--layer-id other=GUID"), "{e}");
}

#[test]
fn hyperv_section_sets_hv_partition() {
    let (_dir, host) = windows_root_with_uvm(&[BASE]);
    let spec = oci_spec(json!({"root": {"path": ""}, "windows": {"hyperv": {}}}));
    let d = build_with(spec, &BuildOptions::new("c"), &host).unwrap();
    assert!(d.config.hv_partition);
    assert!(!doc(oci_spec(json!({})))["HvPartition"].as_bool().unwrap());
}

#[test]
fn hyperv_rejects_an_explicit_utility_vm_path() {
    let spec = oci_spec(json!({"root": {"path": ""},
        "windows": {"hyperv": {"utilityVMPath": "C:\\uvm"}}}));
    let e = err(spec);
    assert!(
        e.starts_with("windows.hyperv.utilityVMPath:") && e.contains(r"C:\\uvm"),
        "{e}"
    );
}

#[test]
fn hyperv_utility_vm_comes_from_the_upper_most_layer_that_has_one() {
    let (_dir, host) = windows_root_with_uvm(&[MID, BASE]);
    let spec = oci_spec(json!({"root": {"path": ""}, "windows": {"hyperv": {}}}));
    let d = build_with(spec, &BuildOptions::new("c"), &host).unwrap();
    assert_eq!(
        d.config.hv_runtime.unwrap().image_path,
        r"C:\wf\mid\UtilityVM"
    );

    let (_dir, host) = windows_root_with_uvm(&[BASE]);
    let spec = oci_spec(json!({"root": {"path": ""}, "windows": {"hyperv": {}}}));
    let d = build_with(spec, &BuildOptions::new("c"), &host).unwrap();
    assert_eq!(
        d.config.hv_runtime.unwrap().image_path,
        r"C:\wf\base\UtilityVM"
    );
}

#[test]
fn hyperv_without_a_utility_vm_image_is_an_error() {
    let (_dir, host) = windows_root_with_uvm(&[RW]);
    let spec = oci_spec(json!({"root": {"path": ""}, "windows": {"hyperv": {}}}));
    let e = build_with(spec, &BuildOptions::new("c"), &host)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no layer folder holds a UtilityVM"), "{e}");
}

#[test]
fn hyperv_utility_vm_look_up_off_windows_needs_a_windows_root() {
    let spec = oci_spec(json!({"root": {"path": ""}, "windows": {"hyperv": {}}}));
    let e = err(spec);
    assert!(
        e.starts_with("windows.layerFolders[0]:") && e.contains("--windows-root"),
        "{e}"
    );
}

#[test]
fn hyperv_requires_an_empty_root_path() {
    let (_dir, host) = windows_root_with_uvm(&[BASE]);
    let spec = oci_spec(json!({"windows": {"hyperv": {}}}));
    let e = build_with(spec, &BuildOptions::new("c"), &host)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("root.path:") && e.contains("Hyper-V"), "{e}");
}

#[test]
fn hyperv_gets_the_layer_folder_path_servicing_or_not() {
    // The reference's table says "servicing only"; its code assigns the
    // top layer folder to every container.
    let (_dir, host) = windows_root_with_uvm(&[BASE]);
    let spec = oci_spec(json!({"root": {"path": ""}, "windows": {"hyperv": {}}}));
    let d = build_with(spec, &BuildOptions::new("c"), &host).unwrap();
    assert_eq!(d.config.layer_folder_path, RW);
    let spec =
        oci_spec(json!({"root": {"path": ""}, "windows": {"hyperv": {}, "servicing": true}}));
    let d = build_with(spec, &BuildOptions::new("c"), &host).unwrap();
    assert_eq!(d.config.layer_folder_path, RW);
}

#[test]
fn cpu_count_is_clamped_to_the_host_with_a_warning() {
    let d = build(oci_spec(
        json!({"windows": {"resources": {"cpu": {"count": 64}}}}),
    ))
    .unwrap();
    assert_eq!(d.config.processor_count, 4);
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].contains("64") && d.warnings[0].contains('4'),
        "{:?}",
        d.warnings
    );
}

#[test]
fn cpu_count_within_the_host_is_kept() {
    let d = build(oci_spec(
        json!({"windows": {"resources": {"cpu": {"count": 2}}}}),
    ))
    .unwrap();
    assert_eq!(d.config.processor_count, 2);
    assert!(d.warnings.is_empty());
}

#[test]
fn cpu_shares_become_processor_weight() {
    let d = doc(oci_spec(
        json!({"windows": {"resources": {"cpu": {"shares": 500}}}}),
    ));
    assert_eq!(d["ProcessorWeight"], 500);
}

#[test]
fn cpu_maximum_becomes_processor_maximum() {
    let d = doc(oci_spec(
        json!({"windows": {"resources": {"cpu": {"maximum": 2500}}}}),
    ));
    assert_eq!(d["ProcessorMaximum"], 2500);
}

#[test]
fn memory_limit_becomes_whole_megabytes() {
    let d = doc(oci_spec(
        json!({"windows": {"resources": {"memory": {"limit": 536870912u64 + 1000}}}}),
    ));
    assert_eq!(d["MemoryMaximumInMB"], 512);
}

#[test]
fn storage_iops_and_bandwidth_are_mapped() {
    let d = doc(oci_spec(json!({"windows": {"resources": {"storage":
        {"iops": 300, "bps": 1048576, "sandboxSize": 21474836480u64}}}})));
    assert_eq!(d["StorageIOPSMaximum"], 300);
    assert_eq!(d["StorageBandwidthMaximum"], 1048576);
    // The 2017 translation did not pass the sandbox size on.
    assert!(d.get("StorageSandboxSize").is_none());
}

#[test]
fn network_fields_are_mapped() {
    let d = doc(oci_spec(json!({"windows": {"network": {
        "endpointList": ["e1", "e2"],
        "allowUnqualifiedDNSQuery": true,
        "DNSSearchList": ["a.com", "b.com"],
        "networkSharedContainerName": "other"
    }}})));
    assert_eq!(d["EndpointList"], json!(["e1", "e2"]));
    assert_eq!(d["AllowUnqualifiedDNSQuery"], true);
    assert_eq!(d["NetworkSharedContainerName"], "other");
}

#[test]
fn dns_search_list_is_comma_joined() {
    let d = doc(oci_spec(
        json!({"windows": {"network": {"DNSSearchList": ["a.com", "b.com", "c.com"]}}}),
    ));
    assert_eq!(d["DNSSearchList"], "a.com,b.com,c.com");
}

#[test]
fn a_string_credential_spec_becomes_credentials() {
    let d = doc(oci_spec(
        json!({"windows": {"credentialSpec": "{\"CmsPlugins\":[]}"}}),
    ));
    assert_eq!(d["Credentials"], "{\"CmsPlugins\":[]}");
    // Other forms were not understood by the reference and are left out.
    let d = doc(oci_spec(json!({"windows": {"credentialSpec": {"a": 1}}})));
    assert!(d.get("Credentials").is_none());
}

#[test]
fn servicing_and_ignore_flushes_are_copied() {
    let d = doc(oci_spec(
        json!({"windows": {"servicing": true, "ignoreFlushesDuringBoot": true}}),
    ));
    assert_eq!(d["Servicing"], true);
    assert_eq!(d["IgnoreFlushesDuringBoot"], true);
}

#[test]
fn hostname_becomes_host_name() {
    assert_eq!(
        doc(oci_spec(json!({"hostname": "web1"})))["HostName"],
        "web1"
    );
}

#[test]
fn a_mount_with_a_type_is_rejected() {
    let e = err(oci_spec(json!({"mounts": [
        {"destination": "C:\\a", "source": "C:\\b"},
        {"destination": "C:\\c", "source": "C:\\d", "type": "bind"}]})));
    assert!(e.starts_with("mounts[1].type: \"bind\""), "{e}");
}

#[test]
fn mounts_under_the_pipe_prefix_become_mapped_pipes() {
    let d = doc(oci_spec(json!({"mounts": [
        {"destination": "\\\\.\\pipe\\docker_engine", "source": "\\\\.\\pipe\\docker_engine"}]})));
    assert_eq!(
        d["MappedPipes"],
        json!([{"HostPath": r"\\.\pipe\docker_engine", "ContainerPipeName": "docker_engine"}])
    );
    assert!(d.get("MappedDirectories").is_none());
}

#[test]
fn pipe_mounts_are_rejected_below_build_16210() {
    let spec = oci_spec(
        json!({"mounts": [{"destination": "\\\\.\\pipe\\p", "source": "\\\\.\\pipe\\p"}]}),
    );
    let old = HostFacts {
        os_build: Some(16209),
        ..host()
    };
    let e = build_with(spec.clone(), &BuildOptions::new("c"), &old)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("mounts[0].destination:") && e.contains("16209"),
        "{e}"
    );
    let new = HostFacts {
        os_build: Some(16210),
        ..host()
    };
    assert!(build_with(spec.clone(), &BuildOptions::new("c"), &new).is_ok());
    let unknown = HostFacts {
        os_build: None,
        ..host()
    };
    let e = build_with(spec, &BuildOptions::new("c"), &unknown)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--os-build"), "{e}");
}

#[test]
fn a_mount_is_read_only_when_an_option_is_ro_in_any_case() {
    let d = doc(oci_spec(json!({"mounts": [
        {"destination": "C:\\a", "source": "C:\\h\\a", "options": ["rbind", "RO"]},
        {"destination": "C:\\b", "source": "C:\\h\\b", "options": ["rw"]}]})));
    assert_eq!(
        d["MappedDirectories"],
        json!([
            {"HostPath": r"C:\h\a", "ContainerPath": r"C:\a", "ReadOnly": true,
             "BandwidthMaximum": 0, "IOPSMaximum": 0, "CreateInUtilityVM": false},
            {"HostPath": r"C:\h\b", "ContainerPath": r"C:\b", "ReadOnly": false,
             "BandwidthMaximum": 0, "IOPSMaximum": 0, "CreateInUtilityVM": false}
        ])
    );
}

#[test]
fn a_spec_without_a_windows_section_is_rejected() {
    let e = err(json!({"process": {"args": ["x"]}}));
    assert!(e.starts_with("windows:"), "{e}");
}

#[test]
fn owner_and_name_come_from_the_options() {
    let mut opts = BuildOptions::new("abc");
    opts.owner = "someone".into();
    let d = build_with(oci_spec(json!({})), &opts, &host()).unwrap();
    assert_eq!(
        (d.config.name.as_str(), d.config.owner.as_str()),
        ("abc", "someone")
    );
    assert_eq!(d.config.system_type, "Container");
}
