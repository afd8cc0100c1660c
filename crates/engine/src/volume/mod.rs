//! Volumes on Docker's `local` driver: a directory per volume under the
//! state root (`volumes/<name>/_data`, its record beside it), or a
//! filesystem mounted there while a container that uses it runs
//! (`--opt type=... device=... o=...`). The store keeps which containers
//! reference each volume (a volume in use is not removed) and which run
//! with it mounted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use vessel_runtime::record::{write_atomic, Durability};

use crate::error::{EngineError, Result};

pub mod copy;
mod local;
pub mod parse;

/// The one driver.
pub const LOCAL: &str = "local";

/// The label Docker puts on a volume made without a name.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// A scratch entry of a volume being made or removed.
const SCRATCH: &str = "volume-";

/// A volume's record (`volumes/<name>/volume.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The driver's options (`type`, `device`, `o`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl Volume {
    pub fn anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// What a create asks for.
#[derive(Debug, Default, Clone)]
pub struct CreateRequest {
    /// `None` for an anonymous volume (a random name).
    pub name: Option<String>,
    pub driver: Option<String>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct State {
    records: BTreeMap<String, Volume>,
    /// The containers that reference each volume.
    refs: HashMap<String, BTreeSet<String>>,
    /// The running containers each mounted volume (one with options) is
    /// mounted for.
    active: HashMap<String, BTreeSet<String>>,
}

/// The volume store.
#[derive(Debug)]
pub struct Volumes {
    dir: PathBuf,
    tmp: PathBuf,
    state: Mutex<State>,
}

impl Volumes {
    /// Opens the store in `dir`; `tmp` is scratch space on the same
    /// filesystem (a volume is made there and renamed into place).
    pub fn open(dir: &Path, tmp: &Path) -> Result<Volumes> {
        for d in [dir, tmp] {
            std::fs::create_dir_all(d)
                .map_err(EngineError::io(format!("creating {}", d.display())))?;
        }
        // A view of an image a crash left mounted goes before its
        // directory (see `daemon/volumes.rs`).
        for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with("volume-fill-") {
                local::unmount(&e.path());
            }
        }
        crate::paths::clear_scratch(tmp, SCRATCH);
        let mut records = BTreeMap::new();
        let entries = std::fs::read_dir(dir)
            .map_err(EngineError::io(format!("reading {}", dir.display())))?;
        for e in entries.flatten() {
            let file = e.path().join("volume.json");
            match std::fs::read(&file).map(|b| serde_json::from_slice::<Volume>(&b)) {
                Ok(Ok(v)) => {
                    records.insert(v.name.clone(), v);
                }
                Ok(Err(err)) => {
                    tracing::warn!(file = %file.display(), error = %err, "skipping a bad volume record")
                }
                Err(err) => {
                    tracing::warn!(dir = %e.path().display(), error = %err, "skipping a volume without a record")
                }
            }
        }
        Ok(Volumes {
            dir: dir.to_path_buf(),
            tmp: tmp.to_path_buf(),
            state: Mutex::new(State {
                records,
                ..Default::default()
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where a volume's data is (its `Mountpoint`).
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("_data")
    }

    /// Makes a volume, or returns the one of that name; references it for
    /// `container` when given. The bool says whether it was made now.
    pub fn create(&self, req: &CreateRequest, container: Option<&str>) -> Result<(Volume, bool)> {
        let driver = req
            .driver
            .as_deref()
            .filter(|d| !d.is_empty())
            .unwrap_or(LOCAL);
        let (name, mut labels) = match &req.name {
            Some(n) if !n.is_empty() => (n.clone(), req.labels.clone()),
            _ => {
                let mut labels = req.labels.clone();
                labels.insert(ANONYMOUS_LABEL.into(), String::new());
                (crate::daemon::names::random_id()?, labels)
            }
        };
        if driver != LOCAL {
            // 400, not Docker's 404: a client takes a 404 to a create for
            // a missing image and pulls.
            return Err(EngineError::InvalidParameter(format!(
                "create {name}: error looking up volume plugin {driver}: plugin \"{driver}\" not found"
            )));
        }
        let mut state = self.state();
        if let Some(v) = state.records.get(&name).cloned() {
            if let Some(c) = container {
                state.refs.entry(name).or_default().insert(c.to_string());
            }
            return Ok((v, false));
        }
        local::check_name(&name)
            .map_err(|e| EngineError::InvalidParameter(format!("create {name}: {e}")))?;
        local::check_options(&req.options)
            .map_err(|e| EngineError::InvalidParameter(format!("create {name}: {e}")))?;
        labels.retain(|k, _| !k.is_empty());
        let v = Volume {
            name: name.clone(),
            driver: LOCAL.into(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            labels,
            options: req.options.clone(),
        };
        self.write_new(&v)?;
        state.records.insert(name.clone(), v.clone());
        if let Some(c) = container {
            state.refs.entry(name).or_default().insert(c.to_string());
        }
        Ok((v, true))
    }

    /// Makes the volume's directory and record in the scratch space and
    /// renames it into place: a crash leaves a whole volume or none.
    fn write_new(&self, v: &Volume) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let scratch = self.tmp.join(format!("{SCRATCH}{}", v.name));
        let made = (|| {
            let _ = std::fs::remove_dir_all(&scratch);
            std::fs::create_dir_all(scratch.join("_data"))?;
            std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o701))?;
            std::fs::set_permissions(
                scratch.join("_data"),
                std::fs::Permissions::from_mode(0o755),
            )?;
            let bytes = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
            write_atomic(
                &scratch.join("volume.json"),
                &bytes,
                Durability::MachineCrash,
            )?;
            std::fs::rename(&scratch, self.dir.join(&v.name))?;
            std::fs::File::open(&self.dir)?.sync_all()
        })();
        made.map_err(|e| {
            let _ = std::fs::remove_dir_all(&scratch);
            EngineError::io(format!("creating the volume {}", v.name))(e)
        })
    }

    /// The volume `name`; Docker's "no such volume" when there is none.
    pub fn get(&self, name: &str) -> Result<Volume> {
        self.state()
            .records
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("get {name}: no such volume")))
    }

    /// Every volume, by name.
    pub fn list(&self) -> Vec<Volume> {
        self.state().records.values().cloned().collect()
    }

    /// Notes that `container` uses the volume `name` (at create, and for
    /// every container found at the daemon's start).
    pub fn reference(&self, name: &str, container: &str) {
        self.state()
            .refs
            .entry(name.to_string())
            .or_default()
            .insert(container.to_string());
    }

    /// The container no longer uses the volume (it is removed).
    pub fn release(&self, name: &str, container: &str) {
        let mut state = self.state();
        if let Some(refs) = state.refs.get_mut(name) {
            refs.remove(container);
            if refs.is_empty() {
                state.refs.remove(name);
            }
        }
    }

    /// The containers that use the volume.
    pub fn refs(&self, name: &str) -> Vec<String> {
        self.state()
            .refs
            .get(name)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Removes the volume unless a container uses it; `Ok(None)` when
    /// there is none and `force`.
    pub fn remove(&self, name: &str, force: bool) -> Result<Option<Volume>> {
        let mut state = self.state();
        let Some(v) = state.records.get(name).cloned() else {
            return match force {
                true => Ok(None),
                false => Err(EngineError::NotFound(format!("get {name}: no such volume"))),
            };
        };
        if let Some(refs) = state.refs.get(name).filter(|r| !r.is_empty()) {
            let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
            return Err(EngineError::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                refs.join(", ")
            )));
        }
        if local::needs_mount(&v.options) {
            // Not mounted for any container: gone if a crash left it.
            local::unmount(&self.data_dir(name));
        }
        let trash = self.tmp.join(format!("{SCRATCH}removed-{name}"));
        std::fs::rename(self.dir.join(name), &trash)
            .map_err(EngineError::io(format!("remove {name}")))?;
        state.records.remove(name);
        state.active.remove(name);
        drop(state);
        if let Err(e) = std::fs::remove_dir_all(&trash) {
            tracing::warn!(volume = %name, error = %e, "deleting a removed volume's files");
        }
        Ok(Some(v))
    }

    /// Mounts the volume for a container that starts, if it is one with
    /// a filesystem of its own (mounted for the first such container);
    /// returns its data directory.
    pub fn mount(&self, name: &str, container: &str) -> Result<PathBuf> {
        let mut state = self.state();
        let v = state
            .records
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("get {name}: no such volume")))?;
        let dir = self.data_dir(name);
        if !local::needs_mount(&v.options) {
            return Ok(dir);
        }
        let users = state.active.entry(name.to_string()).or_default();
        if users.is_empty() {
            if let Err(e) = local::mount(&v.options, &dir) {
                state.active.remove(name);
                return Err(EngineError::InvalidParameter(format!(
                    "error while mounting volume '{}': {e}",
                    dir.display()
                )));
            }
        }
        users.insert(container.to_string());
        Ok(dir)
    }

    /// Notes, at the daemon's start, that a running container has the
    /// volume mounted.
    pub fn adopt_mount(&self, name: &str, container: &str) {
        let mut state = self.state();
        let mounted = state
            .records
            .get(name)
            .is_some_and(|v| local::needs_mount(&v.options));
        if mounted {
            state
                .active
                .entry(name.to_string())
                .or_default()
                .insert(container.to_string());
        }
    }

    /// The container stopped: the volume's filesystem is unmounted when
    /// no running container uses it.
    pub fn unmount(&self, name: &str, container: &str) {
        let mut state = self.state();
        let Some(users) = state.active.get_mut(name) else {
            return;
        };
        users.remove(container);
        if users.is_empty() {
            state.active.remove(name);
            local::unmount(&self.data_dir(name));
        }
    }

    /// Unmounts what no running container uses (what a crash left
    /// mounted), after the daemon's start has adopted the rest.
    pub fn sweep_mounts(&self) {
        let state = self.state();
        for v in state.records.values() {
            if local::needs_mount(&v.options) && !state.active.contains_key(&v.name) {
                local::unmount(&self.data_dir(&v.name));
            }
        }
    }

    /// The bytes a volume's data takes (0 for one with its own
    /// filesystem, as Docker counts them).
    pub fn size(&self, v: &Volume) -> u64 {
        match local::needs_mount(&v.options) {
            true => 0,
            false => crate::image::tree_size(&self.data_dir(&v.name)),
        }
    }
}

#[cfg(test)]
mod tests;
