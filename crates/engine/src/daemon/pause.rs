//! `docker pause` and `docker unpause`: the container's cgroups frozen
//! and thawed (and its health checks with them).

use super::Daemon;
use crate::container::Verb;
use crate::error::Result;

impl Daemon {
    pub fn pause(&self, name: &str) -> Result<()> {
        let entry = self.get(name)?;
        let mut c = entry.lock();
        c.check(Verb::Pause)?;
        self.runtime.pause(&c.id)?;
        self.stop_health(&entry);
        c.state.set_paused(true);
        self.save(&c)?;
        self.event(&c, "pause", &[]);
        Ok(())
    }

    pub fn unpause(&self, name: &str) -> Result<()> {
        let entry = self.get(name)?;
        let mut c = entry.lock();
        c.check(Verb::Unpause)?;
        self.runtime.resume(&c.id)?;
        c.state.set_paused(false);
        self.save(&c)?;
        self.start_health(&entry, &mut c, true);
        self.event(&c, "unpause", &[]);
        Ok(())
    }
}
