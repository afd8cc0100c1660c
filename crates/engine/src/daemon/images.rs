//! The engine's image verbs: import, tag and remove, with their events.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use super::{Daemon, Entry};
use crate::error::{EngineError, Result};
use crate::image::{normalize_reference, ImageConfig, ImageUsers, Loaded, ToSave};

impl Daemon {
    /// The containers that use image `id`: a running one (paused and
    /// restarting count as running, as for Docker) and a stopped one.
    pub fn image_users(&self, id: &str) -> ImageUsers {
        let entries: Vec<Arc<Entry>> = self.table().values().cloned().collect();
        let mut users = ImageUsers::default();
        for e in entries {
            let c = e.lock();
            if c.image != id {
                continue;
            }
            let slot = if c.state.running {
                &mut users.running
            } else {
                &mut users.stopped
            };
            slot.get_or_insert_with(|| c.id.clone());
        }
        users
    }

    /// `docker import`.
    pub fn import(
        &self,
        body: impl Read,
        reference: Option<&str>,
        config: ImageConfig,
        comment: &str,
    ) -> Result<String> {
        let image = self.images.import(body, reference, config, comment)?;
        let mut attrs = BTreeMap::new();
        if let Some(r) = reference {
            attrs.insert("name".to_string(), r.to_string());
        }
        self.events.log("image", "import", &image.id, attrs);
        Ok(image.id)
    }

    /// `docker tag`: points `repo:tag` (tag `latest` when none) at the
    /// image `name` resolves to; a tag that named another image moves.
    pub fn tag_image(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<()> {
        let image = self.images.resolve(name)?;
        let wanted = match tag.filter(|t| !t.is_empty()) {
            Some(tag) => format!("{repo}:{tag}"),
            None => repo.to_string(),
        };
        if wanted.contains('@') {
            return Err(EngineError::InvalidParameter(format!(
                "refusing to create a tag with a digest reference: {wanted}"
            )));
        }
        let reference = normalize_reference(&wanted)?;
        self.images.tag(&reference, &image.id)?;
        let attrs = BTreeMap::from([("name".to_string(), reference)]);
        self.events.log("image", "tag", &image.id, attrs);
        Ok(())
    }

    /// `docker rmi`.
    pub fn remove_image(&self, name: &str, force: bool) -> Result<Vec<(String, String)>> {
        let done = self.images.remove(name, force, |id| self.image_users(id))?;
        for (what, which) in &done {
            let action = if what == "Deleted" { "delete" } else { "untag" };
            self.events.log("image", action, which, BTreeMap::new());
        }
        Ok(done)
    }
}

impl Daemon {
    /// `docker save NAME...`: the images `names` resolve to, each under
    /// the tags it was named by (an image named by id carries none).
    pub fn images_to_save(&self, names: &[String]) -> Result<Vec<ToSave>> {
        let mut out: Vec<ToSave> = Vec::new();
        for name in names {
            let image = self.images.resolve(name)?;
            let tag = normalize_reference(name)
                .ok()
                .filter(|r| self.images.tags_of(&image.id).is_ok_and(|t| t.contains(r)));
            match out.iter_mut().find(|s| s.image.id == image.id) {
                Some(s) => s.tags.extend(tag.filter(|t| !s.tags.contains(t))),
                None => out.push(ToSave {
                    image,
                    tags: tag.into_iter().collect(),
                }),
            }
        }
        for s in &out {
            self.events
                .log("image", "save", &s.image.id, BTreeMap::new());
        }
        Ok(out)
    }

    /// `docker load`: the images of an archive, with a `load` event each.
    pub fn load_images(&self, archive: impl Read) -> Result<Vec<Loaded>> {
        let loaded = self.images.load_archive(archive)?;
        for l in &loaded {
            self.events.log("image", "load", &l.id, BTreeMap::new());
        }
        Ok(loaded)
    }
}
