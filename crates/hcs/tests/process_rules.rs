//! The ProcessConfig of a container's first process and of an exec.

mod common;

use common::*;
use serde_json::{json, Value};
use vessel_hcs::spec::Process;
use vessel_hcs::{exec_process, init_process, ProcessConfig, Spec};

fn init(spec: Value) -> Result<ProcessConfig, String> {
    let d = build(spec.clone()).map_err(|e| e.to_string())?;
    init_process(&Spec::from_value(spec).unwrap(), &d).map_err(|e| e.to_string())
}

fn exec(process: Value) -> Result<ProcessConfig, String> {
    let spec = oci_spec(json!({}));
    let d = build(spec.clone()).unwrap();
    let process: Process = serde_json::from_value(process).unwrap();
    exec_process(&Spec::from_value(spec).unwrap(), &d, &process).map_err(|e| e.to_string())
}

#[test]
fn init_process_document() {
    let p = init(oci_spec(json!({}))).unwrap();
    assert_eq!(
        serde_json::to_value(p).unwrap(),
        json!({"CommandLine": r#"cmd /c "echo hi""#, "WorkingDirectory": r"C:\work",
               "Environment": {"A": "1"}, "CreateStdInPipe": true, "CreateStdOutPipe": true,
               "CreateStdErrPipe": true, "ConsoleSize": [0, 0]})
    );
}

#[test]
fn init_terminal_emulates_a_console_and_has_no_stderr() {
    let p = init(oci_spec(json!({"process": {"terminal": true}}))).unwrap();
    assert!(p.emulate_console && p.create_std_in_pipe && p.create_std_out_pipe);
    assert!(!p.create_std_err_pipe);
}

#[test]
fn init_console_size_is_height_then_width() {
    let p = init(oci_spec(
        json!({"process": {"terminal": true, "consoleSize": {"height": 40, "width": 120}}}),
    ))
    .unwrap();
    assert_eq!(p.console_size, [40, 120]);
}

#[test]
fn init_of_a_servicing_container_has_no_stdio() {
    let p = init(oci_spec(json!({"windows": {"servicing": true}}))).unwrap();
    assert!(!p.create_std_in_pipe && !p.create_std_out_pipe && !p.create_std_err_pipe);
}

#[test]
fn command_line_is_escaped_unless_args_are_escaped() {
    let p = init(oci_spec(
        json!({"process": {"args": ["C:\\my app.exe", "a\"b"]}}),
    ))
    .unwrap();
    assert_eq!(p.command_line, r#""C:\my app.exe" a\"b"#);
    let p = init(oci_spec(
        json!({"process": {"args": ["cmd /c \"x y\""], "argsEscaped": true}}),
    ))
    .unwrap();
    assert_eq!(p.command_line, r#"cmd /c "x y""#);
}

#[test]
fn legacy_args_escaped_spelling_is_understood() {
    let p = init(legacy_spec(
        json!({"process": {"args": ["a b"], "args_escaped": true}}),
    ))
    .unwrap();
    assert_eq!(p.command_line, "a b");
}

#[test]
fn process_args_must_not_be_empty() {
    let e = init(oci_spec(json!({"process": {"args": []}}))).unwrap_err();
    assert!(e.starts_with("process.args:"), "{e}");
}

#[test]
fn a_spec_without_a_process_has_no_init_process() {
    let e = init(oci_spec(json!({"process": null}))).unwrap_err();
    assert!(e.starts_with("process:"), "{e}");
}

#[test]
fn lcow_init_gets_arguments_user_and_the_spec() {
    let mut spec = oci_spec(json!({"linux": {}, "root": {"path": "rootfs"},
        "process": {"args": ["sh", "-c", "echo hi"], "user": {"username": "nobody"}}}));
    merge(&mut spec, json!({}));
    let mut opts = vessel_hcs::BuildOptions::new("l");
    opts.lcow_boot = Some(vessel_hcs::LcowBoot::Vhdx {
        path: "C:\\u.vhdx".into(),
    });
    let d = build_with(spec.clone(), &opts, &host()).unwrap();
    let p = init_process(&Spec::from_value(spec.clone()).unwrap(), &d).unwrap();
    assert_eq!(p.command_args, ["sh", "-c", "echo hi"]);
    assert_eq!(p.user, "nobody");
    assert!(p.command_line.is_empty());
    assert_eq!(
        p.oci_specification.unwrap()["process"]["args"],
        json!(["sh", "-c", "echo hi"])
    );
}

#[test]
fn exec_always_has_stdin_and_stdout_and_stderr_without_terminal() {
    let p = exec(json!({"args": ["ipconfig"]})).unwrap();
    assert!(p.create_std_in_pipe && p.create_std_out_pipe && p.create_std_err_pipe);
    assert!(!p.emulate_console);
    let p = exec(json!({"args": ["cmd"], "terminal": true})).unwrap();
    assert!(p.emulate_console && !p.create_std_err_pipe);
}

#[test]
fn exec_without_cwd_starts_where_the_init_process_did() {
    assert_eq!(
        exec(json!({"args": ["x"]})).unwrap().working_directory,
        r"C:\work"
    );
    assert_eq!(
        exec(json!({"args": ["x"], "cwd": "D:\\"}))
            .unwrap()
            .working_directory,
        r"D:\"
    );
}

#[test]
fn exec_console_size_only_with_a_terminal() {
    let size = json!({"height": 10, "width": 20});
    assert_eq!(
        exec(json!({"args": ["x"], "consoleSize": size}))
            .unwrap()
            .console_size,
        [0, 0]
    );
    assert_eq!(
        exec(json!({"args": ["x"], "terminal": true, "consoleSize": size}))
            .unwrap()
            .console_size,
        [10, 20]
    );
}

#[test]
fn exec_environment_is_its_own() {
    let p = exec(json!({"args": ["x"], "env": ["B=2=3"]})).unwrap();
    assert_eq!(
        serde_json::to_value(p.environment).unwrap(),
        json!({"B": "2=3"})
    );
}

#[test]
fn exec_args_must_not_be_empty() {
    assert!(exec(json!({"args": []}))
        .unwrap_err()
        .starts_with("process.args:"));
}
