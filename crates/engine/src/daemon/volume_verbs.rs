//! `docker volume`: create, remove and prune, with their events. (Lists
//! and inspects read the store directly.)

use super::Daemon;
use crate::error::Result;
use crate::volume::{CreateRequest, Volume};

impl Daemon {
    /// `docker volume create`: the volume, made now or found.
    pub fn volume_create(&self, req: &CreateRequest) -> Result<Volume> {
        let (v, made) = self.volumes.create(req, None)?;
        if made {
            self.volume_event(&v.name, "create", &[("driver", v.driver.clone())]);
        }
        Ok(v)
    }

    /// `docker volume rm`: refused while a container uses it; with
    /// `force`, a missing volume is no error.
    pub fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        if let Some(v) = self.volumes.remove(name, force)? {
            self.volume_event(&v.name, "destroy", &[("driver", v.driver)]);
        }
        Ok(())
    }

    /// Whether no container uses the volume.
    pub fn volume_dangling(&self, name: &str) -> bool {
        self.volumes.refs(name).is_empty()
    }

    /// `docker volume prune`: removes the volumes no container uses that
    /// `wanted` takes, but none with a filesystem of its own (Docker
    /// reclaims no space there), and only anonymous ones unless `all`;
    /// answers their names and the bytes they held.
    pub fn volume_prune(&self, all: bool, wanted: impl Fn(&Volume) -> bool) -> (Vec<String>, u64) {
        let mut removed = Vec::new();
        let mut reclaimed = 0;
        for v in self.volumes.list() {
            let candidate = (all || v.anonymous()) && v.options.is_empty() && wanted(&v);
            if !candidate || !self.volume_dangling(&v.name) {
                continue;
            }
            let size = self.volumes.size(&v);
            match self.volumes.remove(&v.name, false) {
                Ok(_) => {
                    self.volume_event(&v.name, "destroy", &[("driver", v.driver.clone())]);
                    removed.push(v.name);
                    reclaimed += size;
                }
                Err(e) => tracing::info!(volume = %v.name, error = %e, "left by a prune"),
            }
        }
        self.volume_event("", "prune", &[("reclaimed", reclaimed.to_string())]);
        (removed, reclaimed)
    }
}
