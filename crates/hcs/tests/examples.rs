//! The documents in the reference's comments come out field for field.

mod common;

use std::path::Path;

use serde_json::Value;
use vessel_hcs::{container_config, BuildOptions, GivenLayerIds, Spec};

const BASE_LAYER: &str = "65bf96e5760a09edf1790cb229e2dfb2dbd0fcdc0bf7451bae099106bfbfea0c";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check(name: &str, id: &str, host: &vessel_hcs::HostFacts) {
    let spec = Spec::from_json(&fixture(&format!("{name}.spec.json"))).unwrap();
    let mut ids = GivenLayerIds::default();
    ids.insert(BASE_LAYER, "18955d65-d45a-557b-bf1c-49d6dfefc526")
        .unwrap();
    let mut opts = BuildOptions::new(id);
    opts.owner = "docker".into();
    let doc = container_config(&spec, &opts, host, &ids).unwrap();
    let got = serde_json::to_value(&doc.config).unwrap();
    let want: Value = serde_json::from_str(&fixture(&format!("{name}.expected.json"))).unwrap();
    assert_eq!(
        got,
        want,
        "{name}:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
}

#[test]
fn process_isolation_example_2017() {
    check(
        "process-2017",
        "5e0055c814a6005b8e57ac59f9a522066e0af12b48b3c26a9416e23907698776",
        &common::host(),
    );
}

#[test]
fn hyperv_example_2017() {
    let (_dir, host) =
        common::windows_root_with_uvm(&[&format!(r"C:\control\windowsfilter\{BASE_LAYER}")]);
    check(
        "hyperv-2017",
        "475c2c58933b72687a88a441e7e0ca4bd72d76413c5f9d5031fee83b98f6045d",
        &host,
    );
}

#[test]
fn process_isolation_example_2016() {
    check(
        "process-2016",
        "5e0055c814a6005b8e57ac59f9a522066e0af12b48b3c26a9416e23907698776",
        &common::host(),
    );
}

#[test]
fn hyperv_example_2016() {
    check(
        "hyperv-2016",
        "475c2c58933b72687a88a441e7e0ca4bd72d76413c5f9d5031fee83b98f6045d",
        &common::host(),
    );
}
