//! The first process's cgroups: made, limited and joined by the shim while
//! the process sets itself up (or, made ahead by a spare and the process
//! born in them, renamed and limited), with a gate the process waits at
//! before anything of the container's runs.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd::Pid;
use oci_spec::runtime::Linux;

use crate::cgroups::ready::ReadyCgroups;
use crate::cgroups::v1::Layout;
use crate::child::ChildError;
use crate::error::ShimError;

/// Makes the container's cgroups, writes its limits and moves the first
/// process, `pid`, into them through `gate`.
pub(super) fn cgroups_for(
    gate: CgroupGate,
    pid: Pid,
    cgroups_path: &Path,
    linux: &Linux,
) -> Result<(), ShimError> {
    let layout = Layout::create(crate::cgroups::mounts(), cgroups_path)
        .map_err(ShimError::internal("making the container's cgroups"))?;
    layout
        .apply(linux.resources().as_ref())
        .map_err(ShimError::create)?;
    gate.join(pid, layout.dirs())
        .map_err(ShimError::internal("joining the container's cgroups"))
}

/// Makes `ready`, which the first process was forked in, the container's
/// cgroups: renamed to `cgroups_path` and limited, they let it go on, and
/// the shim goes back to its own.
pub(super) fn adopt(
    ready: &mut ReadyCgroups,
    gate: CgroupGate,
    cgroups_path: &Path,
    linux: &Linux,
) -> Result<(), ShimError> {
    let layout = ready
        .adopt(cgroups_path)
        .map_err(ShimError::internal("naming the container's cgroups"))?;
    layout
        .apply(linux.resources().as_ref())
        .map_err(ShimError::create)?;
    gate.open();
    ready.leave();
    Ok(())
}

/// The first process is moved into its cgroups by the shim (or, born in
/// ready ones, they are renamed and limited) while it sets itself up; it
/// waits at this gate before anything of the container's runs. Made
/// before the fork: the shim keeps the [`CgroupGate`], the child the
/// [`GateWait`].
pub(super) fn cgroup_gate() -> Result<(CgroupGate, GateWait), Errno> {
    let (wait, open) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    Ok((CgroupGate(open), GateWait(wait)))
}

/// The shim's side of a [`cgroup_gate`]. Dropped without [`CgroupGate::join`]
/// succeeding, the child gives up.
#[derive(Debug)]
pub(super) struct CgroupGate(OwnedFd);

impl CgroupGate {
    /// Writes `child` into each of `dirs`' `cgroup.procs`, then lets it go
    /// on. (A child that failed on its own is a zombie until it is reaped,
    /// which a join does not fail on: an error here is the join's own.)
    fn join<'a>(self, child: Pid, mut dirs: impl Iterator<Item = &'a Path>) -> std::io::Result<()> {
        let pid = child.as_raw().to_string();
        dirs.try_for_each(|dir| std::fs::write(dir.join("cgroup.procs"), &pid))?;
        self.open();
        Ok(())
    }

    /// Lets the child go on: it is in its cgroups already (it was forked
    /// inside them).
    fn open(self) {
        let _ = nix::unistd::write(&self.0, &[1]);
    }
}

/// The child's side of a [`cgroup_gate`].
#[derive(Debug)]
pub(super) struct GateWait(OwnedFd);

impl GateWait {
    /// Waits until this process is in its cgroups, limited.
    pub(super) fn wait(&self) -> Result<(), ChildError> {
        let mut byte = [0u8; 1];
        match nix::unistd::read(self.0.as_raw_fd(), &mut byte) {
            Ok(1) => Ok(()),
            _ => Err(ChildError::NotMoved),
        }
    }
}
