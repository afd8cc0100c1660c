//! A container's mount points and its volumes, as Docker's daemon does:
//! read from the request at create (`registerMountPoints`, then the
//! config's and the image's volumes), their volumes made, referenced and
//! filled from the image; mounted at start, unmounted at exit, released
//! (and the anonymous ones removed with `rm -v`) at removal.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::Daemon;
use crate::container::mounts::{Kind, MountPoint};
use crate::container::{Config, Container, HostConfig};
use crate::error::{EngineError, Result};
use crate::volume::{parse, CreateRequest, LOCAL};

/// A mount point read from a create request, with what its volume is
/// made with if it is a new one.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub point: MountPoint,
    create: Option<CreateRequest>,
}

impl Planned {
    fn new(point: MountPoint) -> Planned {
        Planned {
            point,
            create: None,
        }
    }
}

/// The mount points in `planned` at `destination`, replaced by `p`.
fn put(planned: &mut Vec<Planned>, p: Planned) {
    planned.retain(|q| q.point.destination != p.point.destination);
    planned.push(p);
}

fn invalid(field: String) -> impl FnOnce(parse::ParseError) -> EngineError {
    move |e| EngineError::InvalidParameter(format!("{field}: {e}"))
}

fn duplicate(destination: &str) -> EngineError {
    EngineError::InvalidParameter(format!("Duplicate mount point: {destination}"))
}

impl Daemon {
    /// Reads a create's mount points, as Docker does, in its order: the
    /// `--volumes-from` containers', then `-v`, then `--mount` (each
    /// overriding what was at its destination; a destination given twice
    /// by these two is refused), then an anonymous volume for each of
    /// `Config.Volumes` (the image's included) nothing else is mounted
    /// at. Nothing is made yet.
    pub(super) fn plan_mounts(&self, config: &Config, hc: &HostConfig) -> Result<Vec<Planned>> {
        let mut planned: Vec<Planned> = Vec::new();
        let tmpfs = hc.tmpfs.clone().unwrap_or_default();
        for (i, spec) in hc.volumes_from.iter().flatten().enumerate() {
            let field = format!("HostConfig.VolumesFrom[{i}]");
            let (name, mode) = parse::volumes_from(spec).map_err(invalid(field.clone()))?;
            let other = self
                .get(name)
                .map_err(|e| EngineError::InvalidParameter(format!("{field}: {e}")))?;
            let points = other.lock().mount_points.clone();
            for mut p in points {
                p.rw = p.rw && parse::read_write(mode);
                p.copy_data = false;
                p.mode = String::new();
                put(&mut planned, Planned::new(p));
            }
        }
        let driver = hc.volume_driver.clone().filter(|d| !d.is_empty());
        let mut given = HashSet::new();
        for (i, raw) in hc.binds.iter().flatten().enumerate() {
            let mut p = parse::bind(raw).map_err(invalid(format!("HostConfig.Binds[{i}]")))?;
            let propagation = p.mode.split(',').any(|o| {
                ["private", "slave", "shared"]
                    .iter()
                    .any(|k| o.trim_start_matches('r') == *k)
            });
            self.near_daemon_root(&mut p, propagation)?;
            if given.contains(&p.destination) || tmpfs.contains_key(&p.destination) {
                return Err(duplicate(&p.destination));
            }
            if p.kind == Kind::Volume {
                p.driver = driver.clone().unwrap_or_else(|| LOCAL.into());
                if p.mode.is_empty() {
                    p.mode = "z".into();
                }
            }
            given.insert(p.destination.clone());
            put(&mut planned, Planned::new(p));
        }
        for (i, m) in hc.mounts.iter().flatten().enumerate() {
            let mut p = parse::mount(m).map_err(invalid(format!("HostConfig.Mounts[{i}]")))?;
            let propagation = m
                .bind_options
                .as_ref()
                .is_some_and(|b| b.propagation.is_some());
            self.near_daemon_root(&mut p, propagation)?;
            if given.contains(&p.destination) {
                return Err(duplicate(&p.destination));
            }
            let mut create = None;
            if p.kind == Kind::Volume {
                if p.driver.is_empty() {
                    p.driver = LOCAL.into();
                }
                p.mode = "z".into();
                let opts = m.volume_options.clone().unwrap_or_default();
                create = Some(CreateRequest {
                    name: p.named.then(|| p.name.clone()),
                    driver: Some(p.driver.clone()),
                    options: opts
                        .driver_config
                        .and_then(|d| d.options)
                        .unwrap_or_default()
                        .into_iter()
                        .collect(),
                    labels: opts.labels.unwrap_or_default().into_iter().collect(),
                });
            }
            given.insert(p.destination.clone());
            put(&mut planned, Planned { point: p, create });
        }
        let mut anonymous: Vec<&String> = config.volumes.iter().flat_map(|v| v.keys()).collect();
        anonymous.sort();
        for path in anonymous {
            if !path.starts_with('/') {
                return Err(EngineError::InvalidParameter(format!(
                    "Volumes: {path:?} is not an absolute path in the container"
                )));
            }
            let destination = parse::clean(path);
            let taken = planned.iter().any(|p| p.point.destination == destination);
            if taken || tmpfs.contains_key(&destination) {
                continue;
            }
            let mut p = parse::bind(&destination).map_err(invalid(format!("Volumes[{path:?}]")))?;
            p.driver = driver.clone().unwrap_or_else(|| LOCAL.into());
            put(&mut planned, Planned::new(p));
        }
        Ok(planned)
    }

    /// Docker's rule for a bind whose source holds the daemon's root or
    /// is inside it: a slave bind (so that the daemon's later unmounts
    /// reach the container), unless the request gave `rslave` or
    /// `rshared`; any other propagation it gave is refused.
    fn near_daemon_root(&self, p: &mut MountPoint, given: bool) -> Result<()> {
        let root = self.paths.root.display().to_string();
        let near =
            p.kind == Kind::Bind && (p.source.starts_with(&root) || root.starts_with(&p.source));
        if !near {
            return Ok(());
        }
        match (given, p.propagation.as_str()) {
            (false, _) => p.propagation = "rslave".into(),
            (true, "rslave" | "rshared") => {}
            (true, other) => {
                return Err(EngineError::InvalidParameter(format!(
                    "invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" when mount source is within the daemon root, daemon root: {root:?}, bind mount source: {:?}, propagation: {other:?}",
                    p.source
                )))
            }
        }
        Ok(())
    }

    /// Makes (or finds) the planned mount points' volumes, references them
    /// for container `id`, and fills each new one that asks for it from
    /// the image (`layers`, top first) as Docker does at create. On an
    /// error, what this call made and referenced goes.
    pub(super) fn claim_volumes(
        &self,
        id: &str,
        planned: Vec<Planned>,
        layers: &[PathBuf],
    ) -> Result<Vec<MountPoint>> {
        let mut points = Vec::new();
        let mut made = Vec::new();
        let result = (|| {
            for p in planned {
                let mut point = p.point;
                if point.kind == Kind::Volume {
                    let req = p.create.unwrap_or_else(|| CreateRequest {
                        name: Some(point.name.clone()).filter(|n| !n.is_empty()),
                        driver: Some(point.driver.clone()),
                        ..Default::default()
                    });
                    let (v, new) = self.volumes.create(&req, Some(id))?;
                    point.name = v.name.clone();
                    point.driver = v.driver.clone();
                    point.source = self.volumes.data_dir(&v.name).display().to_string();
                    if new {
                        self.volume_event(&v.name, "create", &[("driver", v.driver.clone())]);
                        made.push(v.name);
                    }
                }
                points.push(point);
            }
            self.fill_volumes(&points, layers)
        })();
        if let Err(e) = result {
            for p in points.iter().filter(|p| p.kind == Kind::Volume) {
                self.volumes.release(&p.name, id);
            }
            for name in made {
                if let Ok(Some(_)) = self.volumes.remove(&name, true) {
                    self.volume_event(&name, "destroy", &[("driver", LOCAL.into())]);
                }
            }
            return Err(e);
        }
        Ok(points)
    }

    /// Copies the image's content at each volume's destination into it
    /// when it asks for that and is empty (Docker's `populateVolumes`).
    /// An anonymous volume over a file in the image is refused.
    fn fill_volumes(&self, points: &[MountPoint], layers: &[PathBuf]) -> Result<()> {
        let wanted: Vec<&MountPoint> = points
            .iter()
            .filter(|p| p.kind == Kind::Volume && (p.copy_data || !p.named))
            .collect();
        if wanted.is_empty() || layers.is_empty() {
            return Ok(());
        }
        let view = ImageView::mount(&self.paths.tmp(), layers)?;
        for p in wanted {
            use rustix::fs::{Mode, OFlags};
            let dest = Path::new(&p.destination);
            let found =
                vessel_runtime::in_root::openat2(&view.root, dest, OFlags::PATH, Mode::empty());
            let Ok(fd) = found else { continue };
            let stat = rustix::fs::fstat(&fd)
                .map_err(|e| EngineError::io("reading the image")(e.into()))?;
            let is_dir = rustix::fs::FileType::from_raw_mode(stat.st_mode)
                == rustix::fs::FileType::Directory;
            if !is_dir {
                if !p.named {
                    return Err(EngineError::InvalidParameter(format!(
                        "cannot mount volume over existing file, file exists {}",
                        p.destination
                    )));
                }
                continue;
            }
            if !p.copy_data {
                continue;
            }
            let src = PathBuf::from(format!(
                "/proc/self/fd/{}",
                std::os::fd::AsRawFd::as_raw_fd(&fd)
            ));
            crate::volume::copy::fill(&src, Path::new(&p.source)).map_err(EngineError::io(
                format!("filling the volume {} from the image", p.name),
            ))?;
        }
        Ok(())
    }

    /// At start: mounts the container's volumes that have a filesystem of
    /// their own, reporting "mount" for each volume (as Docker does).
    pub(super) fn mount_volumes(&self, c: &Container) -> Result<()> {
        let mut done: Vec<&str> = Vec::new();
        for p in c.mount_points.iter().filter(|p| p.kind == Kind::Volume) {
            if let Err(e) = self.volumes.mount(&p.name, &c.id) {
                for name in done {
                    self.volumes.unmount(name, &c.id);
                }
                return Err(e);
            }
            done.push(&p.name);
            let attrs = [
                ("driver", p.driver.clone()),
                ("container", c.id.clone()),
                ("destination", p.destination.clone()),
                ("read/write", p.rw.to_string()),
                ("propagation", p.propagation.clone()),
            ];
            self.volume_event(&p.name, "mount", &attrs);
        }
        Ok(())
    }

    /// At an exit or a failed start: the volumes are unmounted for it.
    pub(super) fn unmount_volumes(&self, c: &Container) {
        for p in c.mount_points.iter().filter(|p| p.kind == Kind::Volume) {
            self.volumes.unmount(&p.name, &c.id);
            let attrs = [("driver", p.driver.clone()), ("container", c.id.clone())];
            self.volume_event(&p.name, "unmount", &attrs);
        }
    }

    /// At removal: the container's volumes are released; with `remove`
    /// (`rm -v`, `--rm`) its anonymous ones go unless another uses them.
    pub(super) fn release_volumes(&self, c: &Container, remove: bool) {
        for p in c.mount_points.iter().filter(|p| p.kind == Kind::Volume) {
            self.volumes.release(&p.name, &c.id);
            if !remove || p.named {
                continue;
            }
            match self.volumes.remove(&p.name, true) {
                Ok(Some(v)) => self.volume_event(&v.name, "destroy", &[("driver", v.driver)]),
                Ok(None) | Err(EngineError::Conflict(_)) => {}
                Err(e) => {
                    tracing::warn!(volume = %p.name, error = %e, "removing an anonymous volume")
                }
            }
        }
    }

    pub(super) fn volume_event(&self, name: &str, action: &str, attrs: &[(&str, String)]) {
        let attrs: BTreeMap<String, String> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.events.log("volume", action, name, attrs);
    }
}

/// The image's layers as one read-only tree, mounted in the scratch
/// space for as long as this lives.
struct ImageView {
    dir: PathBuf,
    root: std::os::fd::OwnedFd,
}

impl ImageView {
    fn mount(tmp: &Path, layers: &[PathBuf]) -> Result<ImageView> {
        let dir = tmp.join(format!(
            "volume-fill-{}",
            crate::daemon::names::random_id()?
        ));
        std::fs::create_dir_all(&dir).map_err(EngineError::io("making the image's view"))?;
        let lower: Vec<String> = layers.iter().map(|l| l.display().to_string()).collect();
        // One layer is the tree itself; overlayfs wants two without an
        // upper layer.
        let (source, typ, flags, data) = match lower.as_slice() {
            [one] => (one.clone(), None, nix::mount::MsFlags::MS_BIND, None),
            _ => (
                "overlay".to_string(),
                Some("overlay"),
                nix::mount::MsFlags::MS_RDONLY,
                Some(format!("lowerdir={}", lower.join(":"))),
            ),
        };
        if let Err(e) = nix::mount::mount(Some(source.as_str()), &dir, typ, flags, data.as_deref())
        {
            let _ = std::fs::remove_dir(&dir);
            return Err(EngineError::io("mounting the image's view")(e.into()));
        }
        match std::fs::File::open(&dir) {
            Ok(f) => Ok(ImageView {
                dir,
                root: f.into(),
            }),
            Err(e) => {
                let _ = nix::mount::umount2(&dir, nix::mount::MntFlags::MNT_DETACH);
                let _ = std::fs::remove_dir(&dir);
                Err(EngineError::io("opening the image's view")(e))
            }
        }
    }
}

impl Drop for ImageView {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.dir, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir(&self.dir);
    }
}
