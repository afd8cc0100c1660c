//! The engine: containers from create to removal, on top of the runtime
//! client, with the daemon's start path and restore.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use vessel_runtime::launch::Start;
use vessel_runtime::protocol::INIT;
use vessel_runtime::record::now_rfc3339;

use crate::container::{Config, Container, HostConfig, State};
use crate::error::{EngineError, Result};
use crate::events::Events;
use crate::image::ImageStore;
use crate::lookup::{self, CommandError};
use crate::paths::Paths;
use crate::runtime::{RuntimeClient, RuntimeEvent};
use crate::spec;

mod exec;
mod images;
mod names;
mod remove;
mod restore;
mod update;
mod usage;

pub use exec::Exec;
use names::{generated_name, random_id, valid_name};
pub use update::UpdateConfig;
pub use usage::Top;

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
}

impl Entry {
    fn new(c: Container) -> Arc<Entry> {
        Arc::new(Entry {
            name: Mutex::new(c.name.clone()),
            rec: Mutex::new(c),
            changed: Condvar::new(),
            ends: Default::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Container> {
        self.rec.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn name(&self) -> MutexGuard<'_, String> {
        self.name.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What `wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
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
    pub images: ImageStore,
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
}

impl Daemon {
    /// Opens the stores under `paths` and restores every container found
    /// there. `shim` is the `vessel-shim` binary.
    pub fn open(paths: Paths, shim: PathBuf) -> Result<Arc<Daemon>> {
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
        let images = ImageStore::open(&paths.images(), &paths.tmp())?;
        // Removed containers' files a crash left behind (see discard_dir).
        crate::paths::clear_scratch(&paths.tmp(), remove::REMOVED);
        let daemon = Arc::new_cyclic(|weak: &Weak<Daemon>| {
            let weak = weak.clone();
            let runtime = RuntimeClient::new(&paths.runtime(), &shim, move |id, event| {
                if let Some(d) = weak.upgrade() {
                    d.process_event(id, event);
                }
            });
            Daemon {
                paths,
                images,
                events: Events::default(),
                runtime,
                containers: Mutex::new(HashMap::new()),
                removed: Condvar::new(),
                pending_attach: Mutex::new(HashMap::new()),
                execs: Mutex::new(HashMap::new()),
                exec_exited: Condvar::new(),
                host_files: crate::etc::HostFiles::default(),
            }
        });
        daemon.restore()?;
        daemon.runtime.keep_spare();
        Ok(daemon)
    }

    fn table(&self) -> MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.containers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.paths.container(id)
    }

    fn save(&self, c: &Container) -> Result<()> {
        c.save(&self.dir(&c.id))
    }

    fn event(&self, c: &Container, action: &str, extra: &[(&str, String)]) {
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), c.short_name().to_string());
        attrs.insert("image".to_string(), c.config.image.clone());
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

    // ---- create --------------------------------------------------------

    /// `docker create`: records a container; nothing runs yet.
    pub fn create(
        &self,
        name: Option<&str>,
        config: Config,
        host_config: HostConfig,
    ) -> Result<(String, Vec<String>)> {
        let image = self.images.resolve(&config.image)?;
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                let n = n.trim_start_matches('/');
                if !valid_name(n) {
                    return Err(EngineError::InvalidParameter(format!(
                        "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                    )));
                }
                format!("/{n}")
            }
            None => format!("/{}", generated_name()),
        };
        let mut argv = spec::command(&config.entrypoint, &config.cmd, &image);
        if argv.is_empty() {
            return Err(EngineError::InvalidParameter(
                "No command specified: give one, or use an image with Cmd or Entrypoint".into(),
            ));
        }
        let path = argv.remove(0);
        let id = random_id()?;
        let dir = self.dir(&id);
        let mut config = config;
        if config.hostname.is_empty() {
            // Docker's: the host's name on the host's network, the short
            // id otherwise.
            config.hostname = match host_config.network_mode.as_str() {
                "host" => nix::unistd::gethostname()
                    .ok()
                    .and_then(|h| h.into_string().ok())
                    .unwrap_or_else(|| id[..12].to_string()),
                _ => id[..12].to_string(),
            };
        }
        let c = Container {
            id: id.clone(),
            created: now_rfc3339(),
            path,
            args: argv,
            state: State::default(),
            image: image.id.clone(),
            name: name.clone(),
            restart_count: 0,
            log_path: dir.join(format!("{id}-json.log")).display().to_string(),
            config,
            host_config,
        };
        // The spec is built now to refuse a bad config at create, as Docker
        // does; it is built again at each start.
        spec::build(&c, &image, &[], None)?;
        {
            let mut table = self.table();
            if let Some((other, _)) = table.iter().find(|(_, e)| *e.name() == name) {
                return Err(EngineError::Conflict(format!(
                    "Conflict. The container name \"{name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
                )));
            }
            std::fs::create_dir_all(&dir)
                .map_err(EngineError::io(format!("creating {}", dir.display())))?;
            if let Err(e) = c.save(&dir) {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
            table.insert(id.clone(), Entry::new(c.clone()));
        }
        self.event(&c, "create", &[]);
        Ok((id, Vec::new()))
    }

    // ---- start ---------------------------------------------------------

    /// `docker start`, with the reference's rules: a paused container
    /// cannot start, a running one is not modified (304), one being
    /// removed or dead cannot start; a failed start records its error, an
    /// exit code (128 unless one is set), cleans up and reports "die".
    pub fn start(&self, name: &str) -> Result<()> {
        let entry = self.get(name)?;
        let mut c = entry.lock();
        if c.state.paused {
            return Err(EngineError::Conflict(
                "cannot start a paused container, try unpause instead".into(),
            ));
        }
        if c.state.running {
            return Err(EngineError::NotModified("container already started".into()));
        }
        if c.state.removal_in_progress || c.state.dead {
            return Err(EngineError::Conflict(
                "container is marked for removal and cannot be started".into(),
            ));
        }
        let result = self.start_task(&mut c);
        if let Err(err) = &result {
            c.state.running = false;
            c.state.paused = false;
            c.state.pid = 0;
            c.state.error = err.to_string();
            if c.state.exit_code == 0 {
                c.state.exit_code = 128;
            }
            c.state.status = if c.state.finished_at == crate::container::ZERO_TIME {
                "created".into()
            } else {
                "exited".into()
            };
            if let Err(e) = self.save(&c) {
                tracing::error!(container = %c.id, error = %e, "saving the record of a failed start");
            }
            if let Err(e) = self.runtime.delete(&c.id) {
                tracing::warn!(container = %c.id, error = %e, "cleaning up after a failed start");
            }
            // Waiting attaches end: nothing will run.
            self.take_pending_attach(&c.id);
            self.event(&c, "die", &[("exitCode", c.state.exit_code.to_string())]);
            entry.ends.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if c.host_config.auto_remove {
                let id = c.id.clone();
                drop(c);
                entry.changed.notify_all();
                if let Err(e) = self.remove(&id, true) {
                    tracing::error!(container = %id, error = %e, "removing an auto-remove container after a failed start");
                }
                return result;
            }
        }
        drop(c);
        entry.changed.notify_all();
        result
    }

    fn start_task(&self, c: &mut Container) -> Result<()> {
        let image = self.images.resolve(&c.image)?;
        let layers: Vec<PathBuf> = image
            .layers
            .iter()
            .map(|l| self.images.layer_dir(l))
            .collect();
        let dir = self.dir(&c.id);
        let host_network = c.host_config.network_mode == "host";
        crate::etc::write(&dir, &spec::hostname(c), host_network, &self.host_files)
            .map_err(EngineError::io("writing the container's /etc files"))?;
        let spec = spec::build(c, &image, &layers, Some(&dir))?;
        // "start" is reported whether or not the task starts.
        struct StartEvent<'a>(&'a Daemon, Container);
        impl Drop for StartEvent<'_> {
            fn drop(&mut self) {
                self.0.event(&self.1, "start", &[]);
            }
        }
        let _start_event = StartEvent(self, c.clone());

        let env: Vec<String> = spec["process"]["env"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let cwd = spec["process"]["cwd"].as_str().unwrap_or("/").to_string();
        match lookup::check(&layers, &env, &cwd, &c.path) {
            Ok(()) => {}
            Err(CommandError::NotFound) => {
                c.state.exit_code = 127;
                return Err(EngineError::InvalidParameter(format!(
                    "container command '{}' not found or does not exist",
                    c.path
                )));
            }
            Err(CommandError::NotExecutable) => {
                c.state.exit_code = 126;
                return Err(EngineError::InvalidParameter(format!(
                    "container command '{}' could not be invoked",
                    c.path
                )));
            }
        }

        let bundle = self.dir(&c.id).join("bundle");
        std::fs::create_dir_all(&bundle).map_err(EngineError::io("creating the bundle"))?;
        let bytes = serde_json::to_vec_pretty(&spec)
            .map_err(|e| EngineError::Internal(format!("encoding the spec: {e}")))?;
        vessel_runtime::record::write_atomic(
            &bundle.join("config.json"),
            &bytes,
            vessel_runtime::record::Durability::ProcessCrash,
        )
        .map_err(EngineError::io("writing the spec"))?;
        // A task left by an earlier run of this container goes first.
        self.runtime.delete(&c.id)?;
        let log = PathBuf::from(&c.log_path);
        // Attaches waiting for this start are connected before the process
        // runs, so they miss none of its output. The task is created and
        // started in one request to its shim, whose answer is the one
        // waiting attach's stream (if any); several connect between a
        // create and a start.
        let mut waiting = self.take_pending_attach(&c.id);
        let pid = if waiting.len() <= 1 {
            let attach = waiting.pop();
            let start = Start {
                attach: attach.is_some(),
                stdin: attach.as_ref().is_some_and(|p| p.stdin),
            };
            let (pid, streams) =
                self.runtime
                    .create(&c.id, &bundle, &log, c.config.open_stdin, Some(start))?;
            if let (Some(p), Some(streams)) = (attach, streams) {
                let _ = p.to.send(streams);
            }
            pid
        } else {
            self.runtime
                .create(&c.id, &bundle, &log, c.config.open_stdin, None)?;
            for p in waiting {
                match self.runtime.attach(&c.id, INIT, p.stdin) {
                    Ok(streams) => {
                        let _ = p.to.send(streams);
                    }
                    Err(e) => {
                        tracing::warn!(container = %c.id, error = %e, "connecting a waiting attach")
                    }
                }
            }
            self.runtime.start(&c.id)?
        };
        c.state.set_running(pid, &now_rfc3339());
        self.save(c)?;
        Ok(())
    }

    // ---- exits ----------------------------------------------------------

    /// Handles one event of a container's task (called in order, per
    /// container).
    fn process_event(&self, id: &str, event: RuntimeEvent) {
        let RuntimeEvent::Exit {
            process,
            code,
            exited_at,
            oom_killed,
        } = event;
        if process != INIT {
            self.exec_exited(id, &process, code as i64);
            return;
        }
        let Ok(entry) = self.get(id) else {
            return;
        };
        let mut c = entry.lock();
        if !c.state.running {
            return;
        }
        if let Err(e) = self.runtime.delete(id) {
            tracing::warn!(container = %id, error = %e, "removing the task of an exited container");
        }
        self.exited(&mut c, code as i64, &exited_at, oom_killed);
        entry.ends.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let auto_remove = c.host_config.auto_remove && !c.state.removal_in_progress;
        if auto_remove {
            // Removed at once, without saving the exit or the removal
            // first: an engine that restarts before the files are gone
            // finds a "running" record whose shim is gone, marks it exited
            // and removes it all the same (see restore).
            c.state.removal_in_progress = true;
        } else if let Err(e) = self.save(&c) {
            tracing::error!(container = %id, error = %e, "saving the record of an exit");
        }
        drop(c);
        entry.changed.notify_all();
        if auto_remove {
            if let Err(e) = self.finish_remove(&entry) {
                tracing::error!(container = %id, error = %e, "removing an auto-remove container");
            }
        }
    }

    /// Marks `c` stopped with `code` and reports "die" (after "oom" when
    /// the OOM killer killed one of its processes, as Docker does).
    fn exited(&self, c: &mut Container, code: i64, at: &str, oom_killed: bool) {
        c.state.set_stopped(code, at, oom_killed);
        if oom_killed {
            self.event(c, "oom", &[]);
        }
        self.event(c, "die", &[("exitCode", code.to_string())]);
    }

    // ---- stop, kill, pause --------------------------------------------

    /// `docker kill`: a signal to the container's first process.
    pub fn kill(&self, name: &str, signal: Option<&str>) -> Result<()> {
        let signal = parse_signal(signal.unwrap_or("KILL"))?;
        let entry = self.get(name)?;
        let mut c = entry.lock();
        if !c.state.running {
            return Err(not_running(&c));
        }
        self.runtime.signal(&c.id, INIT, signal)?;
        // A frozen process only gets its signal once thawed. As Docker
        // does, a paused container is resumed after a SIGKILL, or after
        // its stop signal (any signal, when it has none of its own).
        let stop_signal = c
            .config
            .stop_signal
            .as_deref()
            .map(parse_signal)
            .transpose()?;
        let ends_it = signal == libc::SIGKILL || stop_signal.is_none_or(|s| s == signal);
        self.event(&c, "kill", &[("signal", signal.to_string())]);
        if c.state.paused && ends_it {
            match self.runtime.resume(&c.id) {
                Ok(()) => {
                    c.state.set_paused(false);
                    if let Err(e) = self.save(&c) {
                        tracing::warn!(container = %c.id, error = %e, "saving the record after a resume");
                    }
                    self.event(&c, "unpause", &[]);
                }
                Err(e) => {
                    tracing::warn!(container = %c.id, error = %e, "cannot resume a killed container")
                }
            }
        }
        Ok(())
    }

    /// `docker stop`: the stop signal (SIGTERM), then SIGKILL after
    /// `timeout` seconds; returns once the container has stopped.
    pub fn stop(&self, name: &str, timeout: Option<i64>, signal: Option<&str>) -> Result<()> {
        let entry = self.get(name)?;
        let (id, sig, timeout) = {
            let c = entry.lock();
            if !c.state.running {
                return Err(EngineError::NotModified("container already stopped".into()));
            }
            let sig = signal
                .map(String::from)
                .or(c.config.stop_signal.clone())
                .unwrap_or_else(|| "TERM".into());
            let timeout = timeout.or(c.config.stop_timeout).unwrap_or(10);
            (c.id.clone(), parse_signal(&sig)?, timeout)
        };
        // A paused container is resumed by the kill (see there).
        let _ = self.kill(&id, Some(&sig.to_string()));
        let stopped =
            timeout >= 0 && self.wait_stopped(&entry, Some(Duration::from_secs(timeout as u64)));
        if !stopped {
            let _ = self.kill(&id, Some("KILL"));
            self.wait_stopped(&entry, None);
        }
        let c = entry.lock();
        self.event(&c, "stop", &[]);
        Ok(())
    }

    fn wait_stopped(&self, entry: &Entry, limit: Option<Duration>) -> bool {
        let deadline = limit.map(|l| Instant::now() + l);
        let mut c = entry.lock();
        while c.state.running {
            match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    c = entry
                        .changed
                        .wait_timeout(c, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                None => c = entry.changed.wait(c).unwrap_or_else(|e| e.into_inner()),
            }
        }
        true
    }

    pub fn pause(&self, name: &str) -> Result<()> {
        let entry = self.get(name)?;
        let mut c = entry.lock();
        if !c.state.running {
            return Err(not_running(&c));
        }
        if c.state.paused {
            return Err(EngineError::Conflict(format!(
                "container {} is already paused",
                c.id
            )));
        }
        self.runtime.pause(&c.id)?;
        c.state.set_paused(true);
        self.save(&c)?;
        self.event(&c, "pause", &[]);
        Ok(())
    }

    pub fn unpause(&self, name: &str) -> Result<()> {
        let entry = self.get(name)?;
        let mut c = entry.lock();
        if !c.state.paused {
            return Err(EngineError::Conflict(format!(
                "container {} is not paused",
                c.id
            )));
        }
        self.runtime.resume(&c.id)?;
        c.state.set_paused(false);
        self.save(&c)?;
        self.event(&c, "unpause", &[]);
        Ok(())
    }

    // ---- wait, remove ---------------------------------------------------

    /// `docker wait`: blocks until `condition`; returns the exit code.
    pub fn wait(&self, name: &str, condition: WaitCondition) -> Result<i64> {
        self.prepare_wait(name)?.wait(self, condition)
    }

    /// Fixes what `wait` compares against now (for `next-exit`: the runs
    /// ended so far), so that an exit right after this call is not missed
    /// however late the waiting starts.
    pub fn prepare_wait(&self, name: &str) -> Result<Waiter> {
        let entry = self.get(name)?;
        let seen = entry.ends.load(std::sync::atomic::Ordering::SeqCst);
        Ok(Waiter { entry, seen })
    }
}

/// A `wait` whose starting point is fixed (see [`Daemon::prepare_wait`]).
#[derive(Debug)]
pub struct Waiter {
    entry: Arc<Entry>,
    seen: u64,
}

impl Waiter {
    /// Blocks until `condition`; returns the exit code.
    pub fn wait(self, d: &Daemon, condition: WaitCondition) -> Result<i64> {
        let entry = self.entry;
        let seen = self.seen;
        let mut c = entry.lock();
        let ends = || entry.ends.load(std::sync::atomic::Ordering::SeqCst);
        let id = c.id.clone();
        match condition {
            WaitCondition::NotRunning => {
                while c.state.running && !c.state.dead {
                    c = entry.changed.wait(c).unwrap_or_else(|e| e.into_inner());
                }
                Ok(c.state.exit_code)
            }
            WaitCondition::NextExit => {
                // Until the current or next run has ended (or the container
                // is gone).
                while ends() == seen && !c.state.dead {
                    c = entry.changed.wait(c).unwrap_or_else(|e| e.into_inner());
                }
                Ok(c.state.exit_code)
            }
            WaitCondition::Removed => {
                drop(c);
                let mut table = d.table();
                while table.contains_key(&id) {
                    table = d.removed.wait(table).unwrap_or_else(|e| e.into_inner());
                }
                drop(table);
                let code = entry.lock().state.exit_code;
                Ok(code)
            }
        }
    }
}

impl Daemon {
    // ---- reading ---------------------------------------------------------

    /// A container's record.
    pub fn inspect(&self, name: &str) -> Result<Container> {
        Ok(self.get(name)?.lock().clone())
    }

    /// Every container (all, or only running ones), newest first.
    pub fn list(&self, all: bool) -> Vec<Container> {
        let entries: Vec<Arc<Entry>> = self.table().values().cloned().collect();
        let mut out: Vec<Container> = entries
            .iter()
            .map(|e| e.lock().clone())
            .filter(|c| all || c.state.running)
            .collect();
        out.sort_by(|a, b| b.created.cmp(&a.created));
        out
    }

    /// A way to tell whether the container runs, its log file, and
    /// whether it has a terminal.
    pub fn log_source(&self, name: &str) -> Result<(IsRunning, PathBuf, bool)> {
        let entry = self.get(name)?;
        let (path, tty) = {
            let c = entry.lock();
            (PathBuf::from(&c.log_path), c.config.tty)
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

    /// Resolves a container name to its id.
    pub fn id_of(&self, name: &str) -> Result<String> {
        Ok(self.get(name)?.lock().id.clone())
    }
}

/// The error of a verb that needs a running container.
fn not_running(c: &Container) -> EngineError {
    EngineError::Conflict(format!("container {} is not running", c.id))
}

/// A signal by name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
    }
    let name = s.to_ascii_uppercase();
    let name = if name.starts_with("SIG") {
        name
    } else {
        format!("SIG{name}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| EngineError::InvalidParameter(format!("invalid signal: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_or_number() {
        assert_eq!(parse_signal("TERM").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("SIGKILL").unwrap(), libc::SIGKILL);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert!(parse_signal("NOPE")
            .unwrap_err()
            .to_string()
            .contains("NOPE"));
    }
}
