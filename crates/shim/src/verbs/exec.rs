//! `exec`: start an extra process in the running container.
//!
//! Its process is the first process's, with the exec's arguments, a
//! working directory (the first process's unless given), the first
//! process's environment plus the exec's, and its own user and terminal.
//! The shim starts it itself ([`join`]) unless the process needs something
//! only libcontainer's tenant builder does.

use std::path::Path;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;
use oci_spec::runtime::{BoxBuilder, Process, User};
use vessel_runtime::protocol::{ProcessSpec, Response, INIT};
use vessel_runtime::users;

use super::Reply;
use crate::error::ShimError;
use crate::executor::{ShimExecutor, Unrunnable};
use crate::join;
use crate::process::{attach_pty, pipes, take_terminal, wire_stdio, Proc};
use crate::shim_state::ShimState;
use crate::state::{check, Verb};

pub fn exec(
    state: &mut ShimState,
    id: String,
    spec: ProcessSpec,
    attach: bool,
    stdin: bool,
) -> Result<Reply, ShimError> {
    check(&state.id, state.status, Verb::Exec)?;
    if id == INIT
        || state.execs.contains_key(&id)
        || vessel_runtime::layout::validate_id(&id).is_err()
    {
        return Err(ShimError::ExecId(id));
    }
    if spec.args.is_empty() {
        return Err(ShimError::NoArgs);
    }
    let proc_ = start(state, &id, &spec, stdin)?;
    let pid = proc_.pid.map_or(0, |p| p.as_raw());
    state.execs.insert(id.clone(), proc_);
    let response = Response::Started { pid };
    Ok(match attach {
        // An exec's stdin ends with its client's input, as Docker's does.
        true => Reply::Attach {
            response,
            process: id,
            feed: super::Feed::asked(stdin, false),
        },
        false => Reply::Now(response),
    })
}

fn start(
    state: &mut ShimState,
    id: &str,
    spec: &ProcessSpec,
    stdin: bool,
) -> Result<Proc, ShimError> {
    let first = state
        .bundle
        .spec
        .process()
        .as_ref()
        .ok_or(ShimError::NoFirstProcess)?;
    let process = exec_process(first, &state.bundle.rootfs, spec)?;
    // Where the exec's exit is recorded.
    std::fs::create_dir_all(state.cdir.path().join("execs"))
        .map_err(ShimError::internal("creating the exec directory"))?;
    let plan = join::Plan::new(
        &state.bundle.spec,
        &process,
        crate::cgroups::container_dirs(crate::cgroups::hierarchies(), &state.bundle.cgroups_path),
    );
    match plan {
        Ok(plan) => {
            state
                .seccomp_filter()
                .map_err(|e| ShimError::Exec(e.into()))?;
            start_joined(state, id, &plan, spec.terminal, stdin)
        }
        Err(why) => {
            tracing::debug!(exec = id, reason = %why, "exec through libcontainer");
            start_tenant(state, id, &process, spec.terminal, stdin)
        }
    }
}

/// The shim's own exec path (see [`join`]).
fn start_joined(
    state: &ShimState,
    id: &str,
    plan: &join::Plan,
    terminal: bool,
    stdin: bool,
) -> Result<Proc, ShimError> {
    let not_running = || ShimError::ExecNotRunning(state.id.clone());
    let Some(init) = state.init.pid.filter(|_| state.init.running()) else {
        return Err(not_running());
    };
    let mut proc_ = Proc::new(id, false);
    let stdio = if terminal {
        join::Stdio::Terminal
    } else {
        join::Stdio::Pipes(
            pipes(&mut proc_, stdin).map_err(ShimError::internal("setting up the exec's stdio"))?,
        )
    };
    let started = join::spawn(plan, state.seccomp.as_ref(), init, stdio).map_err(|e| match e {
        join::JoinError::InitGone(_) => not_running(),
        e => ShimError::Exec(e.into()),
    })?;
    proc_.pid = Some(started.pid);
    if let Some(master) = started.master {
        if let Err(e) = attach_pty(&mut proc_, master) {
            // Not supervised without its terminal: it must not run on.
            let _ = nix::sys::signal::kill(started.pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(started.pid, None);
            return Err(ShimError::internal("taking the exec's terminal")(e));
        }
    }
    Ok(proc_)
}

/// An exec through libcontainer's tenant builder.
fn start_tenant(
    state: &mut ShimState,
    id: &str,
    process: &Process,
    terminal: bool,
    stdin: bool,
) -> Result<Proc, ShimError> {
    let execs = state.cdir.path().join("execs");
    let process_path = execs.join(format!("{id}.process.json"));
    vessel_runtime::record::write_json(&process_path, process)
        .map_err(ShimError::internal("writing the exec's process"))?;

    let mut proc_ = Proc::new(id, false);
    let builder = ContainerBuilder::new(state.id.clone(), SyscallType::default())
        .with_root_path(state.cdir.libcontainer_root())
        .map_err(ShimError::internal("opening the container"))?
        .with_executor(ShimExecutor(Unrunnable::Exec));
    let console_path = execs.join(format!("{id}.console.sock"));
    let (builder, console) = wire_stdio(
        builder,
        &mut proc_,
        terminal.then_some(console_path.as_path()),
        stdin,
    )
    .map_err(ShimError::internal("setting up the exec's stdio"))?;
    let pid = builder
        .as_tenant()
        .with_process(Some(&process_path))
        .with_detach(true)
        .build()
        .map_err(|e| ShimError::Exec(e.into()))?;
    proc_.pid = Some(pid);
    take_terminal(&mut proc_, console)
        .map_err(ShimError::internal("receiving the exec's terminal"))?;
    let _ = std::fs::remove_file(&process_path);
    Ok(proc_)
}

/// The exec's OCI process, derived from the first process's, `first`; a
/// user is looked up in the rootfs at `rootfs`.
fn exec_process(first: &Process, rootfs: &Path, spec: &ProcessSpec) -> Result<Process, ShimError> {
    let mut process = first.clone();
    process.set_args(Some(spec.args.clone()));
    process.set_terminal(Some(spec.terminal));
    let mut env = process.env().clone().unwrap_or_default();
    for var in &spec.env {
        let key = var.split('=').next().unwrap_or(var);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(var.clone());
    }
    process.set_env(Some(env));
    if let Some(cwd) = &spec.cwd {
        process.set_cwd(cwd.into());
    }
    if let Some(caps) = &spec.capabilities {
        process.set_capabilities(Some(caps.as_ref().clone()));
    }
    if let Some(user) = &spec.user {
        let ids = users::resolve(rootfs, user).map_err(|source| ShimError::User {
            field: "user",
            source,
        })?;
        let mut user = User::default();
        user.set_uid(ids.uid);
        user.set_gid(ids.gid);
        process.set_user(user);
    }
    // Set by the process itself, on its terminal, before the command
    // runs (see the executor).
    let size = spec.console_size.filter(|_| spec.terminal).map(|size| {
        BoxBuilder::default()
            .height(size.height)
            .width(size.width)
            .build()
            .expect("both fields are given")
    });
    process.set_console_size(size);
    Ok(process)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vessel_runtime::protocol::ConsoleSize;

    use super::*;

    #[test]
    fn an_exec_is_the_first_process_with_its_own_args_env_user_and_terminal() {
        let rootfs = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(rootfs.path().join("etc")).unwrap();
        std::fs::write(
            rootfs.path().join("etc/passwd"),
            "app:x:10:20::/app:/bin/sh\n",
        )
        .unwrap();
        let first: Process = serde_json::from_value(json!({
            "args": ["sleep", "1d"], "cwd": "/srv", "env": ["PATH=/bin", "A=1"],
            "user": {"uid": 0, "gid": 0, "additionalGids": [5]},
            "terminal": true, "consoleSize": {"height": 1, "width": 2},
            "noNewPrivileges": true
        }))
        .unwrap();
        let spec = ProcessSpec {
            args: vec!["ls".into()],
            env: vec!["A=2".into(), "B=3".into()],
            user: Some("app".into()),
            ..ProcessSpec::default()
        };
        let exec =
            serde_json::to_value(exec_process(&first, rootfs.path(), &spec).unwrap()).unwrap();
        assert_eq!(
            exec,
            json!({
                "args": ["ls"], "cwd": "/srv", "env": ["PATH=/bin", "A=2", "B=3"],
                "user": {"uid": 10, "gid": 20}, "terminal": false, "noNewPrivileges": true
            })
        );
        let spec = ProcessSpec {
            args: vec!["sh".into()],
            cwd: Some("/tmp".into()),
            terminal: true,
            console_size: Some(ConsoleSize {
                height: 24,
                width: 80,
            }),
            ..ProcessSpec::default()
        };
        let exec = exec_process(&first, rootfs.path(), &spec).unwrap();
        assert_eq!(exec.cwd(), Path::new("/tmp"));
        assert_eq!(exec.user().additional_gids().as_deref(), Some(&[5][..]));
        let size = exec.console_size().unwrap();
        assert_eq!((size.height(), size.width()), (24, 80));
        let e = exec_process(
            &first,
            rootfs.path(),
            &ProcessSpec {
                user: Some("nobody".into()),
                ..spec
            },
        )
        .unwrap_err();
        assert_eq!(e.kind(), vessel_runtime::ErrorKind::InvalidParameter);
        assert_eq!(e.to_string(), "user");
        assert!(crate::error::chain(&e).contains("\"nobody\""), "{e}");
    }
}
