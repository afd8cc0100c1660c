//! The rules for a Linux container on Windows (LCOW), one test per rule.

mod common;

use common::*;
use serde_json::{json, Value};
use vessel_hcs::{init_process, BuildOptions, Document, LcowBoot, Spec};

fn kernel_boot() -> BuildOptions {
    let mut opts = BuildOptions::new("l1");
    opts.lcow_boot = Some(LcowBoot::Kernel {
        dir: r"C:\lcow".into(),
        kernel: "bootx64.efi".into(),
        initrd: "initrd.img".into(),
        boot_parameters: "console=ttyS0".into(),
    });
    opts
}

fn lcow_spec(patch: Value) -> Value {
    let mut spec = json!({
        "process": {"args": ["sh", "-c", "echo hi"], "cwd": "/", "user": {"uid": 0, "gid": 0, "username": "root"}},
        "root": {"path": "rootfs"},
        "linux": {},
        "windows": {"layerFolders": [MID, BASE, RW]}
    });
    merge(&mut spec, patch);
    spec
}

fn lcow(spec: Value) -> Result<Document, String> {
    build_with(spec, &kernel_boot(), &host()).map_err(|e| e.to_string())
}

fn lcow_doc(spec: Value) -> Value {
    serde_json::to_value(lcow(spec).unwrap().config).unwrap()
}

#[test]
fn lcow_needs_the_utility_vm_boot_files() {
    let e = build_with(lcow_spec(json!({})), &BuildOptions::new("l"), &host()).unwrap_err();
    assert!(e.to_string().starts_with("lcow:"), "{e}");
}

#[test]
fn lcow_needs_a_windows_section() {
    let e = lcow(lcow_spec(json!({"windows": null}))).unwrap_err();
    assert!(e.starts_with("windows:"), "{e}");
}

#[test]
fn lcow_sets_the_linux_utility_vm_fields() {
    let d = lcow_doc(lcow_spec(json!({"hostname": "ignored"})));
    assert_eq!(d["SystemType"], "container");
    assert_eq!(d["ContainerType"], "linux");
    assert_eq!(d["HvPartition"], true);
    assert_eq!(d["TerminateOnLastHandleClosed"], true);
    assert_eq!(d["Name"], "l1");
    assert_eq!(d["Owner"], "vessel");
}

#[test]
fn lcow_boots_from_kernel_and_initrd() {
    assert_eq!(
        lcow_doc(lcow_spec(json!({})))["HvRuntime"],
        json!({"ImagePath": r"C:\lcow", "LinuxInitrdFile": "initrd.img",
               "LinuxKernelFile": "bootx64.efi", "LinuxBootParameters": "console=ttyS0"})
    );
}

#[test]
fn lcow_boots_from_a_vhdx() {
    let mut opts = BuildOptions::new("l");
    opts.lcow_boot = Some(LcowBoot::Vhdx {
        path: r"C:\lcow\uvm.vhdx".into(),
    });
    let d = build_with(lcow_spec(json!({})), &opts, &host()).unwrap();
    assert_eq!(
        serde_json::to_value(d.config).unwrap()["HvRuntime"],
        json!({"ImagePath": r"C:\lcow\uvm.vhdx", "BootSource": "Vhd"})
    );
}

#[test]
fn lcow_needs_at_least_one_layer_folder() {
    let e = lcow(lcow_spec(json!({"windows": {"layerFolders": []}}))).unwrap_err();
    assert!(e.starts_with("windows.layerFolders: at least 1"), "{e}");
    let d = lcow_doc(lcow_spec(json!({"windows": {"layerFolders": [RW]}})));
    assert_eq!(d["LayerFolderPath"], RW);
    assert_eq!(d["Layers"], json!([]));
}

#[test]
fn lcow_layers_are_the_layer_vhd_in_each_folder() {
    let d = lcow_doc(lcow_spec(json!({})));
    assert_eq!(d["LayerFolderPath"], RW);
    assert_eq!(
        d["Layers"],
        json!([{"ID": MID_ID, "Path": r"C:\wf\mid\layer.vhd"},
               {"ID": BASE_ID, "Path": r"C:\wf\base\layer.vhd"}])
    );
}

#[test]
fn lcow_network_fields_are_mapped() {
    let d = lcow_doc(lcow_spec(
        json!({"windows": {"network": {"endpointList": ["e"], "DNSSearchList": ["a", "b"]}}}),
    ));
    assert_eq!(d["EndpointList"], json!(["e"]));
    assert_eq!(d["DNSSearchList"], "a,b");
}

#[test]
fn lcow_bind_mount_needs_a_uvmpath() {
    let e = lcow(lcow_spec(json!({"mounts": [
        {"type": "bind", "source": "C:\\data", "destination": "/data", "options": ["rbind"]}]})))
    .unwrap_err();
    assert!(
        e.starts_with("mounts[0].options:") && e.contains("uvmpath"),
        "{e}"
    );
}

#[test]
fn lcow_bind_mount_allows_only_rw_ro_rbind_and_uvmpath() {
    let e = lcow(lcow_spec(json!({"mounts": [
        {"type": "bind", "source": "C:\\data", "destination": "/data",
         "options": ["uvmpath=/tmp/gcs/l1/binds", "nosuid"]}]})))
    .unwrap_err();
    assert!(e.starts_with("mounts[0].options: \"nosuid\""), "{e}");
}

#[test]
fn lcow_bind_mount_maps_into_the_utility_vm_and_rewrites_the_guest_spec() {
    let spec = lcow_spec(json!({"mounts": [
        {"type": "bind", "source": "C:\\data", "destination": "/data",
         "options": ["rbind", "ro", "uvmpath=/tmp/gcs/l1/binds"]}]}));
    let d = lcow(spec.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&d.config).unwrap()["MappedDirectories"],
        json!([{"HostPath": r"C:\data", "ContainerPath": "/tmp/gcs/l1/binds/data",
                "ReadOnly": true, "BandwidthMaximum": 0, "IOPSMaximum": 0,
                "CreateInUtilityVM": true}])
    );
    let guest = d.guest_spec.as_ref().unwrap();
    assert_eq!(guest["mounts"][0]["source"], "/tmp/gcs/l1/binds/data");
    assert_eq!(guest["mounts"][0]["options"], json!(["rbind", "ro"]));
    // The process gets the rewritten spec.
    let p = init_process(&Spec::from_value(spec).unwrap(), &d).unwrap();
    assert_eq!(p.oci_specification.as_ref(), Some(guest));
}

#[test]
fn lcow_other_mounts_pass_through_untouched() {
    let proc_mount =
        json!({"type": "proc", "source": "proc", "destination": "/proc", "options": ["nosuid"]});
    let d = lcow(lcow_spec(json!({"mounts": [proc_mount.clone()]}))).unwrap();
    assert!(d.config.mapped_directories.is_empty());
    assert_eq!(d.guest_spec.unwrap()["mounts"][0], proc_mount);
}

#[test]
fn lcow_rejects_the_2016_windows_shape() {
    let e = lcow(lcow_spec(
        json!({"windows": {"layerFolders": null, "layer_folder": RW}}),
    ))
    .unwrap_err();
    assert!(e.starts_with("windows:"), "{e}");
}
