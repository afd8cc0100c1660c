//! The engine: containers from create to removal, on top of the runtime
//! client, with the daemon's start path and restore.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use crate::container::Container;
use crate::error::{EngineError, Result};
use crate::events::Events;
use crate::image::{ImageStore, Registries};
use crate::paths::Paths;
use crate::runtime::{RuntimeClient, ShimSystem};

mod attach;
mod commit;
mod copy;
mod create;
mod exec;
mod exit;
mod health;
mod images;
mod kill;
mod lock;
pub(crate) mod names;
mod network;
mod networks;
mod pause;
mod prune;
mod pull;
mod remove;
mod rename;
mod restart;
mod restore;
mod shm;
mod start;
mod stop;
mod update;
mod usage;
mod views;
mod volume_verbs;
mod volumes;
mod wait;

pub use attach::Attached;
pub use commit::CommitRequest;
pub use copy::ArchiveOut;
pub use exec::{Exec, ExecOptions};
pub use kill::parse_signal;
pub use prune::{ContainerUsage, ImageUsage, Pruned};
pub use update::UpdateConfig;
pub use usage::Top;
pub use views::{Reading, Spliced, View};
pub use wait::{WaitCondition, Waiter};

/// One container: its record, and a condition signalled on every change.
#[derive(Debug)]
struct Entry {
    /// The container's name (`/name`), readable without the record's lock
    /// (which a start holds for as long as the task takes to create). A
    /// leaf lock: nothing else is taken while it is held.
    name: Mutex<String>,
    rec: Mutex<Container>,
    changed: Condvar,
    /// Counts the ends of runs (exits and failed starts), for `next-exit`.
    ends: std::sync::atomic::AtomicU64,
    /// Counts the record's changes (see [`views::Record`]).
    generation: std::sync::atomic::AtomicU64,
    /// What readers are shown of the record, made at one generation.
    views: Mutex<views::Views>,
    /// The delays of its restart policy's starts. Taken inside `rec`'s
    /// lock when both are.
    backoff: Mutex<crate::container::restart::Backoff>,
    /// The run of health checks that is current (see `health.rs`).
    health: std::sync::atomic::AtomicU64,
}

impl Entry {
    fn new(c: Container) -> Arc<Entry> {
        Arc::new(Entry {
            name: Mutex::new(c.name.clone()),
            rec: Mutex::new(c),
            changed: Condvar::new(),
            ends: Default::default(),
            generation: Default::default(),
            views: Default::default(),
            backoff: Default::default(),
            health: Default::default(),
        })
    }

    fn lock(&self) -> views::Record<'_> {
        let guard = self.rec.lock().unwrap_or_else(|e| e.into_inner());
        views::Record::new(guard, &self.generation)
    }

    fn name(&self) -> MutexGuard<'_, String> {
        self.name.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn backoff(&self) -> MutexGuard<'_, crate::container::restart::Backoff> {
        self.backoff.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub use crate::runtime::Streams;

/// Tells whether a container runs now.
pub type IsRunning = Arc<dyn Fn() -> bool + Send + Sync>;

/// An attach that waits for the container's next start.
#[derive(Debug)]
struct PendingAttach {
    stdin: bool,
    to: std::sync::mpsc::Sender<Streams>,
}

/// The engine.
#[derive(Debug)]
pub struct Daemon {
    pub paths: Paths,
    pub images: Arc<ImageStore>,
    /// How registries are spoken to (`--insecure-registry`).
    pub registries: Registries,
    pub events: Events,
    runtime: RuntimeClient,
    containers: Mutex<HashMap<String, Arc<Entry>>>,
    /// Signalled when a container is removed.
    removed: Condvar,
    /// Attaches made before a start, by container id.
    pending_attach: Mutex<HashMap<String, Vec<PendingAttach>>>,
    /// Execs by id, and a condition signalled when one exits.
    execs: Mutex<HashMap<String, Exec>>,
    exec_exited: Condvar,
    /// The host's files a container's /etc files are made from.
    host_files: crate::etc::HostFiles,
    /// What containers' specs take from the host.
    host: crate::spec::HostFacts,
    /// The networks containers join.
    networks: Arc<crate::network::Networks>,
    /// The volumes containers mount.
    pub volumes: crate::volume::Volumes,
    /// The `vessel-shim` binary: the runtime `info` names.
    shim: PathBuf,
    /// This daemon's hold on its roots (see [`lock`]).
    _locks: lock::RootLocks,
    /// The daemon itself, for the threads that start containers again.
    me: Weak<Daemon>,
}

impl Daemon {
    /// Opens the stores under `paths` and restores every container found
    /// there. `shim` is the `vessel-shim` binary.
    pub fn open(paths: Paths, shim: PathBuf, registries: Registries) -> Result<Arc<Daemon>> {
        // First of all: nothing under a root another daemon holds is
        // touched.
        let locks = lock::lock_roots(&paths)?;
        // A shim listens at <runtime>/<64-digit id>/shim.sock; a unix
        // socket address holds 107 bytes.
        let longest = paths.runtime().join("0".repeat(64)).join("shim.sock");
        if longest.as_os_str().len() > 107 {
            return Err(EngineError::InvalidParameter(format!(
                "exec root {}: too long for the containers' sockets (at most {} bytes)",
                paths.exec_root.display(),
                paths.exec_root.as_os_str().len() + 107 - longest.as_os_str().len()
            )));
        }
        for d in [paths.containers(), paths.runtime(), paths.images()] {
            std::fs::create_dir_all(&d)
                .map_err(EngineError::io(format!("creating {}", d.display())))?;
        }
        // Records hold environments (secrets), layers keep set-uid files:
        // neither is for other users to read or run.
        for d in [paths.containers(), paths.images()] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))
                .map_err(EngineError::io(format!("restricting {}", d.display())))?;
        }
        let images = Arc::new(ImageStore::open(&paths.images(), &paths.tmp())?);
        let mut host = crate::spec::HostFacts::read(
            std::path::Path::new("/proc"),
            std::path::Path::new("/sys/fs/cgroup"),
        );
        host.init = match crate::init::install(&paths.exec_root) {
            Ok(path) => Some(path),
            Err(e) => {
                tracing::warn!(error = %e, "cannot install the init: --init is refused");
                None
            }
        };
        // Removed containers' files a crash left behind (see discard_dir).
        crate::paths::clear_scratch(&paths.tmp(), remove::REMOVED);
        let networks = crate::network::Networks::open(&paths)?;
        let volumes = crate::volume::Volumes::open(&paths.volumes(), &paths.tmp())?;
        let daemon = Arc::new_cyclic(|weak: &Weak<Daemon>| {
            let me = weak.clone();
            let weak = weak.clone();
            let compute = Arc::new(ShimSystem::new(&paths.runtime(), &shim));
            let shim = shim.clone();
            let runtime = RuntimeClient::new(compute, move |id, event| {
                if let Some(d) = weak.upgrade() {
                    d.process_event(id, event);
                }
            });
            Daemon {
                paths,
                images,
                registries,
                events: Events::default(),
                runtime,
                containers: Mutex::new(HashMap::new()),
                removed: Condvar::new(),
                pending_attach: Mutex::new(HashMap::new()),
                execs: Mutex::new(HashMap::new()),
                exec_exited: Condvar::new(),
                host_files: crate::etc::HostFiles::default(),
                host,
                networks,
                volumes,
                shim,
                _locks: locks,
                me,
            }
        });
        let restarts = daemon.restore()?;
        daemon.runtime.prepare();
        daemon.restart_at_boot(restarts);
        Ok(daemon)
    }

    /// What the daemon knows of its host (`docker info`).
    pub fn host(&self) -> &crate::spec::HostFacts {
        &self.host
    }

    /// The runtime's binary, the one `info` lists.
    pub fn shim_path(&self) -> &std::path::Path {
        &self.shim
    }

    fn table(&self) -> MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.containers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.paths.container(id)
    }

    /// Where a container's writable layer (`upper/`, `work/`) is kept
    /// from its first start until it is removed.
    fn writable_layer(&self, id: &str) -> PathBuf {
        self.dir(id).join("rw")
    }

    fn save(&self, c: &Container) -> Result<()> {
        c.save(&self.dir(&c.id))
    }

    fn event(&self, c: &Container, action: &str, extra: &[(&str, String)]) {
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), c.short_name().to_string());
        attrs.insert("image".to_string(), c.image_name().to_string());
        for (k, v) in extra {
            attrs.insert(k.to_string(), v.clone());
        }
        self.events.log("container", action, &c.id, attrs);
    }

    /// Finds a container by full id, name, or unique id prefix.
    fn get(&self, name: &str) -> Result<Arc<Entry>> {
        let table = self.table();
        if let Some(e) = table.get(name) {
            return Ok(e.clone());
        }
        let wanted = format!("/{}", name.trim_start_matches('/'));
        let mut by_prefix = Vec::new();
        for (id, e) in table.iter() {
            if *e.name() == wanted {
                return Ok(e.clone());
            }
            if !name.is_empty() && id.starts_with(name) {
                by_prefix.push(e.clone());
            }
        }
        match by_prefix.len() {
            1 => Ok(by_prefix.remove(0)),
            0 => Err(EngineError::NotFound(format!("No such container: {name}"))),
            _ => Err(EngineError::InvalidParameter(format!(
                "multiple containers match {name}: use more of the id"
            ))),
        }
    }
}

impl Daemon {
    /// A way to tell whether the container runs, its log file, and
    /// whether it has a terminal.
    pub fn log_source(&self, name: &str) -> Result<(IsRunning, PathBuf, bool)> {
        let entry = self.get(name)?;
        let (path, tty) = {
            let c = entry.lock();
            if !c.logs() {
                return Err(EngineError::NotSupported(
                    "configured logging driver does not support reading".into(),
                ));
            }
            (PathBuf::from(&c.log_path), c.tty())
        };
        let running = {
            let entry = entry.clone();
            Arc::new(move || {
                let c = entry.lock();
                c.state.running && !c.state.dead
            }) as IsRunning
        };
        Ok((running, path, tty))
    }

    /// The containers that the `container:NAME` ones of `modes` (IPC and
    /// PID) name: their pids (`None` for one that does not run) and their
    /// /dev/shm on the host, when they share it.
    /// Docker's answer when there is none: 400, not 404. Joining `own`
    /// (the container being started, none at create) is refused; its
    /// record is never locked here.
    fn peers(
        &self,
        own: Option<&Arc<Entry>>,
        modes: &[Option<String>],
    ) -> Result<HashMap<String, crate::spec::Peer>> {
        let mut out = HashMap::new();
        for mode in modes.iter().flatten() {
            let Some(name) = mode.strip_prefix("container:") else {
                continue;
            };
            let entry = self.get(name).map_err(|e| match e {
                EngineError::NotFound(m) => EngineError::InvalidParameter(m),
                other => other,
            })?;
            if own.is_some_and(|own| Arc::ptr_eq(own, &entry)) {
                return Err(EngineError::InvalidParameter(format!(
                    "{mode}: a container cannot join its own namespaces"
                )));
            }
            let peer = entry.lock();
            let shm = match peer.host_config.ipc_mode.as_deref() {
                Some("host") => Some(PathBuf::from("/dev/shm")),
                _ if shm::shareable(&peer) => Some(self.shm_dir(&peer.id)),
                _ => None,
            };
            let pid = peer.state.running.then_some(peer.state.pid);
            let sandbox = Some(&peer.network_settings.sandbox_key)
                .filter(|k| !k.is_empty())
                .map(PathBuf::from);
            let peer = crate::spec::Peer {
                pid,
                shm,
                sandbox,
                id: peer.id.clone(),
                hostname: crate::spec::hostname(&peer),
            };
            out.insert(name.to_string(), peer);
        }
        Ok(out)
    }

    /// Resolves a container name to its id.
    pub fn id_of(&self, name: &str) -> Result<String> {
        Ok(self.get(name)?.lock().id.clone())
    }
}
