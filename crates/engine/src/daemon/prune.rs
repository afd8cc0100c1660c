//! `docker image prune`, `docker container prune` and the images' and
//! containers' part of `docker system df`.

use std::collections::{HashMap, HashSet};

use super::Daemon;
use crate::error::{EngineError, Result};
use crate::image::Image;

/// What a prune removed: the `Untagged`/`Deleted` records, and the bytes
/// of layers it freed.
#[derive(Debug, Default)]
pub struct Pruned {
    pub removed: Vec<(String, String)>,
    pub reclaimed: u64,
}

/// An image as `system df` counts it.
#[derive(Debug)]
pub struct ImageUsage {
    pub image: Image,
    pub tags: Vec<String>,
    pub digests: Vec<String>,
    /// Bytes of its layers that other images have too.
    pub shared: u64,
    pub containers: usize,
}

impl Daemon {
    /// Removes the images no container uses: untagged ones only, or
    /// every one with `all` (Docker's `-a`).
    pub fn prune_images(&self, all: bool) -> Result<Pruned> {
        let used: HashSet<String> = self
            .read_all(true, |r| Some(r.container.image.clone()))
            .into_iter()
            .collect();
        let sizes: HashMap<String, u64> = self
            .images
            .list()?
            .iter()
            .flat_map(|(i, _)| i.layers.clone())
            .map(|l| {
                let size = self.images.layer_size(&l);
                (l, size)
            })
            .collect();
        let mut pruned = Pruned::default();
        for (image, tags) in self.images.list()? {
            if used.contains(&image.id) || (!all && !tags.is_empty()) {
                continue;
            }
            // By id, forced: every tag goes with it.
            match self.remove_image(&image.id, true) {
                Ok(done) => pruned.removed.extend(done),
                Err(EngineError::Conflict(_) | EngineError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        pruned.reclaimed = sizes
            .iter()
            .filter(|(l, _)| !self.images.has_layer(l))
            .map(|(_, s)| s)
            .sum();
        let attrs = std::collections::BTreeMap::from([(
            "reclaimed".to_string(),
            pruned.reclaimed.to_string(),
        )]);
        self.events.log("image", "prune", "", attrs);
        Ok(pruned)
    }

    /// Every image with what `system df` says of it.
    pub fn image_usage(&self) -> Result<(Vec<ImageUsage>, u64)> {
        let used = self.read_all(true, |r| Some(r.container.image.clone()));
        let list = self.images.list()?;
        let mut users: HashMap<&str, usize> = HashMap::new();
        for (image, _) in &list {
            for l in &image.layers {
                *users.entry(l.as_str()).or_default() += 1;
            }
        }
        let mut out = Vec::new();
        let mut all_layers = HashSet::new();
        for (image, tags) in &list {
            let shared = image
                .layers
                .iter()
                .filter(|l| users.get(l.as_str()).copied().unwrap_or(0) > 1)
                .map(|l| self.images.layer_size(l))
                .sum();
            all_layers.extend(image.layers.iter().cloned());
            out.push(ImageUsage {
                digests: self.images.digests_of(&image.id)?,
                containers: used.iter().filter(|i| **i == image.id).count(),
                image: image.clone(),
                tags: tags.clone(),
                shared,
            });
        }
        let total = all_layers.iter().map(|l| self.images.layer_size(l)).sum();
        Ok((out, total))
    }
}

/// A container as `system df` lists it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerUsage {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub created: i64,
    pub state: &'static str,
    pub status: String,
    /// Its writable layer's size.
    pub size_rw: u64,
    /// That and its image's.
    pub size_root_fs: u64,
    pub labels: HashMap<String, String>,
    pub mounts: Vec<String>,
}

impl Daemon {
    /// Every container as `system df` lists it.
    pub fn container_usage(&self) -> Vec<ContainerUsage> {
        let mut rows = self.read_all(true, |r| {
            let c = r.container;
            let created =
                chrono::DateTime::parse_from_rfc3339(&c.created).map_or(0, |t| t.timestamp());
            Some(ContainerUsage {
                id: c.id.clone(),
                names: vec![c.name.clone()],
                image: c.config.image.clone().unwrap_or_default(),
                image_id: c.image.clone(),
                created,
                state: c.state.status.as_str(),
                status: c.state.describe(chrono::Utc::now()),
                size_rw: 0,
                size_root_fs: 0,
                labels: c.config.labels.clone().unwrap_or_default(),
                mounts: Vec::new(),
            })
        });
        // Sizes are measured outside the records' locks.
        for row in &mut rows {
            (row.size_rw, row.size_root_fs) = self.container_sizes(&row.id, &row.image_id);
        }
        rows
    }

    /// Container `id`'s bytes on disk: its writable layer's, and that
    /// plus its image's (`image`).
    pub fn container_sizes(&self, id: &str, image: &str) -> (u64, u64) {
        let rw = crate::image::tree_size(&self.writable_layer(id).join("upper"));
        let base = self.images.resolve(image).map_or(0, |i| i.size);
        (rw, rw + base)
    }

    /// `docker container prune`: removes every stopped container `wanted`
    /// takes; answers their ids and the bytes their writable layers held.
    /// One that cannot be removed (it started meanwhile) is left.
    pub fn prune_containers(
        &self,
        wanted: impl Fn(&crate::container::Container) -> bool,
    ) -> (Vec<String>, u64) {
        let stopped = self.read_all(true, |r| {
            let c = r.container;
            let idle = !c.state.running && !c.state.removal_in_progress;
            (idle && wanted(c)).then(|| c.id.clone())
        });
        let mut removed = Vec::new();
        let mut reclaimed = 0;
        for id in stopped {
            let size = crate::image::tree_size(&self.writable_layer(&id).join("upper"));
            match self.remove(&id, false, false) {
                Ok(()) => {
                    removed.push(id);
                    reclaimed += size;
                }
                Err(e) => tracing::info!(container = %id, error = %e, "left by a prune"),
            }
        }
        let attrs = [("reclaimed".to_string(), reclaimed.to_string())].into();
        self.events.log("container", "prune", "", attrs);
        (removed, reclaimed)
    }
}
