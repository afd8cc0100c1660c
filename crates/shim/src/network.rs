//! A new network namespace starts with its loopback down; containers
//! expect `lo` up (Docker's `none` network is exactly that).
//!
//! Making a network namespace is one of the slower steps of a create
//! (about half a millisecond here, its loopback another few tenths), so a
//! spare shim makes one while it waits ([`ReadyNetwork`]) and the
//! container joins that instead of making its own.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;

use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use oci_spec::runtime::{LinuxNamespaceType, Spec};

/// Whether the spec gives the container a network namespace of its own
/// (one without a `path` to join).
pub fn has_own_network(spec: &Spec) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| {
            ns.iter().any(|n| {
                n.typ() == LinuxNamespaceType::Network
                    && n.path().as_ref().is_none_or(|p| p.as_os_str().is_empty())
            })
        })
}

/// A fresh network namespace with its loopback up, held open by this
/// process until a container has joined it.
#[derive(Debug)]
pub struct ReadyNetwork {
    ns: OwnedFd,
}

impl ReadyNetwork {
    /// Makes one on a short-lived thread, so the shim itself never changes
    /// namespace.
    pub fn new() -> std::io::Result<Self> {
        let ns = std::thread::spawn(|| -> std::io::Result<OwnedFd> {
            unshare(CloneFlags::CLONE_NEWNET)?;
            loopback_up_here()?;
            Ok(std::fs::File::open("/proc/thread-self/ns/net")?.into())
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the network thread panicked")))?;
        Ok(ReadyNetwork { ns })
    }

    /// Points the spec's own network namespace, if it asks for one, at
    /// this one (which has `lo` up already: the spec then no longer asks
    /// for a namespace of its own, see [`has_own_network`]).
    pub fn offer(&self, spec: &mut Spec) {
        if !has_own_network(spec) {
            return;
        }
        let path = PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.ns.as_raw_fd()
        ));
        let namespaces = spec
            .linux_mut()
            .as_mut()
            .and_then(|l| l.namespaces_mut().as_mut());
        for ns in namespaces.into_iter().flatten() {
            if ns.typ() == LinuxNamespaceType::Network {
                ns.set_path(Some(path.clone()));
            }
        }
    }
}

/// Brings `lo` up in the network namespace of process `pid`. It runs on a
/// short-lived thread, so the shim itself never changes namespace.
pub fn loopback_up(pid: i32) -> std::io::Result<()> {
    std::thread::spawn(move || -> std::io::Result<()> {
        let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
        setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)?;
        loopback_up_here()
    })
    .join()
    .unwrap_or_else(|_| Err(std::io::Error::other("the loopback thread panicked")))
}

/// Brings `lo` up in the calling thread's network namespace.
pub(crate) fn loopback_up_here() -> std::io::Result<()> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    set_up(sock.as_raw_fd(), "lo")
}

#[allow(unsafe_code)]
fn set_up(sock: i32, name: &str) -> std::io::Result<()> {
    // SAFETY: `ifreq` is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: `sock` is an open socket and `req` a valid, NUL-terminated
    // ifreq that outlives both calls; the kernel only reads the name and
    // reads/writes the flags member of the union.
    unsafe {
        if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> Spec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_a_new_network_namespace_needs_its_loopback() {
        assert!(has_own_network(&spec(
            json!({"linux": {"namespaces": [{"type": "network"}]}})
        )));
        assert!(!has_own_network(&spec(
            json!({"linux": {"namespaces": [{"type": "network", "path": "/proc/1/ns/net"}]}})
        )));
        assert!(!has_own_network(&spec(
            json!({"linux": {"namespaces": [{"type": "pid"}]}})
        )));
    }
}
