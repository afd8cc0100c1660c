//! `vessel hcs`, run as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const LAYER: &str = "65bf96e5760a09edf1790cb229e2dfb2dbd0fcdc0bf7451bae099106bfbfea0c";
const LAYER_ID: &str = "18955d65-d45a-557b-bf1c-49d6dfefc526";

fn vessel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(args)
        .output()
        .expect("run vessel")
}

/// Writes `spec` as `<tmp>/<folder>/config.json`.
fn write_spec(dir: &Path, folder: &str, spec: &Value) -> PathBuf {
    let bundle = dir.join(folder);
    std::fs::create_dir_all(&bundle).unwrap();
    let path = bundle.join("config.json");
    std::fs::write(&path, serde_json::to_vec(spec).unwrap()).unwrap();
    path
}

fn spec() -> Value {
    json!({
        "process": {"args": ["cmd", "/c", "dir"], "cwd": "C:\\", "terminal": true},
        "root": {"path": "\\\\?\\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}\\"},
        "windows": {"layerFolders": [format!("C:\\wf\\{LAYER}"), "C:\\wf\\rw"],
                    "resources": {"cpu": {"count": 1000}}}
    })
}

#[test]
fn config_prints_the_container_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_spec(dir.path(), "web-1", &spec());
    let out = vessel(&[
        "hcs",
        "config",
        "--layer-id",
        &format!("{LAYER}={LAYER_ID}"),
        "--host-cpus",
        "8",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["Name"], "web-1",
        "the id defaults to the spec's folder name"
    );
    assert_eq!(doc["Owner"], "vessel");
    assert_eq!(doc["ProcessorCount"], 8);
    assert_eq!(doc["Layers"][0]["ID"], LAYER_ID);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("1000"),
        "{stderr}"
    );
}

#[test]
fn config_takes_id_and_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_spec(dir.path(), "b", &spec());
    let out = vessel(&[
        "hcs",
        "config",
        "--id",
        "c42",
        "--owner",
        "docker",
        "--layer-id",
        &format!("{LAYER}={LAYER_ID}"),
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["Name"].as_str(), doc["Owner"].as_str()),
        (Some("c42"), Some("docker"))
    );
}

#[test]
fn process_prints_the_init_process_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_spec(dir.path(), "b", &spec());
    let out = vessel(&[
        "hcs",
        "process",
        "--layer-id",
        &format!("{LAYER}={LAYER_ID}"),
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc,
        json!({"CommandLine": "cmd /c dir", "WorkingDirectory": "C:\\", "EmulateConsole": true,
               "CreateStdInPipe": true, "CreateStdOutPipe": true, "ConsoleSize": [0, 0]})
    );
}

#[test]
fn process_with_exec_prints_the_exec_process_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_spec(dir.path(), "b", &spec());
    let exec = dir.path().join("exec.json");
    std::fs::write(&exec, r#"{"args":["ipconfig","/all"]}"#).unwrap();
    let out = vessel(&[
        "hcs",
        "process",
        "--layer-id",
        &format!("{LAYER}={LAYER_ID}"),
        "--exec",
        exec.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["CommandLine"], "ipconfig /all");
    assert_eq!(doc["WorkingDirectory"], "C:\\");
    assert_eq!(doc["CreateStdErrPipe"], true);
}

#[test]
fn lcow_config_uses_the_boot_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec();
    s["linux"] = json!({});
    let path = write_spec(dir.path(), "b", &s);
    let out = vessel(&[
        "hcs",
        "config",
        "--layer-id",
        &format!("{LAYER}={LAYER_ID}"),
        "--uvm-dir",
        "C:\\lcow",
        "--uvm-kernel",
        "kernel",
        "--uvm-initrd",
        "initrd.img",
        "--uvm-boot-params",
        "quiet",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["HvRuntime"]["LinuxKernelFile"], "kernel");
    assert_eq!(
        doc["Layers"][0]["Path"],
        format!("C:\\wf\\{LAYER}\\layer.vhd")
    );
}

/// Invalid input: status 1, one line naming the field and value, no stdout.
fn assert_refused(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}

#[test]
fn invalid_spec_is_refused_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec();
    s["root"]["path"] = json!("C:\\not-a-volume");
    let path = write_spec(dir.path(), "b", &s);
    let out = vessel(&[
        "hcs",
        "config",
        "--layer-id",
        &format!("{LAYER}={LAYER_ID}"),
        path.to_str().unwrap(),
    ]);
    assert_refused(&out, r#"root.path: "C:\\not-a-volume""#);
}

#[test]
fn unknown_layer_is_refused_with_how_to_supply_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_spec(dir.path(), "b", &spec());
    let out = vessel(&["hcs", "config", path.to_str().unwrap()]);
    assert_refused(&out, &format!("--layer-id {LAYER}=GUID"));
}

#[test]
fn malformed_layer_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_spec(dir.path(), "b", &spec());
    let out = vessel(&[
        "hcs",
        "config",
        "--layer-id",
        "x=notaguid",
        path.to_str().unwrap(),
    ]);
    assert_refused(&out, "\"notaguid\"");
    let out = vessel(&[
        "hcs",
        "config",
        "--layer-id",
        "nogap",
        path.to_str().unwrap(),
    ]);
    assert_refused(&out, "\"nogap\"");
}

#[test]
fn wrongly_typed_field_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec();
    s["windows"]["resources"]["cpu"]["shares"] = json!(-5);
    let path = write_spec(dir.path(), "b", &s);
    let out = vessel(&["hcs", "config", path.to_str().unwrap()]);
    assert_refused(
        &out,
        "windows.resources.cpu.shares: invalid value: integer `-5`",
    );
}

#[test]
fn hyperv_finds_the_utility_vm_under_the_windows_root() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(format!("root/C/wf/{LAYER}/UtilityVM"))).unwrap();
    let mut s = spec();
    s["root"] = json!({});
    s["windows"]["hyperv"] = json!({});
    let path = write_spec(dir.path(), "b", &s);
    let root = dir.path().join("root");
    let out = vessel(&[
        "hcs",
        "config",
        "--windows-root",
        root.to_str().unwrap(),
        "--layer-id",
        &format!("{LAYER}={LAYER_ID}"),
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["HvRuntime"]["ImagePath"],
        format!("C:\\wf\\{LAYER}\\UtilityVM")
    );
}
