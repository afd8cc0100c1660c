//! Helpers shared by the rule tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{json, Value};
use vessel_hcs::winpath::WindowsFs;
use vessel_hcs::{
    container_config, BuildOptions, Document, GivenLayerIds, HcsConfigError, HostFacts, Spec,
};

pub const BASE: &str = r"C:\wf\base";
pub const BASE_ID: &str = "18955d65-d45a-557b-bf1c-49d6dfefc526";
pub const MID: &str = r"C:\wf\mid";
pub const MID_ID: &str = "bd9c3ef9-f239-59b5-a27e-15c523b1d149";
pub const RW: &str = r"C:\wf\rw";
pub const VOLUME: &str = r"\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}\";

pub fn ids() -> GivenLayerIds {
    let mut ids = GivenLayerIds::default();
    ids.insert("base", BASE_ID).unwrap();
    ids.insert("mid", MID_ID).unwrap();
    ids
}

pub fn host() -> HostFacts {
    HostFacts {
        cpu_count: 4,
        os_build: Some(17763),
        windows_fs: WindowsFs::Unavailable,
    }
}

/// A process-isolated runtime-spec 1.0 spec; `patch` is merged into it.
pub fn oci_spec(patch: Value) -> Value {
    let mut spec = json!({
        "ociVersion": "1.0.0",
        "process": {"args": ["cmd", "/c", "echo hi"], "cwd": "C:\\work", "env": ["A=1"]},
        "root": {"path": VOLUME},
        "windows": {"layerFolders": [MID, BASE, RW]}
    });
    merge(&mut spec, patch);
    spec
}

/// A 2016-shaped spec; `patch` is merged into it.
pub fn legacy_spec(patch: Value) -> Value {
    let mut spec = json!({
        "process": {"args": ["cmd"], "cwd": "C:\\"},
        "root": {"path": VOLUME},
        "windows": {"layer_folder": RW, "layer_paths": [MID, BASE]}
    });
    merge(&mut spec, patch);
    spec
}

/// Deep-merges objects; `null` in the patch removes the key.
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}

pub fn build_with(
    spec: Value,
    opts: &BuildOptions,
    host: &HostFacts,
) -> Result<Document, HcsConfigError> {
    let spec = Spec::from_value(spec)?;
    container_config(&spec, opts, host, &ids())
}

pub fn build(spec: Value) -> Result<Document, HcsConfigError> {
    build_with(spec, &BuildOptions::new("c1"), &host())
}

pub fn doc(spec: Value) -> Value {
    serde_json::to_value(build(spec).unwrap().config).unwrap()
}

pub fn err(spec: Value) -> String {
    build(spec).unwrap_err().to_string()
}

/// A temporary Windows root where `folders` (drive paths) hold a UtilityVM.
pub fn windows_root_with_uvm(folders: &[&str]) -> (tempfile::TempDir, HostFacts) {
    let dir = tempfile::tempdir().unwrap();
    let fs = WindowsFs::Under(dir.path().to_path_buf());
    for folder in folders {
        let path: PathBuf = fs.locate(&format!("{folder}\\UtilityVM")).unwrap();
        std::fs::create_dir_all(path).unwrap();
    }
    let host = HostFacts {
        windows_fs: fs,
        ..host()
    };
    (dir, host)
}
