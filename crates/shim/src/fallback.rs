//! Why the shim leaves a container or an exec to libcontainer.
//!
//! The shim creates containers ([`crate::boot`]), makes their mounts
//! ([`crate::mounts`]) and their cgroups ([`crate::cgroups::v1`]) and
//! starts execs ([`crate::join`]) itself when it can; for anything else it
//! goes through libcontainer, which does it all. The reason is not an
//! error: it is logged with the create (`through_builder`,
//! `mounts_by_libcontainer`) or the exec.

use std::path::PathBuf;

use oci_spec::runtime::LinuxNamespaceType;

/// What the shim's own path does not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A spec field it leaves to libcontainer, named as in the spec.
    #[error("{0}")]
    Field(&'static str),
    /// Resources of `linux.resources` it does not write.
    #[error("linux.resources.{}", .0.join(", "))]
    Resources(Vec<&'static str>),
    #[error("no linux section")]
    NoLinux,
    #[error("not a cgroups v1 host")]
    NotCgroupsV1,
    #[error("a {0} namespace")]
    Namespace(LinuxNamespaceType),
    #[error("a pid namespace to join")]
    PidNamespaceToJoin,
    #[error("no pid namespace of its own")]
    NoOwnPidNamespace,
    #[error("no mount namespace of its own")]
    NoOwnMountNamespace,
    /// An exec into a container without a mount namespace (libcontainer
    /// put its first process in its root).
    #[error("no mount namespace")]
    NoMountNamespace,
    #[error("seccomp notify")]
    SeccompNotify,
    #[error("an id-mapped mount")]
    IdMappedMount,
    #[error("cgroupsPath {}", .0.display())]
    CgroupsPath(PathBuf),
    #[error("linux.rootfsPropagation {0}")]
    RootfsPropagation(String),
    #[error("no args")]
    NoArgs,
    #[error("a NUL byte in args or env")]
    NulByte,
    #[error("no cgroup directory of the container")]
    NoCgroupDirectory,
}
