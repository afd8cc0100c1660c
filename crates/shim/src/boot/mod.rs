//! Booting a container: its first process made, in its cgroups and
//! namespaces, waiting for start (or started).
//!
//! [`crate::create`] prepares what the container runs from (the runtime
//! bundle, the layered rootfs, the user) and hands it here as one
//! [`BootRequest`]; this module boots the container and hands back what
//! it made ([`Created`]). It never calls back into the create: the
//! create's own work that the first process does not wait for (its log and
//! control socket) goes between [`create`] and [`Booting::finish`], while
//! the first process runs libcontainer's init.
//!
//! It boots one of two ways, as [`plan::plan`] finds the spec: the
//! shim's own (`own`: the shim forks the first process straight into
//! its namespaces and cgroups), or libcontainer's builder for anything
//! the shim's way does not do.

mod args;
mod first;
mod gate;
mod own;
mod plan;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use oci_spec::runtime::Spec;
use vessel_runtime::bundle::RuntimeBundle;
use vessel_runtime::record::write_json;

pub use own::SpecError;
pub use plan::{plan, Plan};

use crate::cgroups::ready::ReadyCgroups;
use crate::console::ConsoleSocket;
use crate::error::ShimError;
use crate::executor::{ShimExecutor, Unrunnable};
use crate::fallback::Unsupported;
use crate::process::{wire_stdio, Proc};

/// What the create asks of the boot.
#[derive(Debug)]
pub struct BootRequest<'a> {
    pub id: &'a str,
    /// The runtime bundle, its spec as the container runs it (written to
    /// its `config.json` here).
    pub bundle: &'a mut RuntimeBundle,
    /// libcontainer's state root; its state of the container goes in
    /// `root/id`, in its layout, so that libcontainer can start, signal and
    /// delete the container.
    pub root: PathBuf,
    /// The runtime's state root, where compiled seccomp filters are kept
    /// ([`crate::seccomp`]).
    pub state_root: &'a Path,
    /// The first process, as the shim supervises it: its stdio's ends go
    /// here.
    pub init: &'a mut Proc,
    /// Where the terminal's master is sent, when the process has one.
    pub console: Option<&'a Path>,
    /// Whether the process gets a stdin pipe (else /dev/null).
    pub open_stdin: bool,
    /// Start the first process too (the shim's own way only; a container
    /// the builder makes is started by the start verb).
    pub start: bool,
    /// Cgroups a spare shim made ahead; given up unless the container can
    /// take them (see [`crate::cgroups::ready`]).
    pub ready_cgroups: Option<ReadyCgroups>,
}

/// What [`Booting::finish`] made.
#[derive(Debug)]
pub struct Created {
    pub container: Container,
    /// Where the terminal's master comes from, when the process has one.
    pub console: Option<ConsoleSocket>,
    /// Whether the container's own network namespace already has `lo` up.
    pub loopback_up: bool,
    /// Whether the first process was started too.
    pub started: bool,
    /// Why libcontainer's builder made the container, when it did.
    pub through_builder: Option<Unsupported>,
    /// Why libcontainer's init made the container's mounts, when it did
    /// (see [`crate::mounts`]).
    pub mounts_by_libcontainer: Option<Unsupported>,
    /// The seccomp filter the first process loaded, compiled, when the
    /// shim loaded it (not libcontainer).
    pub seccomp: Option<crate::seccomp::Filter>,
}

/// A container being booted. Dropped unfinished, its first process is
/// killed and reaped; the caller removes the rest.
#[derive(Debug)]
pub struct Booting(Stage);

// One per create, moved once: a box would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Stage {
    Own(own::OwnBoot),
    Built(Created),
}

/// Boots the container `req` describes: on return its first process
/// exists (and, the shim's own way, runs libcontainer's init).
pub fn create(req: BootRequest<'_>) -> Result<Booting, ShimError> {
    let plan = plan::plan(&mut req.bundle.spec, req.id);
    // A first process that makes its own mounts makes its working
    // directory after them; where libcontainer's init mounts, it is made
    // here, in the image.
    if !plan.as_ref().is_ok_and(Plan::makes_own_mounts) {
        let cwd = req
            .bundle
            .spec
            .process()
            .as_ref()
            .map(|p| p.cwd().to_string_lossy());
        crate::mounts::make_cwd(&req.bundle.rootfs, cwd.as_deref().unwrap_or("/"))
            .map_err(ShimError::Cwd)?;
    }
    match plan {
        Ok(plan) => own::create(plan, req).map(|own| Booting(Stage::Own(own))),
        Err(why) => build(req, why).map(|built| Booting(Stage::Built(built))),
    }
}

impl Booting {
    /// Waits until the first process is ready (and started, when asked).
    pub fn finish(self) -> Result<Created, ShimError> {
        match self.0 {
            Stage::Own(own) => own.finish(),
            Stage::Built(created) => Ok(created),
        }
    }
}

/// The spec as libcontainer is to read it, where it loads the seccomp
/// filter itself: the arguments of its rules in libcontainer's order
/// ([`crate::seccomp::in_libcontainer_order`]), and `noNewPrivileges`
/// false left out (libcontainer loads the filter after dropping
/// capabilities for any value given, where it then fails).
fn for_libcontainer(spec: &Spec) -> Result<Cow<'_, Spec>, ShimError> {
    let mut spec = crate::seccomp::in_libcontainer_order(spec).map_err(ShimError::create)?;
    let nnp_false = |s: &Spec| {
        s.process()
            .as_ref()
            .is_some_and(|p| p.no_new_privileges() == Some(false))
    };
    if nnp_false(&spec) {
        if let Some(p) = spec.to_mut().process_mut().as_mut() {
            p.set_no_new_privileges(None);
        }
    }
    Ok(spec)
}

/// Writes the runtime bundle's `config.json`: the spec as run, which
/// libcontainer's builders read (see [`for_libcontainer`]), and whoever
/// reads the container's state later.
fn write_bundle(bundle: &RuntimeBundle) -> Result<(), ShimError> {
    write_json(
        &bundle.dir.join("config.json"),
        for_libcontainer(&bundle.spec)?.as_ref(),
    )
    .map_err(ShimError::internal("writing the runtime bundle"))
}

/// Creates the container with libcontainer's builder, for the reason
/// `why`.
fn build(req: BootRequest<'_>, why: Unsupported) -> Result<Created, ShimError> {
    let BootRequest {
        id,
        bundle,
        root,
        init,
        console,
        open_stdin,
        ready_cgroups,
        ..
    } = req;
    // Given up before the builder forks: none of its processes starts in
    // them.
    drop(ready_cgroups);
    write_bundle(bundle)?;
    let builder = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_root_path(root)
        .map_err(ShimError::internal("preparing libcontainer's state"))?
        .with_executor(ShimExecutor(Unrunnable::First));
    let (builder, console) = wire_stdio(builder, init, console, open_stdin)
        .map_err(ShimError::internal("setting up the stdio"))?;
    let container = builder
        .as_init(&bundle.dir)
        .with_systemd(false)
        .with_detach(true)
        .build()
        .map_err(ShimError::create)?;
    Ok(Created {
        container,
        console,
        loopback_up: false,
        started: false,
        through_builder: Some(why),
        mounts_by_libcontainer: None,
        seccomp: None,
    })
}
