//! What a container uses: `top` (its processes) and `stats`.

use std::collections::HashSet;

use vessel_runtime::record::now_rfc3339;

use super::Daemon;
use crate::container::Verb;
use crate::error::{EngineError, Result};
use crate::stats::{self, Sample};

/// `docker top`'s answer: ps's column titles and the container's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

impl Daemon {
    /// `docker top`: the host's `ps` with `ps_args` (default `-ef`), kept
    /// to the container's processes.
    pub fn top(&self, name: &str, ps_args: &str) -> Result<Top> {
        let entry = self.get(name)?;
        let id = {
            let c = entry.lock();
            c.check(Verb::Top)?;
            c.id.clone()
        };
        let pids: HashSet<i32> = self.runtime.summary(&id)?.iter().map(|p| p.pid).collect();
        let args = if ps_args.trim().is_empty() {
            "-ef"
        } else {
            ps_args
        };
        let out = std::process::Command::new("ps")
            .args(args.split_whitespace())
            .output()
            .map_err(EngineError::io("running ps (is procps installed?)"))?;
        if !out.status.success() {
            return Err(EngineError::InvalidParameter(format!(
                "ps_args: ps {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let top = parse_ps(&String::from_utf8_lossy(&out.stdout), &pids, args)?;
        let c = entry.lock();
        self.event(&c, "top", &[]);
        Ok(top)
    }

    /// One reading of a container's usage: its id, name, and the reading
    /// (`None` when it does not run).
    pub fn stats(&self, name: &str) -> Result<(String, String, Option<Sample>)> {
        let entry = self.get(name)?;
        let (id, name, running, pid, networked) = {
            let c = entry.lock();
            let networked = !c.network_settings.networks.is_empty();
            (
                c.id.clone(),
                c.name.clone(),
                c.state.running,
                c.state.pid,
                networked,
            )
        };
        if !running {
            return Ok((id, name, None));
        }
        let raw = match self.runtime.stats(&id) {
            Ok(raw) => raw,
            // It stopped meanwhile.
            Err(_) if !entry.lock().state.running => return Ok((id, name, None)),
            Err(e) => return Err(e),
        };
        let proc_stat =
            std::fs::read_to_string("/proc/stat").map_err(EngineError::io("reading /proc/stat"))?;
        let meminfo = std::fs::read_to_string("/proc/meminfo")
            .map_err(EngineError::io("reading /proc/meminfo"))?;
        let online = proc_stat
            .lines()
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count() as u64;
        let mut sample = Sample::from_cgroup(
            &raw,
            now_rfc3339(),
            stats::system_cpu_ns(&proc_stat),
            online,
            stats::host_memory(&meminfo),
        );
        // Its interfaces' counters, as its own network namespace sees them.
        if networked {
            let dev = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
            sample.networks = Some(stats::interfaces(&dev));
        }
        Ok((id, name, Some(sample)))
    }
}

/// Keeps the rows of `ps` output whose PID is in `pids`. The last column
/// (the command) may hold spaces: what is past the other columns is
/// joined into it.
/// Errors name `ps_args` and the arguments given.
fn parse_ps(output: &str, pids: &HashSet<i32>, args: &str) -> Result<Top> {
    let bad = |why: String| EngineError::InvalidParameter(format!("ps_args: {args:?}: {why}"));
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    let pid_col = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| bad("ps printed no PID column".into()))?;
    let mut processes = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < titles.len() {
            continue;
        }
        let pid: i32 = fields[pid_col]
            .parse()
            .map_err(|_| bad(format!("ps printed {:?} as a PID", fields[pid_col])))?;
        if !pids.contains(&pid) {
            continue;
        }
        let last = titles.len() - 1;
        let mut row: Vec<String> = fields[..last].iter().map(|f| f.to_string()).collect();
        row.push(fields[last..].join(" "));
        processes.push(row);
    }
    Ok(Top { titles, processes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_containers_rows_and_whole_commands() {
        let out = "UID   PID  PPID  C STIME TTY TIME     CMD\n\
                   root    1     0  0 10:00 ?   00:00:01 /sbin/init splash\n\
                   root  420     1  0 10:01 ?   00:00:00 sleep 100\n\
                   root  421   420  0 10:01 ?   00:00:00 sh -c echo a  b\n";
        let pids = HashSet::from([420, 421]);
        let top = parse_ps(out, &pids, "-ef").unwrap();
        assert_eq!(top.titles.len(), 8);
        assert_eq!(top.processes.len(), 2);
        assert_eq!(top.processes[0][1], "420");
        assert_eq!(top.processes[0][7], "sleep 100");
        assert_eq!(top.processes[1][7], "sh -c echo a b");
    }

    #[test]
    fn output_without_pids_is_an_error() {
        let e = parse_ps("USER COMMAND\nroot init\n", &HashSet::new(), "-o user")
            .unwrap_err()
            .to_string();
        assert!(e.contains("PID") && e.contains("-o user"), "{e}");
    }
}
