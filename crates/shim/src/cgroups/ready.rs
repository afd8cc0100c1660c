//! Cgroups a spare shim makes ahead of its request, so that the first
//! process of its container is born in them.
//!
//! On a cgroups-v1 host a container's cgroups are a directory in each
//! controller's hierarchy (its cpuset one given cpus and memory nodes), and
//! its first process waits while the shim makes them and moves it in: about
//! 0.8 ms of every create. A spare shim (see `vessel_runtime::launch`)
//! does the slow part while it waits for its request: it makes placeholder
//! cgroups (`<parent>/spare-<pid>`) and moves itself into them. At the
//! create, the first process it forks starts inside them; the shim renames
//! them to the container's (a v1 cgroup can be renamed within its parent,
//! and its processes stay in it), writes the limits, lets the process go
//! on, and moves itself back to its own cgroups.
//!
//! Except where what the shim uses would stay on the container's account:
//! the memory and cpuacct hierarchies, whose placeholders the first
//! process joins itself as soon as it is forked, while the shim renames.
//!
//! Placeholders are removed when a spare goes unused; those of a spare that
//! was killed are removed by the next spare.

use std::path::{Path, PathBuf};

use super::v1::{CgroupError, Layout};
use super::CgroupEntry;

/// Placeholder cgroups, with this process inside those that do not
/// account for it.
#[derive(Debug)]
pub struct ReadyCgroups {
    /// Where they are in each hierarchy (`<parent>/spare-<pid>`).
    path: String,
    parent: PathBuf,
    /// One in each v1 hierarchy.
    layout: Layout,
    /// This process's own cgroups, to go back to; `None` once back.
    home: Option<CgroupEntry>,
    /// Whether they became a container's (and are removed with it).
    adopted: bool,
}

const PREFIX: &str = "spare-";

/// The controllers whose accounting of the shim would outlive its stay
/// (charged memory, CPU time used): the shim waits outside those.
const ACCOUNTING: &[&str] = &["memory", "cpuacct"];

impl ReadyCgroups {
    /// Makes placeholder cgroups under `parent` (a cgroups path, such as
    /// `/vessel`) in every v1 hierarchy and moves this process into those
    /// that do not account for it.
    pub fn new(parent: &str) -> Result<ReadyCgroups, CgroupError> {
        let mounts = super::mounts();
        let Some(first) = mounts.iter().find(|h| !h.controllers.is_empty()) else {
            return Err(CgroupError::NoV1);
        };
        sweep(&first.point, parent);
        let own =
            std::fs::read_to_string("/proc/self/cgroup").map_err(|source| CgroupError::Io {
                what: "reading",
                path: "/proc/self/cgroup".into(),
                source,
            })?;
        let mut home_dirs = Vec::new();
        for h in waited_in() {
            let dir = own_cgroup(&own, &h.controllers)
                .ok_or_else(|| CgroupError::NoHome(h.controllers.join(",")))?;
            home_dirs.push(h.point.join(dir.trim_start_matches('/')));
        }
        let home = CgroupEntry::open(&home_dirs).map_err(|source| CgroupError::Io {
            what: "opening",
            path: home_dirs.first().cloned().unwrap_or_default(),
            source,
        })?;
        let path = format!(
            "{}/{PREFIX}{}",
            parent.trim_end_matches('/'),
            std::process::id()
        );
        let layout = match Layout::create(mounts, Path::new(&path)) {
            Ok(layout) => layout,
            Err(e) => {
                crate::cleanup::remove_cgroups(super::hierarchies(), &path);
                return Err(e);
            }
        };
        let ready = ReadyCgroups {
            path,
            parent: PathBuf::from(parent),
            layout,
            home: Some(home),
            adopted: false,
        };
        // Dropped on failure: back home, and the placeholders removed.
        let waited_in = ready.placeholders(false);
        let entry = CgroupEntry::open(&waited_in).map_err(|source| CgroupError::Io {
            what: "opening",
            path: waited_in.first().cloned().unwrap_or_default(),
            source,
        })?;
        entry.join()?;
        Ok(ready)
    }

    /// Whether these can become the cgroups at `cgroups_path`: the same
    /// parent, and no such cgroup yet in any hierarchy.
    pub fn fits(&self, cgroups_path: &Path) -> bool {
        cgroups_path.parent() == Some(self.parent.as_path())
            && cgroups_path
                .file_name()
                .is_some_and(|name| !self.layout.dirs().any(|d| d.with_file_name(name).exists()))
    }

    /// The placeholders the first process joins itself (it is born in the
    /// others), to be opened before it is forked.
    pub(crate) fn first_joins(&self) -> std::io::Result<CgroupEntry> {
        CgroupEntry::open(&self.placeholders(true))
    }

    /// The placeholders in the hierarchies that account (or do not).
    fn placeholders(&self, accounting: bool) -> Vec<PathBuf> {
        self.layout
            .dirs_with(ACCOUNTING, accounting)
            .map(Path::to_path_buf)
            .collect()
    }

    /// Renames them to `cgroups_path` (which [`ReadyCgroups::fits`]); the
    /// processes in them stay. This process stays too, until
    /// [`ReadyCgroups::leave`].
    pub fn adopt(&mut self, cgroups_path: &Path) -> Result<&Layout, CgroupError> {
        let name = cgroups_path
            .file_name()
            .ok_or_else(|| CgroupError::NoName(cgroups_path.to_path_buf()))?;
        // Directories already renamed go with the container's if the rest
        // fail; those left are removed with the placeholders.
        self.layout.rename(name)?;
        self.adopted = true;
        Ok(&self.layout)
    }

    /// Moves this process back to its own cgroups (or, should one be gone,
    /// to its hierarchy's root).
    pub fn leave(&mut self) {
        let Some(home) = self.home.take() else { return };
        if let Err(e) = home.join() {
            tracing::warn!(error = %crate::error::chain(&e), "going back to the shim's own cgroups; going to the roots");
            for h in waited_in() {
                let _ = std::fs::write(h.point.join("cgroup.procs"), "0");
            }
        }
    }
}

impl Drop for ReadyCgroups {
    fn drop(&mut self) {
        self.leave();
        if !self.adopted {
            crate::cleanup::remove_cgroups(super::hierarchies(), &self.path);
        }
    }
}

/// The v1 hierarchies a spare waits in: all but those that account (see
/// [`ACCOUNTING`]).
fn waited_in() -> impl Iterator<Item = &'static super::Hierarchy> {
    super::mounts().iter().filter(|h| {
        !h.controllers.is_empty()
            && !h
                .controllers
                .iter()
                .any(|c| ACCOUNTING.contains(&c.as_str()))
    })
}

/// This process's cgroup in the hierarchy of `controllers`, from the
/// contents of /proc/self/cgroup (`id:controllers:path` lines).
fn own_cgroup<'a>(proc_cgroup: &'a str, controllers: &[String]) -> Option<&'a str> {
    proc_cgroup.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, listed, path) = (fields.next()?, fields.next()?, fields.next()?);
        let listed: Vec<&str> = listed.split(',').collect();
        controllers
            .iter()
            .all(|c| listed.contains(&c.as_str()))
            .then_some(path)
    })
}

/// Removes placeholders under `parent` whose spare is gone (killed while
/// it waited), as listed in the hierarchy mounted at `point`.
fn sweep(point: &Path, parent: &str) {
    let Ok(entries) = std::fs::read_dir(point.join(parent.trim_start_matches('/'))) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let path = format!("{}/{PREFIX}{pid}", parent.trim_end_matches('/'));
            crate::cleanup::remove_cgroups(super::hierarchies(), &path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_finds_its_own_cgroup_in_each_hierarchy() {
        let own = "\
12:pids:/user.slice/user-0.slice
5:cpu,cpuacct:/system.slice/vesseld.service
1:name=systemd:/system.slice/vesseld.service
0::/system.slice/vesseld.service";
        let cpu = ["cpuacct".to_string(), "cpu".to_string()];
        assert_eq!(own_cgroup(own, &cpu), Some("/system.slice/vesseld.service"));
        assert_eq!(
            own_cgroup(own, &["pids".to_string()]),
            Some("/user.slice/user-0.slice")
        );
        assert_eq!(own_cgroup(own, &["memory".to_string()]), None);
    }
}
