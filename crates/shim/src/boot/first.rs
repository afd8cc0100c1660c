//! In the container's first process, pid 1 of its new pid namespace: what
//! libcontainer's intermediate process does for it, its mount namespace
//! when it makes that itself, then libcontainer's init.

use std::os::fd::RawFd;

use libcontainer::process::args::ContainerArgs;
use libcontainer::process::channel::{InitReceiver, MainSender};
use libcontainer::syscall::syscall::create_syscall;
use oci_spec::runtime::Spec;

use super::gate::GateWait;
use crate::cgroups::{CgroupEntry, CgroupView};
use crate::child::{run_child, ChildError};
use crate::executor::exit_now;
use crate::seccomp::Filter;

/// What the first process is given.
pub(super) struct First<'a> {
    pub(super) args: &'a ContainerArgs,
    /// Cgroups it moves itself into, first thing (see
    /// [`crate::cgroups::ready`]).
    pub(super) joins: Option<CgroupEntry>,
    /// Passed once it is in its cgroups.
    pub(super) joined: GateWait,
    pub(super) makes_network: bool,
    /// Set when it makes its mount namespace itself.
    pub(super) own_mounts: Option<OwnMounts<'a>>,
}

/// What the first process needs to make its mount namespace itself.
pub(super) struct OwnMounts<'a> {
    /// The whole spec (libcontainer's init is given less).
    pub(super) spec: &'a Spec,
    /// Its stdin, stdout and stderr, when they are not a terminal.
    pub(super) stdio: Option<[RawFd; 3]>,
    /// The socket its terminal's master is sent on, when it has one.
    pub(super) console: Option<RawFd>,
    /// The spec's seccomp filter, compiled: loaded once the mounts are
    /// made (libcontainer's init is given the spec without it).
    pub(super) seccomp: Option<&'a Filter>,
    /// What a `cgroup` mount shows.
    pub(super) cgroups: &'a [CgroupView],
}

/// Runs [`init`]; a failure is reported on the channel before the child
/// exits. Never returns.
pub(super) fn become_init(
    first: First<'_>,
    main_sender: &mut MainSender,
    init_receiver: &mut InitReceiver,
) -> ! {
    let result = run_child("the first process", || {
        init(&first, main_sender, init_receiver)
    });
    if let Err(e) = result {
        let _ = main_sender.exec_failed(crate::error::chain(&e));
        exit_now(1)
    }
    exit_now(0)
}

/// What libcontainer's intermediate process does for the first process,
/// the mount namespace when it makes that itself, then libcontainer's
/// init, which returns only on failure.
fn init(
    first: &First<'_>,
    main_sender: &mut MainSender,
    init_receiver: &mut InitReceiver,
) -> Result<(), ChildError> {
    let args = first.args;
    if let Some(joins) = &first.joins {
        joins.join()?;
    }
    let process = args.spec.process().as_ref().ok_or(ChildError::NoProcess)?;
    if let Some(score) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", score.to_string())
            .map_err(|e| ChildError::OomScoreAdj(score, e))?;
    }
    // Not dumpable, like the shim it is a copy of (see the module's page
    // of `boot`): until it execs it holds the shim's memory and
    // descriptors, and nothing in the container may open it through
    // /proc.
    nix::sys::prctl::set_dumpable(false).map_err(ChildError::Dumpable)?;
    let syscall = create_syscall();
    for rlimit in process.rlimits().iter().flatten() {
        syscall
            .set_rlimit(rlimit)
            .map_err(|e| ChildError::Rlimit(rlimit.typ(), e))?;
    }
    if first.makes_network {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(ChildError::NetworkNamespace)?;
        crate::network::loopback_up_here().map_err(ChildError::Loopback)?;
    }
    // In its cgroups before its cgroup namespace is made (that namespace's
    // root is where the process is then) and before anything of the
    // container's runs.
    first.joined.wait()?;
    if let Some(own) = &first.own_mounts {
        // Where libcontainer's init sets up the stdio: before the
        // namespaces, so that the container's /dev/null can replace the
        // host's.
        for (fd, std) in own.stdio.iter().flatten().zip(0..) {
            nix::unistd::dup2(*fd, std).map_err(ChildError::Stdio)?;
            nix::unistd::close(*fd).map_err(ChildError::Stdio)?;
        }
        crate::mounts::prepare(own.spec, &args.rootfs, own.console, own.cgroups)?;
        // With every capability still: what libcontainer's init does after
        // this (session, user, capabilities, the wait for start, the exec)
        // is what runc does under the filter too.
        if let Some(filter) = own.seccomp {
            filter.load().map_err(|e| ChildError::Seccomp(e.into()))?;
        }
    }
    libcontainer::process::init::container_init_process(args, main_sender, init_receiver)
        .map_err(|e| ChildError::Init(e.into()))
}
