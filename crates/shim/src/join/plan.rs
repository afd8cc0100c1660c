//! What an exec's child needs, worked out before the fork, and whether
//! the shim can start that process itself at all.

use std::ffi::CString;
use std::path::PathBuf;

use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use crate::fallback::Unsupported;

/// Everything the child needs, worked out before the fork.
#[derive(Debug)]
pub struct Plan {
    pub(super) process: Process,
    pub(super) args: Vec<CString>,
    pub(super) env: Vec<CString>,
    /// Where a command without a slash is looked for.
    pub(super) search_path: String,
    /// Whether `HOME` is to be found in the container's /etc/passwd.
    pub(super) needs_home: bool,
    /// The namespaces the child enters itself (all but the pid namespace).
    pub(super) namespaces: CloneFlags,
    /// Whether the container has a pid namespace of its own.
    pub(super) pid_namespace: bool,
    /// The container's cgroup directories, one per hierarchy it is in.
    pub(super) cgroups: Vec<PathBuf>,
}

/// glibc's search path for a process without `PATH`.
pub(super) const DEFAULT_PATH: &str = "/bin:/usr/bin";

impl Plan {
    /// A plan for running `process` in the container described by `spec`,
    /// whose cgroup directories are `cgroups` (see
    /// [`crate::cgroups::container_dirs`]).
    pub fn new(spec: &Spec, process: &Process, cgroups: Vec<PathBuf>) -> Result<Plan, Unsupported> {
        unsupported_fields(spec, process)?;
        let linux = spec.linux().as_ref();
        let (namespaces, pid_namespace) = namespaces(spec)?;
        // The filter itself is compiled by the caller ([`crate::seccomp`]).
        if linux
            .and_then(|l| l.seccomp().as_ref())
            .is_some_and(libcontainer::seccomp::is_notify)
        {
            return Err(Unsupported::SeccompNotify);
        }
        let args = cstrings(process.args().iter().flatten())?;
        if args.is_empty() {
            return Err(Unsupported::NoArgs);
        }
        let mut env: Vec<String> = process.env().clone().unwrap_or_default();
        let value_of = |name: &str| {
            env.iter()
                .find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
                .map(String::from)
        };
        let search_path = value_of("PATH").unwrap_or_else(|| DEFAULT_PATH.into());
        let needs_home = value_of("HOME").is_none_or(|h| h.is_empty());
        if needs_home {
            env.retain(|e| !e.starts_with("HOME="));
        }
        let env = cstrings(env.iter())?;
        if !namespaces.contains(CloneFlags::CLONE_NEWNS) {
            // Its first process was put in its root by libcontainer.
            return Err(Unsupported::NoMountNamespace);
        }
        if cgroups.is_empty() {
            return Err(Unsupported::NoCgroupDirectory);
        }
        Ok(Plan {
            process: process.clone(),
            args,
            env,
            search_path,
            needs_home,
            namespaces,
            pid_namespace,
            cgroups,
        })
    }
}

/// What only libcontainer's tenant builder does: a personality, a memory
/// policy, Intel RDT, AppArmor, SELinux, scheduling, I/O priorities, CPU
/// affinity.
fn unsupported_fields(spec: &Spec, process: &Process) -> Result<(), Unsupported> {
    let linux = spec.linux().as_ref();
    let fields = [
        (
            linux.is_some_and(|l| l.personality().is_some()),
            "linux.personality",
        ),
        (
            linux.is_some_and(|l| l.memory_policy().is_some()),
            "linux.memoryPolicy",
        ),
        (
            linux.is_some_and(|l| l.intel_rdt().is_some()),
            "linux.intelRdt",
        ),
        (
            process.apparmor_profile().is_some(),
            "process.apparmorProfile",
        ),
        (process.selinux_label().is_some(), "process.selinuxLabel"),
        (process.scheduler().is_some(), "process.scheduler"),
        (process.io_priority().is_some(), "process.ioPriority"),
        (
            process.exec_cpu_affinity().is_some(),
            "process.execCPUAffinity",
        ),
    ];
    match fields.iter().find(|(set, _)| *set) {
        Some((_, field)) => Err(Unsupported::Field(field)),
        None => Ok(()),
    }
}

/// The namespaces the child enters through the first process's pidfd, and
/// whether the container has a pid namespace of its own.
fn namespaces(spec: &Spec) -> Result<(CloneFlags, bool), Unsupported> {
    let mut namespaces = CloneFlags::empty();
    let mut pid_namespace = false;
    let types = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .into_iter()
        .flatten()
        .map(|n| n.typ());
    for kind in types {
        namespaces |= match kind {
            LinuxNamespaceType::Pid => {
                pid_namespace = true;
                continue;
            }
            LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
            LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
            LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
            LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
            LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            other @ (LinuxNamespaceType::User | LinuxNamespaceType::Time) => {
                return Err(Unsupported::Namespace(other))
            }
        };
    }
    Ok((namespaces, pid_namespace))
}

fn cstrings<'a>(items: impl Iterator<Item = &'a String>) -> Result<Vec<CString>, Unsupported> {
    items
        .map(|s| CString::new(s.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| Unsupported::NulByte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> T {
        serde_json::from_value(v.clone()).unwrap()
    }

    fn plan(spec: Value, process: Value) -> Result<Plan, Unsupported> {
        Plan::new(
            &typed(&spec),
            &typed(&process),
            vec![PathBuf::from("/sys/fs/cgroup/pids/vessel/t")],
        )
    }

    #[test]
    fn what_the_shim_cannot_do_itself_is_left_to_libcontainer() {
        let process = json!({"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}});
        let user_ns = json!({"linux": {"namespaces": [{"type": "pid"}, {"type": "user"}]}});
        assert!(plan(user_ns, process.clone())
            .unwrap_err()
            .to_string()
            .contains("user namespace"));
        let mut apparmor = process.clone();
        apparmor["apparmorProfile"] = json!("docker-default");
        let e = plan(json!({}), apparmor).unwrap_err();
        assert_eq!(e.to_string(), "process.apparmorProfile");
        let notify = json!({"linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": "/run/notify.sock",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]
        }}});
        assert!(plan(notify, process).is_err());
    }

    #[test]
    fn a_plan_keeps_the_processs_env_and_leaves_home_to_the_container() {
        let spec = json!({"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}]}});
        let process = json!({
            "args": ["sh", "-c", "true"],
            "env": ["PATH=/sbin:/bin", "A=1", "HOME="],
            "cwd": "/",
            "user": {"uid": 1000, "gid": 1000}
        });
        let p = plan(spec.clone(), process).unwrap();
        assert!(p.pid_namespace);
        assert_eq!(
            p.namespaces,
            CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET
        );
        assert_eq!(p.search_path, "/sbin:/bin");
        let env: Vec<_> = p.env.iter().map(|e| e.to_str().unwrap()).collect();
        assert_eq!(env, ["PATH=/sbin:/bin", "A=1"]);
        assert!(p.needs_home);

        let own_home = json!({"args": ["true"], "env": ["HOME=/mine"], "cwd": "/", "user": {"uid": 0, "gid": 0}});
        let p = plan(spec, own_home.clone()).unwrap();
        assert_eq!(p.search_path, DEFAULT_PATH);
        assert_eq!(p.env, [CString::new("HOME=/mine").unwrap()]);
        assert!(!p.needs_home);

        // Without a mount namespace (libcontainer chroots the first
        // process) or without cgroups, libcontainer does it.
        assert!(plan(
            json!({"linux": {"namespaces": [{"type": "pid"}]}}),
            own_home.clone()
        )
        .is_err());
        let mount = json!({"linux": {"namespaces": [{"type": "mount"}]}});
        assert!(Plan::new(&typed(&mount), &typed(&own_home), Vec::new()).is_err());
    }
}
