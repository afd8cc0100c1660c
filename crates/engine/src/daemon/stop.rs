//! `docker stop`: the stop signal, then SIGKILL after a grace period.

use std::time::{Duration, Instant};

use super::kill::parse_signal;
use super::{Daemon, Entry};
use crate::container::Verb;
use crate::error::Result;

impl Daemon {
    /// Sends the stop signal (`signal`, else the container's, else
    /// SIGTERM), then SIGKILL after `timeout` seconds (else the
    /// container's, else 10; negative: wait for ever); returns once the
    /// container has stopped. A paused container is resumed by the kill.
    pub fn stop(&self, name: &str, timeout: Option<i64>, signal: Option<&str>) -> Result<()> {
        let entry = self.get(name)?;
        let (id, sig, timeout) = {
            let c = entry.lock();
            c.check(Verb::Stop)?;
            let sig = signal
                .map(String::from)
                .or(c.config.stop_signal.clone())
                .unwrap_or_else(|| "TERM".into());
            let timeout = timeout.or(c.config.stop_timeout).unwrap_or(10);
            (c.id.clone(), parse_signal(&sig)?, timeout)
        };
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

    /// Waits until the container no longer runs, at most `limit`; says
    /// whether it stopped.
    pub(super) fn wait_stopped(&self, entry: &Entry, limit: Option<Duration>) -> bool {
        let deadline = limit.map(|l| Instant::now() + l);
        let mut c = entry.lock();
        while c.state.running {
            match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    c = c.wait(&entry.changed, Some(d - now));
                }
                None => c = c.wait(&entry.changed, None),
            }
        }
        true
    }
}
