//! Whether the shim boots a container itself, and what it needs to.

use std::path::PathBuf;

use libcgroups::common::CgroupSetup;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::fallback::Unsupported;

/// A container the shim can create itself: its spec, typed, and its
/// cgroups path.
#[derive(Debug)]
pub struct Plan {
    /// The spec without its seccomp profile: the first process loads the
    /// filter compiled from the bundle's (see [`copy_without_seccomp`]).
    pub(super) spec: Spec,
    pub(super) cgroups_path: PathBuf,
    /// The first process makes its network namespace (with `lo` up)
    /// itself; the spec given to libcontainer's init then names it as one
    /// to join.
    pub(super) makes_network: bool,
    /// Whether the first process makes its mount namespace itself
    /// ([`crate::mounts`]); if not, why libcontainer's init does.
    pub(super) mounts: Result<(), Unsupported>,
}

impl Plan {
    /// Whether the first process makes its mount namespace itself.
    pub fn makes_own_mounts(&self) -> bool {
        self.mounts.is_ok()
    }
}

/// Whether the shim creates this container itself; if not, why (the
/// builder then does). `spec` comes back as it was either way.
///
/// What only libcontainer's main or intermediate process does is left to
/// the builder: hooks, a user or time namespace, a pid namespace to join,
/// Intel RDT, network devices, seccomp notify, AppArmor, id-mapped mounts,
/// the resources [`crate::cgroups::v1`] does not write, and every host
/// but a cgroups v1 one.
pub fn plan(spec: &mut Spec, id: &str) -> Result<Plan, Unsupported> {
    let linux = spec.linux().as_ref().ok_or(Unsupported::NoLinux)?;
    if !matches!(
        libcgroups::common::get_cgroup_setup(),
        Ok(CgroupSetup::Legacy | CgroupSetup::Hybrid)
    ) {
        return Err(Unsupported::NotCgroupsV1);
    }
    if spec.hooks().is_some() {
        return Err(Unsupported::Field("hooks"));
    }
    let mut new_pid = false;
    for ns in linux.namespaces().iter().flatten() {
        match ns.typ() {
            typ @ (LinuxNamespaceType::User | LinuxNamespaceType::Time) => {
                return Err(Unsupported::Namespace(typ))
            }
            LinuxNamespaceType::Pid if ns.path().is_some() => {
                return Err(Unsupported::PidNamespaceToJoin)
            }
            LinuxNamespaceType::Pid => new_pid = true,
            _ => {}
        }
    }
    if !new_pid {
        return Err(Unsupported::NoOwnPidNamespace);
    }
    if linux.intel_rdt().is_some() {
        return Err(Unsupported::Field("linux.intelRdt"));
    }
    if linux.net_devices().as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(Unsupported::Field("linux.netDevices"));
    }
    if let Some(seccomp) = linux.seccomp() {
        if libcontainer::seccomp::is_notify(seccomp) {
            return Err(Unsupported::SeccompNotify);
        }
    }
    if spec
        .process()
        .as_ref()
        .is_some_and(|p| p.apparmor_profile().is_some())
    {
        // The builder refuses it on a host without AppArmor first.
        return Err(Unsupported::Field("process.apparmorProfile"));
    }
    let idmapped = spec.mounts().iter().flatten().any(|m| {
        m.uid_mappings().as_ref().is_some_and(|u| !u.is_empty())
            || m.gid_mappings().as_ref().is_some_and(|g| !g.is_empty())
            || m.options()
                .iter()
                .flatten()
                .any(|o| o == "idmap" || o == "ridmap")
    });
    if idmapped {
        return Err(Unsupported::IdMappedMount);
    }
    let cgroups_path = libcontainer::utils::get_cgroup_path(linux.cgroups_path(), id);
    crate::cgroups::v1::check(linux.resources().as_ref(), &cgroups_path)?;
    let makes_network = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|ns| ns.typ() == LinuxNamespaceType::Network && ns.path().is_none());
    let mounts = crate::mounts::fits(spec);
    Ok(Plan {
        spec: copy_without_seccomp(spec),
        cgroups_path,
        makes_network,
        mounts,
    })
}

/// A copy of `spec` without its seccomp profile, which stays in `spec`.
/// Docker's default profile is hundreds of names: copying them is most of
/// copying a spec, on the way to the container's first process.
fn copy_without_seccomp(spec: &mut Spec) -> Spec {
    let seccomp = spec
        .linux_mut()
        .as_mut()
        .and_then(|l| l.seccomp_mut().take());
    let copy = spec.clone();
    if let Some(linux) = spec.linux_mut() {
        linux.set_seccomp(seccomp);
    }
    copy
}
