//! Creating the container: this module prepares, [`crate::boot`] boots.
//!
//! Here the create request becomes what the container runs from: the
//! runtime bundle (`vessel_runtime::bundle`), the layered rootfs mounted in
//! the shim's own mount namespace, the user named in the spec resolved,
//! the network namespace a spare made offered. That goes to the boot as
//! one [`BootRequest`]; while the first process runs libcontainer's init,
//! the log and the control socket are opened here; then the boot is
//! finished and the supervised state ([`ShimState`]) assembled. Calls go
//! one way: this module calls the boot, never the other way round.
//!
//! Any failure is returned as it is; the caller removes everything made so
//! far (cgroups, mount, state directory, processes).

use std::os::unix::net::UnixListener;

use vessel_runtime::bundle::{self, RuntimeBundle, GROUPS_ANNOTATION};
use vessel_runtime::launch::CreateRequest;
use vessel_runtime::logs::LogWriter;
use vessel_runtime::protocol::{Status, INIT};
use vessel_runtime::record::now_rfc3339;
use vessel_runtime::{users, ContainerDir};

use crate::boot::{BootRequest, Created};
use crate::cgroups::ready::ReadyCgroups;
use crate::error::ShimError;
use crate::fallback::Unsupported;
use crate::network::ReadyNetwork;
use crate::process::{take_terminal, Proc};
use crate::shim_state::ShimState;

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

/// What the supervision of a created container needs besides its state:
/// the container's log and the shim's control socket.
#[derive(Debug)]
pub struct Channels {
    pub log: LogWriter,
    pub listener: UnixListener,
}

/// Creates the container described by `req`; `cdir` exists and is ours.
/// A container that starts within the create comes back started, unless
/// its process has a terminal (whose master only comes once it runs: that
/// start follows the create).
pub fn create(
    req: &CreateRequest,
    cdir: &ContainerDir,
    ahead: Ahead,
) -> Result<(ShimState, Channels), ShimError> {
    let Ahead { network, cgroups } = ahead;
    let t0 = std::time::Instant::now();
    let mut rb = prepare(req, cdir, network.as_ref())?;
    let t_bundle = t0.elapsed();
    let terminal = rb
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    let mut init = Proc::new(INIT, true);
    let console_path = cdir.console_socket();
    // A start within the create (a foreground run's too) happens during it
    // when there is no terminal; all that can still fail is done first,
    // so that a failed create has run nothing of the container's.
    let booting = crate::boot::create(BootRequest {
        id: &req.id,
        bundle: &mut rb,
        root: cdir.libcontainer_root(),
        state_root: cdir.path().parent().unwrap_or(cdir.path()),
        init: &mut init,
        console: terminal.then_some(console_path.as_path()),
        open_stdin: req.open_stdin,
        start: starts_within(req) && !terminal,
        ready_cgroups: cgroups,
    })?;
    // While the first process runs libcontainer's init.
    let channels = open_channels(req, cdir)?;
    let created = booting.finish()?;
    let t_build = t0.elapsed();
    // The container holds its network namespace now.
    drop(network);
    let ways = (
        created.through_builder.clone(),
        created.mounts_by_libcontainer.clone(),
    );
    let state = supervise(req, cdir, rb, init, created)?;
    log_created(&req.id, ways, t_bundle, t_build, t0.elapsed());
    Ok((state, channels))
}

/// The runtime bundle of `req`: its rootfs mounted when layered, its user
/// resolved, and offered the network namespace a spare made.
fn prepare(
    req: &CreateRequest,
    cdir: &ContainerDir,
    network: Option<&ReadyNetwork>,
) -> Result<RuntimeBundle, ShimError> {
    // Only a spec with Windows-style resources asks (a CPU count).
    let host_cpus = || std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let bundle_dir = std::path::absolute(&req.bundle).map_err(|source| ShimError::BundlePath {
        path: req.bundle.clone(),
        source,
    })?;
    let mut rb = bundle::prepare(&bundle_dir, cdir, &req.id, host_cpus)?;
    for w in &rb.warnings {
        tracing::warn!(container = %req.id, "{w}");
    }
    if let Some(layers) = &rb.layers {
        crate::rootfs::private_mount_namespace(&rb.spec)
            .map_err(ShimError::internal("making the shim's mount namespace"))?;
        crate::rootfs::mount_overlay(cdir, layers, rb.writable_layer.as_deref())
            .map_err(ShimError::internal("mounting the layered rootfs"))?;
    }
    resolve_username(&mut rb)?;
    if let Some(network) = network {
        network.offer(&mut rb.spec);
    }
    Ok(rb)
}

/// The log and the control socket, which the supervision needs.
fn open_channels(req: &CreateRequest, cdir: &ContainerDir) -> Result<Channels, ShimError> {
    let log = match req.no_log {
        true => LogWriter::none(),
        false => {
            let path = req.log.clone().unwrap_or_else(|| cdir.log());
            LogWriter::open_rotating(&path, req.log_rotation)
                .map_err(ShimError::internal("opening the container log"))?
        }
    };
    let listener = UnixListener::bind(cdir.socket())
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(ShimError::internal("listening on the control socket"))?;
    Ok(Channels { log, listener })
}

/// The created container, under supervision: its loopback up, its
/// terminal taken, its state recorded.
fn supervise(
    req: &CreateRequest,
    cdir: &ContainerDir,
    rb: RuntimeBundle,
    mut init: Proc,
    created: Created,
) -> Result<ShimState, ShimError> {
    init.pid = created.container.pid();
    if let Some(pid) = init
        .pid
        .filter(|_| !created.loopback_up && crate::network::has_own_network(&rb.spec))
    {
        crate::network::loopback_up(pid.as_raw())
            .map_err(ShimError::internal("bringing up the container's loopback"))?;
    }
    take_terminal(&mut init, created.console)
        .map_err(ShimError::internal("receiving the terminal"))?;
    let mut state = ShimState::new(
        req.id.clone(),
        cdir.clone(),
        created.container,
        rb,
        now_rfc3339(),
        init,
    );
    if created.started {
        state.status = Status::Running;
    }
    state.seccomp = created.seccomp;
    state.save_state();
    Ok(state)
}

/// Logs how the container was made (which way, and why) and how long
/// each part took.
fn log_created(
    id: &str,
    (through_builder, mounts_by_libcontainer): (Option<Unsupported>, Option<Unsupported>),
    bundle: std::time::Duration,
    build: std::time::Duration,
    total: std::time::Duration,
) {
    let through_builder = through_builder.as_ref().map(ToString::to_string);
    let mounts_by_libcontainer = match (&mounts_by_libcontainer, &through_builder) {
        (Some(why), _) => why.to_string(),
        (None, Some(_)) => "the builder".to_string(),
        (None, None) => "no".to_string(),
    };
    tracing::info!(
        container = %id,
        bundle_us = bundle.as_micros() as u64,
        build_us = (build - bundle).as_micros() as u64,
        total_us = total.as_micros() as u64,
        through_builder = through_builder.as_deref().unwrap_or("no"),
        mounts_by_libcontainer = mounts_by_libcontainer.as_str(),
        "container created"
    );
}

/// Whether `req` starts the first process within the create.
pub fn starts_within(req: &CreateRequest) -> bool {
    req.start.is_some() || req.foreground.is_some()
}

/// A `process.user.username` is looked up in the container's own passwd,
/// and the groups the spec names ([`GROUPS_ANNOTATION`]) in its group
/// file.
fn resolve_username(rb: &mut RuntimeBundle) -> Result<(), ShimError> {
    let names: Vec<String> = rb
        .spec
        .annotations()
        .as_ref()
        .and_then(|a| a.get(GROUPS_ANNOTATION))
        .map(|v| serde_json::from_str(v))
        .transpose()
        .map_err(|e| ShimError::create(format!("annotations.{GROUPS_ANNOTATION}: {e}")))?
        .unwrap_or_default();
    let gids = users::group_ids(&rb.rootfs, &names).map_err(|source| ShimError::User {
        field: "process.user.additionalGids",
        source,
    })?;
    let Some(user) = rb.spec.process_mut().as_mut().map(|p| p.user_mut()) else {
        return Ok(());
    };
    if !gids.is_empty() {
        let mut all = user.additional_gids().clone().unwrap_or_default();
        all.extend(gids);
        user.set_additional_gids(Some(all));
    }
    let Some(name) = user.username().clone().filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    let ids = users::resolve(&rb.rootfs, &name).map_err(|source| ShimError::User {
        field: "process.user.username",
        source,
    })?;
    user.set_uid(ids.uid);
    user.set_gid(ids.gid);
    user.set_username(None);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_username_becomes_the_ids_from_the_containers_passwd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "app:x:10:20::/app:/bin/sh\n").unwrap();
        let spec = json!({"process": {"args": ["true"], "cwd": "/",
            "user": {"uid": 0, "gid": 0, "username": "app", "additionalGids": [5]}}});
        let mut rb = RuntimeBundle {
            source: dir.path().to_path_buf(),
            dir: dir.path().to_path_buf(),
            spec: serde_json::from_value(spec).unwrap(),
            layers: None,
            writable_layer: None,
            rootfs: dir.path().to_path_buf(),
            cgroups_path: "/vessel/c1".into(),
            warnings: Vec::new(),
        };
        resolve_username(&mut rb).unwrap();
        let user = serde_json::to_value(rb.spec.process().as_ref().unwrap().user()).unwrap();
        assert_eq!(user, json!({"uid": 10, "gid": 20, "additionalGids": [5]}));
    }
}
