//! `docker rename`.

use super::names::valid_name;
use super::Daemon;
use crate::error::{EngineError, Result};

impl Daemon {
    /// `docker rename`.
    pub fn rename(&self, name: &str, new_name: &str) -> Result<()> {
        let wanted = new_name.trim_start_matches('/');
        if wanted.is_empty() {
            return Err(EngineError::InvalidParameter(
                "rename: the new name may not be empty".into(),
            ));
        }
        if !valid_name(wanted) {
            return Err(EngineError::InvalidParameter(format!(
                "Invalid container name ({wanted}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        let wanted = format!("/{wanted}");
        let entry = self.get(name)?;
        // The name is claimed under the table's lock (as create checks
        // names), without waiting for the record, which a start may hold.
        let old = {
            let table = self.table();
            let current = entry.name().clone();
            if current == wanted {
                return Err(EngineError::InvalidParameter(format!(
                    "rename: {wanted} is already the container's name"
                )));
            }
            if let Some((other, _)) = table.iter().find(|(_, e)| *e.name() == wanted) {
                return Err(EngineError::Conflict(format!(
                    "Conflict. The container name \"{wanted}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
                )));
            }
            *entry.name() = wanted.clone();
            current
        };
        let mut c = entry.lock();
        c.name = wanted.clone();
        // Its DNS names on user-defined networks follow.
        let id = c.id.clone();
        let (from, to) = (old.trim_start_matches('/'), wanted.trim_start_matches('/'));
        self.networks
            .renamed(&id, from, to, &mut c.network_settings);
        if let Err(e) = self.save(&c) {
            c.name = old.clone();
            *entry.name() = old;
            return Err(e);
        }
        self.event(&c, "rename", &[("oldName", old)]);
        Ok(())
    }
}
