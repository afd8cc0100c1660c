//! What libcontainer's init is given for a first process the shim forks
//! itself.

use std::borrow::Cow;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use libcgroups::common::CgroupConfig;
use libcontainer::container::Container;
use libcontainer::notify_socket::NotifyListener;
use libcontainer::process::args::{ContainerArgs, ContainerType};
use libcontainer::syscall::syscall::SyscallType;
use oci_spec::runtime::Spec;

use crate::error::ShimError;
use crate::executor::{ShimExecutor, Unrunnable};

/// What libcontainer's init is given.
pub(super) struct ContainerArgsFor<'a> {
    pub(super) id: &'a str,
    pub(super) spec: &'a Rc<Spec>,
    /// Whether the first process makes its mount namespace itself: it then
    /// keeps the whole spec, and its stdio, for that, and libcontainer's
    /// init does the rest as for a process joining the container (whose
    /// notify descriptor only libcontainer's intermediate process uses).
    pub(super) own_mounts: bool,
    pub(super) rootfs: PathBuf,
    pub(super) container: &'a Container,
    pub(super) cgroups_path: &'a Path,
    pub(super) stdio: Option<[RawFd; 3]>,
    pub(super) console: Option<RawFd>,
}

impl ContainerArgsFor<'_> {
    pub(super) fn args(self, notify_listener: NotifyListener) -> Result<ContainerArgs, ShimError> {
        let (container_type, init_spec) = match self.own_mounts {
            true => (
                ContainerType::TenantContainer { exec_notify_fd: -1 },
                Rc::new(crate::mounts::for_libcontainer(self.spec)),
            ),
            false => (
                ContainerType::InitContainer,
                match super::for_libcontainer(self.spec)? {
                    Cow::Borrowed(_) => Rc::clone(self.spec),
                    Cow::Owned(spec) => Rc::new(spec),
                },
            ),
        };
        // libcontainer's init sets up only what the first process did not.
        let [stdin, stdout, stderr] = match self.stdio.filter(|_| !self.own_mounts) {
            Some(fds) => fds.map(Some),
            None => [None; 3],
        };
        Ok(ContainerArgs {
            container_type,
            syscall: SyscallType::default(),
            spec: init_spec,
            rootfs: self.rootfs,
            console_socket: self.console.filter(|_| !self.own_mounts),
            notify_listener,
            preserve_fds: 0,
            container: Some(self.container.clone()),
            user_ns_config: None,
            cgroup_config: CgroupConfig {
                cgroup_path: self.cgroups_path.to_path_buf(),
                systemd_cgroup: false,
                container_name: self.id.to_string(),
            },
            detached: true,
            executor: Box::new(ShimExecutor(Unrunnable::First)),
            no_pivot: false,
            stdin,
            stdout,
            stderr,
            as_sibling: false,
            pid_file: None,
        })
    }
}
