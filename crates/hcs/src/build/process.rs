//! The ProcessConfig documents: a container's first process and an exec.

use std::collections::BTreeMap;

use super::{Document, Flavor};
use crate::error::HcsConfigError;
use crate::escape::command_line;
use crate::schema::ProcessConfig;
use crate::spec::{Process, Spec};

/// The first process of the container `doc` was built for.
///
/// stdout is always created, so the output reaches the logs whatever the
/// client attached; stdin too, closed later if unused; stderr only without
/// a terminal (a console merges it). A servicing container gets no stdio.
pub fn init_process(spec: &Spec, doc: &Document) -> Result<ProcessConfig, HcsConfigError> {
    let process = spec
        .process
        .as_ref()
        .ok_or(HcsConfigError::MissingProcess)?;
    let mut cfg = ProcessConfig {
        emulate_console: process.terminal,
        working_directory: process.cwd.clone(),
        create_std_in_pipe: !doc.servicing,
        create_std_out_pipe: !doc.servicing,
        create_std_err_pipe: !process.terminal && !doc.servicing,
        environment: environment(&process.env),
        ..Default::default()
    };
    if let Some(size) = process.console_size {
        cfg.console_size = [size.height, size.width];
    }
    set_command(&mut cfg, process, doc.flavor)?;
    if doc.flavor == Flavor::Linux {
        cfg.oci_specification = doc.guest_spec.clone();
    }
    Ok(cfg)
}

/// An extra process in the running container; without a cwd of its own it
/// starts where the container's first process did.
pub fn exec_process(
    spec: &Spec,
    doc: &Document,
    exec: &Process,
) -> Result<ProcessConfig, HcsConfigError> {
    let mut cfg = ProcessConfig {
        create_std_in_pipe: true,
        create_std_out_pipe: true,
        create_std_err_pipe: !exec.terminal,
        environment: environment(&exec.env),
        ..Default::default()
    };
    if exec.terminal {
        cfg.emulate_console = true;
        if let Some(size) = exec.console_size {
            cfg.console_size = [size.height, size.width];
        }
    }
    cfg.working_directory = if exec.cwd.is_empty() {
        spec.process
            .as_ref()
            .map(|p| p.cwd.clone())
            .unwrap_or_default()
    } else {
        exec.cwd.clone()
    };
    set_command(&mut cfg, exec, doc.flavor)?;
    Ok(cfg)
}

/// Windows runs a command line; a Linux guest an argument vector and a user.
fn set_command(
    cfg: &mut ProcessConfig,
    process: &Process,
    flavor: Flavor,
) -> Result<(), HcsConfigError> {
    if process.args.is_empty() {
        return Err(HcsConfigError::EmptyArgs);
    }
    match flavor {
        Flavor::Windows => cfg.command_line = command_line(&process.args, process.args_escaped),
        Flavor::Linux => {
            cfg.command_args = process.args.clone();
            cfg.user = process.user.username.clone();
        }
    }
    Ok(())
}

/// `KEY=value` entries as a map, split at the first `=`; an entry without
/// one is dropped, as Docker did.
fn environment(env: &[String]) -> BTreeMap<String, String> {
    env.iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::environment;

    #[test]
    fn environment_splits_at_the_first_equals_sign() {
        let env = environment(&["A=1".into(), "B=x=y".into(), "NOEQ".into(), "C=".into()]);
        assert_eq!(env.get("A").unwrap(), "1");
        assert_eq!(env.get("B").unwrap(), "x=y");
        assert_eq!(env.get("C").unwrap(), "");
        assert!(!env.contains_key("NOEQ"));
    }
}
