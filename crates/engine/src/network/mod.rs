//! Networks, as Docker's bridge driver makes them: a Linux bridge per
//! network (the default one, `bridge`, and user-defined ones), a veth
//! pair per endpoint whose inside end lives in the container's network
//! namespace (its sandbox, a file under `<exec-root>/netns`), addresses
//! from each network's subnet, published ports and NAT in one nftables
//! table of the engine's own, and a DNS server for containers on
//! user-defined networks.
//!
//! Records live under `<root>/network`; a container's endpoints, its
//! sandbox and its ports live in its own record (see [`Attachment`]), so
//! that an engine started again re-adopts them (see `endpoint`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};
use crate::paths::{Paths, DEFAULT_ROOT};

mod connect;
pub mod dns;
mod endpoint;
pub mod firewall;
pub mod ipam;
pub mod link;
pub mod ports;
pub mod record;
mod teardown;

pub use endpoint::{Attachment, JoinRequest};
pub use record::{Network, Request, BRIDGE};

use ipam::{Allocations, Subnet};

/// Taken while a subnet is chosen and its bridge made, by every engine
/// on the host: two engines never take the same pool.
const HOST_LOCK: &str = "/run/vessel-networks.lock";

/// The engine's networks.
#[derive(Debug)]
pub struct Networks {
    dir: PathBuf,
    sandboxes: PathBuf,
    /// The nftables table (`ip <table>`).
    table: String,
    /// The default bridge's interface.
    default_bridge: String,
    netlink: link::Netlink,
    state: Mutex<State>,
    /// Sees endpoints' veths go (see `teardown`); set once the networks
    /// are in their `Arc`.
    worker: std::sync::OnceLock<teardown::Worker>,
    dns: dns::Resolvers,
    /// Held while the table is made and written, so that two writers
    /// never write what they read before each other's change.
    writing: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    nets: BTreeMap<String, Net>,
    /// Ports held, by container id.
    ports: HashMap<String, Vec<(ports::Held, firewall::Forward)>>,
    /// Where the next ephemeral host port is looked for, per protocol.
    cursor: HashMap<String, u16>,
}

#[derive(Debug)]
struct Net {
    rec: Network,
    addrs: Allocations,
}

/// The names an engine gives its own things on the host: `vessel0` and
/// table `vessel` for the default root, names made from a hash of the
/// root for any other (so engines with their own roots never share one).
fn host_names(root: &Path) -> (String, String) {
    if root == Path::new(DEFAULT_ROOT) {
        return ("vessel0".into(), "vessel".into());
    }
    let hash = crate::hex(&Sha256::digest(root.as_os_str().as_encoded_bytes()))[..6].to_string();
    (format!("vessel-{hash}"), format!("vessel-{hash}"))
}

/// Holds the host-wide lock for as long as it lives.
struct HostLock(#[allow(dead_code)] nix::fcntl::Flock<std::fs::File>);

fn host_lock() -> Result<HostLock> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(HOST_LOCK)
        .map_err(EngineError::io(format!("opening {HOST_LOCK}")))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map(HostLock)
        .map_err(|(_, e)| EngineError::io(format!("locking {HOST_LOCK}"))(e.into()))
}

impl Networks {
    /// Reads the networks under `paths`, makes the default one when there
    /// is none yet (on a subnet no route of the host and no other network
    /// uses), and makes every network's bridge that is missing.
    pub fn open(paths: &Paths) -> Result<Arc<Networks>> {
        let dir = paths.root.join("network");
        std::fs::create_dir_all(&dir).map_err(EngineError::io("creating the network store"))?;
        let (default_bridge, table) = host_names(&paths.root);
        let netlink = link::Netlink::new().map_err(EngineError::io("starting netlink"))?;
        let n = Networks {
            dir,
            sandboxes: paths.exec_root.join("netns"),
            table,
            default_bridge,
            netlink,
            state: Mutex::new(State::default()),
            worker: std::sync::OnceLock::new(),
            dns: dns::Resolvers::new().map_err(EngineError::io("starting the DNS servers"))?,
            writing: Mutex::new(()),
        };
        let entries = std::fs::read_dir(&n.dir).map_err(EngineError::io("listing the networks"))?;
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "json") {
                match Network::load(&path) {
                    Ok(rec) => n.insert(rec),
                    Err(e) => tracing::error!(error = %e, "skipping an unreadable network record"),
                }
            }
        }
        if n.by_name(BRIDGE).is_none() {
            let req = Request {
                name: BRIDGE.into(),
                options: BTreeMap::from([
                    (record::BRIDGE_NAME.into(), n.default_bridge.clone()),
                    (record::DEFAULT_BRIDGE.into(), "true".into()),
                ]),
                ..Default::default()
            };
            n.create(&req)?;
        }
        let recs: Vec<Network> = n.lock().nets.values().map(|x| x.rec.clone()).collect();
        for rec in recs {
            match rec.is_default() {
                true => n.settle_default(rec)?,
                false => n.make_bridge(&rec)?,
            }
        }
        let n = Arc::new(n);
        let worker = teardown::Worker::start(Arc::downgrade(&n))
            .map_err(EngineError::io("starting the network worker"))?;
        let _ = n.worker.set(worker);
        Ok(n)
    }

    fn worker(&self) -> &teardown::Worker {
        self.worker
            .get()
            .expect("the worker starts with the networks")
    }

    /// Gives an address of the network `id` back.
    fn release(&self, id: &str, ip: std::net::Ipv4Addr) {
        if let Some(net) = self.lock().nets.get_mut(id) {
            net.addrs.release(ip);
        }
    }

    /// Makes the default bridge again if it is gone (the engine removes
    /// it when it stops with nothing running): on its subnet if that is
    /// still free, else on another the pools have, as when it was first
    /// made (another engine may have taken it meanwhile).
    fn settle_default(&self, mut rec: Network) -> Result<()> {
        if self.netlink.exists(rec.bridge()).unwrap_or(true) {
            return self.make_bridge(&rec);
        }
        let _host = host_lock()?;
        let mut taken: Vec<Subnet> = self
            .lock()
            .nets
            .values()
            .filter(|n| n.rec.id != rec.id)
            .map(|n| n.rec.subnet())
            .collect();
        taken.extend(ipam::host_routes());
        if taken.iter().any(|t| t.overlaps(&rec.subnet())) {
            let subnet = ipam::choose(&taken).ok_or_else(|| {
                EngineError::Conflict("no free address pool is left for the default bridge".into())
            })?;
            tracing::info!(from = %rec.subnet, to = %subnet, "the default bridge's subnet is taken: moving");
            rec.subnet = subnet.to_string();
            rec.gateway = subnet.first_host().to_string();
            rec.save(&self.dir)?;
            self.insert(rec.clone());
        }
        self.make_bridge(&rec)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, rec: Network) {
        let net = Net {
            rec,
            addrs: Allocations::default(),
        };
        self.lock().nets.insert(net.rec.id.clone(), net);
    }

    fn by_name(&self, name: &str) -> Option<Network> {
        let st = self.lock();
        st.nets
            .values()
            .find(|n| n.rec.name == name)
            .map(|n| n.rec.clone())
    }

    /// Every network, by name.
    pub fn list(&self) -> Vec<Network> {
        let mut all: Vec<Network> = self.lock().nets.values().map(|n| n.rec.clone()).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// A network by full id, name or unique id prefix (Docker's order).
    pub fn find(&self, name: &str) -> Result<Network> {
        let st = self.lock();
        if let Some(n) = st.nets.get(name) {
            return Ok(n.rec.clone());
        }
        if let Some(n) = st.nets.values().find(|n| n.rec.name == name) {
            return Ok(n.rec.clone());
        }
        let found: Vec<&Net> = st
            .nets
            .values()
            .filter(|n| !name.is_empty() && n.rec.id.starts_with(name))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.rec.clone()),
            [] => Err(EngineError::NotFound(format!("network {name} not found"))),
            _ => Err(EngineError::InvalidParameter(format!(
                "network {name} is ambiguous ({} matches found based on ID prefix)",
                found.len()
            ))),
        }
    }

    /// Creates a network: its record and its bridge.
    pub fn create(&self, req: &Request) -> Result<Network> {
        // Under the lock: two creates of one name never both pass.
        let _host = host_lock()?;
        if self.by_name(&req.name).is_some() {
            return Err(EngineError::Conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        let taken: Vec<Subnet> = self.lock().nets.values().map(|n| n.rec.subnet()).collect();
        let subnet = match req.subnet {
            Some(s) => {
                if let Some(t) = taken.iter().find(|t| t.overlaps(&s)) {
                    return Err(EngineError::Conflict(format!(
                        "Pool overlaps with other one on this address space ({s} and {t})"
                    )));
                }
                s
            }
            None => {
                let mut all = taken.clone();
                all.extend(ipam::host_routes());
                ipam::choose(&all).ok_or_else(|| {
                    EngineError::Conflict(
                        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network".into(),
                    )
                })?
            }
        };
        let id = crate::daemon::names::random_id()?;
        let mut options = req.options.clone();
        let bridge = options
            .entry(record::BRIDGE_NAME.into())
            .or_insert_with(|| format!("br-{}", &id[..12]))
            .clone();
        if self.lock().nets.values().any(|n| n.rec.bridge() == bridge)
            || (!req.options.contains_key(record::DEFAULT_BRIDGE)
                && self.netlink.exists(&bridge).unwrap_or(false))
        {
            return Err(EngineError::Conflict(format!(
                "Options[{}]: a link named {bridge} exists already",
                record::BRIDGE_NAME
            )));
        }
        let rec = Network {
            name: req.name.clone(),
            id,
            created: vessel_runtime::record::now_rfc3339(),
            driver: BRIDGE.into(),
            internal: req.internal,
            labels: req.labels.clone(),
            options,
            subnet: subnet.to_string(),
            gateway: req.gateway.unwrap_or(subnet.first_host()).to_string(),
            ip_range: req.ip_range.map(|r| r.to_string()).unwrap_or_default(),
            user_subnet: req.subnet.is_some(),
        };
        self.make_bridge(&rec)?;
        let made = rec.save(&self.dir).and_then(|()| {
            self.insert(rec.clone());
            self.sync()
        });
        if let Err(e) = made {
            self.lock().nets.remove(&rec.id);
            let _ = std::fs::remove_file(Network::file(&self.dir, &rec.id));
            let _ = self.netlink.delete_link(rec.bridge());
            let _ = self.sync();
            return Err(e);
        }
        Ok(rec)
    }

    fn make_bridge(&self, rec: &Network) -> Result<()> {
        let subnet = rec.subnet();
        self.netlink
            .ensure_bridge(rec.bridge(), rec.gateway(), subnet.len, rec.mtu())
            .map_err(EngineError::io(format!(
                "making the bridge {}",
                rec.bridge()
            )))
    }

    /// Removes a network that no container is on (`in_use` names the
    /// containers that are); the default one is never removed.
    pub fn remove(&self, name: &str, in_use: &[String]) -> Result<Network> {
        let rec = self.find(name)?;
        if rec.is_default() {
            return Err(EngineError::Forbidden(format!(
                "{} is a pre-defined network and cannot be removed",
                rec.name
            )));
        }
        if !in_use.is_empty() {
            return Err(EngineError::Forbidden(format!(
                "error while removing network: network {} id {} has active endpoints ({})",
                rec.name,
                rec.id,
                in_use.join(", ")
            )));
        }
        // What its last endpoints left goes first.
        self.worker().wait_network(Some(&rec.id));
        // The bridge first: the record stays until its bridge is gone,
        // so that a failed removal can be tried again.
        self.netlink
            .delete_link(rec.bridge())
            .map_err(EngineError::io(format!(
                "deleting the bridge {}",
                rec.bridge()
            )))?;
        let file = Network::file(&self.dir, &rec.id);
        std::fs::remove_file(&file).map_err(EngineError::io("removing the network record"))?;
        self.lock().nets.remove(&rec.id);
        self.sync()?;
        Ok(rec)
    }

    /// Writes the engine's nftables table from the networks and the ports
    /// held now.
    pub fn sync(&self) -> Result<()> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let (nets, forwards) = {
            let st = self.lock();
            let nets: Vec<firewall::NetRules> = st
                .nets
                .values()
                .map(|n| firewall::NetRules {
                    bridge: n.rec.bridge().to_string(),
                    subnet: n.rec.subnet(),
                    masquerade: n.rec.masquerade(),
                    internal: n.rec.internal,
                })
                .collect();
            let mut forwards: Vec<firewall::Forward> = st
                .ports
                .values()
                .flatten()
                .map(|(_, f)| f.clone())
                .collect();
            forwards.sort();
            (nets, forwards)
        };
        firewall::apply(&firewall::ruleset(&self.table, &nets, &forwards))
            .map_err(EngineError::io("writing the engine's nftables table"))
    }

    /// When the engine stops with no container running: its default
    /// bridge and its table go (both are made again when it starts).
    pub fn shutdown(&self, any_running: bool) {
        self.dns.stop_all();
        self.worker().wait_network(None);
        if any_running {
            return;
        }
        if let Err(e) = firewall::apply(&firewall::removal(&self.table)) {
            tracing::warn!(error = %e, "removing the engine's nftables table");
        }
        if let Err(e) = self.netlink.delete_link(&self.default_bridge) {
            tracing::warn!(error = %e, "removing the default bridge");
        }
    }
}
