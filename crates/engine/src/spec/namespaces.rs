//! A container's namespaces from its modes (`--network`, `--ipc`,
//! `--pid`, `--uts`, `--cgroupns`): its own, the host's, or another
//! container's (`container:NAME`).

use std::path::PathBuf;

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::container::Container;
use crate::error::{EngineError, Result};

/// A container a `container:NAME` mode names, as the daemon found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    /// Its first process, when it runs.
    pub pid: Option<i64>,
    /// Its /dev/shm on the host, when others may share it (its IPC mode
    /// is `shareable`, or `host`).
    pub shm: Option<PathBuf>,
    /// Its network namespace's file, when the daemon made one for it.
    pub sandbox: Option<PathBuf>,
    /// Its id and host name (a `container:` network mode takes its
    /// name and its /etc files).
    pub id: String,
    pub hostname: String,
}

/// Finds the container a `container:NAME` mode names; an error when
/// there is none.
pub type Peers<'a> = &'a dyn Fn(&str) -> Result<Peer>;

/// Whose namespace of a kind the container is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Own,
    Host,
    /// Another container's, by its process.
    Joined {
        pid: i64,
    },
}

impl Modes {
    /// Whether the container's network namespace is its own.
    pub fn network_own(&self) -> bool {
        matches!(self.network, Net::Own | Net::At { own: true, .. })
    }
}

/// A mode as Docker spells it, for the namespace of `kind` (`ipc`, ...):
/// `container:NAME` is looked up through `peers`; the peer must run (and,
/// for IPC, share its /dev/shm) only when the container is `starting`.
fn mode(field: &str, kind: &str, value: &str, peers: Peers, starting: bool) -> Result<Mode> {
    if value.starts_with("container:") {
        return mode_peer(field, kind, value, peers, starting);
    }
    match (kind, value) {
        (_, "host") => Ok(Mode::Host),
        ("ipc", "" | "private" | "shareable") | ("pid" | "uts", "") => Ok(Mode::Own),
        _ => Err(EngineError::InvalidParameter(format!(
            "{field}: {value:?} is not a valid {kind} mode"
        ))),
    }
}

/// A `container:NAME` mode: the peer's process.
fn mode_peer(field: &str, kind: &str, value: &str, peers: Peers, starting: bool) -> Result<Mode> {
    let name = &value["container:".len()..];
    let peer = peers(name)?;
    if starting && kind == "ipc" && peer.shm.is_none() {
        return Err(EngineError::InvalidParameter(format!(
            "{field}: container {name}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
        )));
    }
    match (peer.pid, starting) {
        (Some(pid), _) => Ok(Mode::Joined { pid }),
        (None, false) => Ok(Mode::Joined { pid: 0 }),
        (None, true) => Err(EngineError::Conflict(format!(
            "{field}: cannot join the {kind} namespace of {name}: it is not running"
        ))),
    }
}

/// Whose network namespace the container is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Net {
    Host,
    /// One of its own, made with it (`none`; and any own one when the
    /// spec is only checked).
    Own,
    /// The namespace at `path`: its own one the daemon made (`own`), or a
    /// peer's (`container:NAME`).
    At {
        path: PathBuf,
        own: bool,
    },
}

/// The container's modes, each checked.
#[derive(Debug, Clone)]
pub struct Modes {
    pub network: Net,
    pub ipc: Mode,
    /// The host's directory that is the container's /dev/shm, when that
    /// lives on the host: its own when shareable (`own_shm`), a peer's
    /// when it joins one's IPC namespace.
    pub shm: Option<PathBuf>,
    pub pid: Mode,
    pub uts_own: bool,
    pub cgroup_own: bool,
}

impl Modes {
    /// The modes of `c`; `own_shm` is where its /dev/shm is mounted on
    /// the host when it is shareable (none when only checking).
    pub fn of(
        c: &Container,
        peers: Peers,
        starting: bool,
        own_shm: Option<PathBuf>,
        sandbox: Option<PathBuf>,
    ) -> Result<Modes> {
        let hc = &c.host_config;
        let network = match c.network_mode() {
            "host" => Net::Host,
            "none" => Net::Own,
            mode if mode.starts_with("container:") => {
                let field = "HostConfig.NetworkMode";
                let name = &mode["container:".len()..];
                let path = match mode_peer(field, "network", mode, peers, starting)? {
                    Mode::Joined { pid } => peers(name)?
                        .sandbox
                        .unwrap_or_else(|| format!("/proc/{pid}/ns/net").into()),
                    _ => unreachable!("a container: mode joins"),
                };
                Net::At { path, own: false }
            }
            _ => match sandbox {
                Some(path) => Net::At { path, own: true },
                None => Net::Own,
            },
        };
        let get = |v: &Option<String>| v.clone().unwrap_or_default();
        let ipc_mode = get(&hc.ipc_mode);
        let ipc = mode("HostConfig.IpcMode", "ipc", &ipc_mode, peers, starting)?;
        let shm = match (&ipc, ipc_mode.strip_prefix("container:")) {
            (Mode::Joined { .. }, Some(name)) => peers(name)?.shm,
            (Mode::Own, _) if ipc_mode == "shareable" => own_shm,
            _ => None,
        };
        let pid = get(&hc.pid_mode);
        let pid = mode("HostConfig.PidMode", "pid", &pid, peers, starting)?;
        let uts_own = match hc.uts_mode.as_deref().unwrap_or_default() {
            "" => true,
            "host" => false,
            other => {
                return Err(EngineError::InvalidParameter(format!(
                    "HostConfig.UTSMode: {other:?} is not a valid uts mode"
                )))
            }
        };
        let cgroup_own = match hc.cgroupns_mode.map(|m| m.to_string()).as_deref() {
            None | Some("" | "host") => false,
            Some("private") => true,
            Some(other) => {
                return Err(EngineError::InvalidParameter(format!(
                    "HostConfig.CgroupnsMode: invalid cgroup namespace mode: {other}"
                )))
            }
        };
        Ok(Modes {
            network,
            ipc,
            shm,
            pid,
            uts_own,
            cgroup_own,
        })
    }

    /// The spec's namespaces: one of the container's own for each own
    /// mode, the peer's (by path) for each joined one.
    pub fn namespaces(&self) -> Vec<LinuxNamespace> {
        let ns = |typ: LinuxNamespaceType, path: Option<PathBuf>| {
            let mut ns = LinuxNamespace::default();
            ns.set_typ(typ).set_path(path);
            ns
        };
        let of = |typ: LinuxNamespaceType, mode: &Mode, name: &str| match mode {
            Mode::Own => Some(ns(typ, None)),
            Mode::Host => None,
            Mode::Joined { pid } => Some(ns(typ, Some(format!("/proc/{pid}/ns/{name}").into()))),
        };
        let own = |typ: LinuxNamespaceType, yes: bool| yes.then(|| ns(typ, None));
        [
            of(LinuxNamespaceType::Pid, &self.pid, "pid"),
            of(LinuxNamespaceType::Ipc, &self.ipc, "ipc"),
            own(LinuxNamespaceType::Uts, self.uts_own),
            Some(ns(LinuxNamespaceType::Mount, None)),
            match &self.network {
                Net::Host => None,
                Net::Own => Some(ns(LinuxNamespaceType::Network, None)),
                Net::At { path, .. } => Some(ns(LinuxNamespaceType::Network, Some(path.clone()))),
            },
            own(LinuxNamespaceType::Cgroup, self.cgroup_own),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers(name: &str) -> Result<Peer> {
        let shm = Some(PathBuf::from("/c/mounts/shm"));
        match name {
            "up" => Ok(Peer {
                pid: Some(42),
                shm,
                ..Default::default()
            }),
            "private" => Ok(Peer {
                pid: Some(43),
                ..Default::default()
            }),
            "down" => Ok(Peer {
                pid: None,
                shm,
                ..Default::default()
            }),
            _ => Err(EngineError::InvalidParameter(format!(
                "No such container: {name}"
            ))),
        }
    }

    #[test]
    fn modes_are_own_host_or_a_peers() {
        let m = |v: &str, starting| mode("HostConfig.PidMode", "pid", v, &peers, starting);
        assert_eq!(m("", true).unwrap(), Mode::Own);
        let ipc = |v: &str| mode("HostConfig.IpcMode", "ipc", v, &peers, true);
        assert_eq!(ipc("shareable").unwrap(), Mode::Own);
        assert_eq!(ipc("container:up").unwrap(), Mode::Joined { pid: 42 });
        let e = ipc("container:private").unwrap_err().to_string();
        assert!(
            e.contains("IpcMode") && e.contains("non-shareable IPC"),
            "{e}"
        );
        assert_eq!(m("host", true).unwrap(), Mode::Host);
        assert_eq!(m("container:up", true).unwrap(), Mode::Joined { pid: 42 });
        assert!(m("container:down", false).is_ok());
        assert_eq!(m("container:down", true).unwrap_err().status(), 409);
        assert!(m("container:nosuch", false)
            .unwrap_err()
            .to_string()
            .contains("nosuch"));
        assert!(m("bogus", false)
            .unwrap_err()
            .to_string()
            .contains("PidMode"));
    }
}
