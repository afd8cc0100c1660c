//! Creating the container: bundle, rootfs, stdio, libcontainer.
//!
//! Any failure removes everything made so far (cgroups, mount, state
//! directory, processes) before the error is reported.

use std::os::unix::net::UnixListener;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use nix::sys::signalfd::SignalFd;
use vessel_runtime::bundle::{self, RuntimeBundle};
use vessel_runtime::launch::CreateRequest;
use vessel_runtime::logs::LogWriter;
use vessel_runtime::protocol::{ErrorKind, RemoteError, INIT};
use vessel_runtime::record::{now_rfc3339, write_json};
use vessel_runtime::{users, ContainerDir};

use crate::cgroups::ready::ReadyCgroups;
use crate::console::ConsoleSocket;
use crate::executor::ShimExecutor;
use crate::network::ReadyNetwork;
use crate::process::{take_terminal, wire_stdio, Proc};
use crate::server::Shim;
use crate::verbs::internal;

fn invalid(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::InvalidParameter, e.to_string())
}

/// What a spare shim made while it waited for its request. The container
/// takes each if it can; what it does not take is given up.
#[derive(Debug, Default)]
pub struct Ahead {
    /// Joined when the container asks for a network namespace of its own.
    pub network: Option<ReadyNetwork>,
    /// The container's cgroups, when the shim makes them itself (see
    /// [`crate::cgroups::ready`]).
    pub cgroups: Option<ReadyCgroups>,
}

/// Creates the container described by `req`; `cdir` exists and is ours.
/// A foreground run's container may come back started already (see
/// [`crate::boot::create`]).
pub fn create(
    req: &CreateRequest,
    cdir: &ContainerDir,
    sigfd: SignalFd,
    ahead: Ahead,
) -> Result<Shim, RemoteError> {
    let Ahead {
        network: ready_network,
        cgroups: ready_cgroups,
    } = ahead;
    let t0 = std::time::Instant::now();
    // Only a spec with Windows-style resources asks (a CPU count).
    let host_cpus = || std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let bundle_dir = std::path::absolute(&req.bundle).map_err(invalid)?;
    let mut rb = bundle::prepare(&bundle_dir, cdir, &req.id, host_cpus).map_err(invalid)?;
    for w in &rb.warnings {
        tracing::warn!(container = %req.id, "{w}");
    }
    if let Some(layers) = &rb.layers {
        crate::rootfs::private_mount_namespace()
            .map_err(|e| internal("making the shim's mount namespace", e))?;
        crate::rootfs::mount_overlay(cdir, layers)
            .map_err(|e| internal("mounting the layered rootfs", e))?;
    }
    resolve_username(&mut rb)?;
    if let Some(network) = &ready_network {
        network.offer(&mut rb.spec);
    }
    // The spec as run, for whoever reads the container's state later.
    let write_bundle = |rb: &RuntimeBundle| {
        write_json(&rb.dir.join("config.json"), &rb.spec)
            .map_err(|e| internal("writing the runtime bundle", e))
    };

    let t_bundle = t0.elapsed();
    let terminal = rb
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    let mut init = Proc::new(INIT, true);
    let console_path = cdir.console_socket();
    let console_path = terminal.then_some(console_path.as_path());
    let mut through_builder = None;
    let mut mounts_by_libcontainer = None;
    let mut loopback_up = false;
    let mut started = false;
    // The log and the control socket, which the supervision needs.
    let log_path = req.log.clone().unwrap_or_else(|| cdir.log());
    let open_channels = || -> Result<(LogWriter, UnixListener), RemoteError> {
        let log =
            LogWriter::open(&log_path).map_err(|e| internal("opening the container log", e))?;
        let listener = UnixListener::bind(cdir.socket())
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| internal("listening on the control socket", e))?;
        Ok((log, listener))
    };
    let plan = crate::boot::plan(&rb.spec, &req.id);
    // A first process that makes its own mounts makes its working
    // directory after them; where libcontainer's init mounts, it is made
    // here, in the image.
    if !plan.as_ref().is_ok_and(|p| p.makes_own_mounts()) {
        let cwd = rb
            .spec
            .process()
            .as_ref()
            .map(|p| p.cwd().to_string_lossy());
        crate::mounts::make_cwd(&rb.rootfs, cwd.as_deref().unwrap_or("/")).map_err(invalid)?;
    }
    let mut channels = None;
    let (container, console) = match plan {
        Ok(plan) => {
            // A start within the create (a foreground run's too) happens
            // during it when there is no terminal (see boot::create); all
            // that can still fail is done first, so that a failed create
            // has run nothing of the container's. A terminal's master only
            // comes once the process runs: that start follows the create.
            let start = starts_within(req) && !terminal;
            let created = crate::boot::create(
                plan,
                &req.id,
                &rb.dir,
                &cdir.libcontainer_root(),
                &mut init,
                console_path,
                req.open_stdin,
                start,
                ready_cgroups,
                || {
                    write_bundle(&rb)?;
                    channels = Some(open_channels()?);
                    Ok(())
                },
            )?;
            loopback_up = created.loopback_up;
            mounts_by_libcontainer = created.mounts_by_libcontainer;
            started = created.started;
            (created.container, created.console)
        }
        Err(why) => {
            // Given up before the builder forks: none of its processes
            // starts in them.
            drop(ready_cgroups);
            // libcontainer's builder reads the spec from the bundle.
            write_bundle(&rb)?;
            let built = build(req, cdir, &rb, &mut init, console_path)?;
            through_builder = Some(why);
            built
        }
    };
    let t_build = t0.elapsed();
    // The container holds its network namespace now.
    drop(ready_network);
    init.pid = container.pid();
    if let Some(pid) = init
        .pid
        .filter(|_| !loopback_up && crate::network::has_own_network(&rb.spec))
    {
        crate::network::loopback_up(pid.as_raw())
            .map_err(|e| internal("bringing up the container's loopback", e))?;
    }
    take_terminal(&mut init, console).map_err(|e| internal("receiving the terminal", e))?;
    let (log, listener) = match channels {
        Some(opened) => opened,
        None => open_channels()?,
    };
    let mut shim = Shim::new(
        req.id.clone(),
        cdir.clone(),
        container,
        rb,
        now_rfc3339(),
        init,
        log,
        listener,
        sigfd,
    );
    if started {
        shim.status = vessel_runtime::Status::Running;
    }
    shim.save_state();
    tracing::info!(
        container = %req.id,
        bundle_us = t_bundle.as_micros() as u64,
        build_us = (t_build - t_bundle).as_micros() as u64,
        total_us = t0.elapsed().as_micros() as u64,
        through_builder = through_builder.as_deref().unwrap_or("no"),
        mounts_by_libcontainer = mounts_by_libcontainer
            .as_deref()
            .or(through_builder.as_deref().map(|_| "the builder"))
            .unwrap_or("no"),
        "container created"
    );
    Ok(shim)
}

/// Whether `req` starts the first process within the create.
pub fn starts_within(req: &CreateRequest) -> bool {
    req.start.is_some() || req.foreground.is_some()
}

/// Creates the container with libcontainer's builder.
fn build(
    req: &CreateRequest,
    cdir: &ContainerDir,
    rb: &RuntimeBundle,
    init: &mut Proc,
    console_path: Option<&std::path::Path>,
) -> Result<(Container, Option<ConsoleSocket>), RemoteError> {
    let builder = ContainerBuilder::new(req.id.clone(), SyscallType::default())
        .with_root_path(cdir.libcontainer_root())
        .map_err(|e| internal("preparing libcontainer's state", e))?
        .with_executor(ShimExecutor);
    let (builder, console) = wire_stdio(builder, init, console_path, req.open_stdin)
        .map_err(|e| internal("setting up the stdio", e))?;
    let container = builder
        .as_init(&rb.dir)
        .with_systemd(false)
        .with_detach(true)
        .build()
        .map_err(|e| invalid(format!("creating the container: {e}")))?;
    Ok((container, console))
}

/// A `process.user.username` is looked up in the container's own passwd.
fn resolve_username(rb: &mut RuntimeBundle) -> Result<(), RemoteError> {
    let Some(user) = rb.spec.process_mut().as_mut().map(|p| p.user_mut()) else {
        return Ok(());
    };
    let Some(name) = user.username().clone().filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    let ids = users::resolve(&rb.rootfs, &name).map_err(|e| {
        invalid(format!(
            "process.user.username: {}",
            crate::error::chain(&e)
        ))
    })?;
    user.set_uid(ids.uid);
    user.set_gid(ids.gid);
    user.set_username(None);
    Ok(())
}
