//! `docker kill`: a signal to the container's first process.

use super::Daemon;
use crate::container::Verb;
use crate::error::{EngineError, Result};
use vessel_runtime::protocol::INIT;

/// How long a SIGKILL waits for the container to stop, Docker's.
const KILL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Daemon {
    /// Sends `signal` (default SIGKILL). A frozen process only gets its
    /// signal once thawed: as Docker does, a paused container is resumed
    /// after a SIGKILL, or after its stop signal (any signal, when it has
    /// none of its own). A SIGKILL is answered once the container has
    /// stopped (within 10 s, as Docker's `Kill`): whoever looks next sees
    /// it stopped.
    pub fn kill(&self, name: &str, signal: Option<&str>) -> Result<()> {
        let signal = parse_signal(signal.unwrap_or("KILL"))?;
        let entry = self.get(name)?;
        let mut c = entry.lock();
        c.check(Verb::Kill)?;
        // A stop signal that does not parse (a record from before create
        // checked it) counts as none.
        let stop_signal = c
            .config
            .stop_signal
            .as_deref()
            .and_then(|s| parse_signal(s).ok());
        let ends_it = signal == libc::SIGKILL || stop_signal.is_none_or(|s| s == signal);
        // As Docker's: any signal counts as a stop by hand (for
        // `unless-stopped`), and one that ends the container ends its
        // restart loop.
        if ends_it {
            entry.backoff().canceled = true;
        }
        if !c.has_been_manually_stopped {
            c.has_been_manually_stopped = true;
            if let Err(e) = self.save(&c) {
                tracing::warn!(container = %c.id, error = %e, "saving the record of a kill");
            }
        }
        if c.state.restarting {
            // No process to signal: the loop ends here, or goes on.
            if ends_it {
                let (code, at, oom) = (
                    c.state.exit_code,
                    c.state.finished_at.clone(),
                    c.state.oom_killed,
                );
                c.state.set_stopped(code, &at, oom);
                self.save(&c)?;
                drop(c);
                entry.changed.notify_all();
            }
            return Ok(());
        }
        self.runtime.signal(&c.id, INIT, signal)?;
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
        drop(c);
        if signal == libc::SIGKILL && !self.wait_stopped(&entry, Some(KILL_WAIT)) {
            return Err(EngineError::Internal(
                "tried to kill container, but did not receive an exit event".into(),
            ));
        }
        Ok(())
    }
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
