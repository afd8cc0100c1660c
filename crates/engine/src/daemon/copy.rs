//! `docker cp`'s side in the daemon (the archive API): a path's stat, a
//! tar of a path, a tar extracted into a directory, through the archive
//! helper (see [`crate::archive`]).

use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::ChildStdout;

use super::names::random_id;
use super::Daemon;
use crate::archive::{Helper, Op, PathStat, Request, Target};
use crate::container::mounts::Kind;
use crate::error::{EngineError, Result};

/// A scratch directory the helper of a stopped container mounts its
/// files on (in its own mount namespace); removed when done.
#[derive(Debug)]
struct Scratch(Option<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A tar of a container's path being written by its helper.
#[derive(Debug)]
pub struct ArchiveOut {
    pub stat: PathStat,
    pub tar: BufReader<ChildStdout>,
    helper: Helper,
    _scratch: Scratch,
}

impl ArchiveOut {
    /// Waits for the helper once the tar was read.
    pub fn finish(self) -> Result<()> {
        self.helper.finish()
    }
}

impl Daemon {
    /// Where the helper finds container `name`'s files, its id and name,
    /// and whether its root is read-only (for a put outside its mounts).
    fn copy_target(&self, name: &str, dest: Option<&str>) -> Result<(Target, Scratch, String)> {
        let entry = self.get(name)?;
        let c = entry.lock();
        if let Some(dest) = dest {
            let in_mount = c.mount_points.iter().any(|p| {
                p.rw && p.kind != Kind::Tmpfs
                    && std::path::Path::new(dest).starts_with(&p.destination)
            });
            if c.host_config.readonly_rootfs.unwrap_or(false) && !in_mount {
                return Err(EngineError::InvalidParameter(
                    "container rootfs is marked read-only".into(),
                ));
            }
        }
        if c.state.running && !c.state.restarting && c.state.pid > 0 {
            return Ok((
                Target::Running { pid: c.state.pid },
                Scratch(None),
                c.id.clone(),
            ));
        }
        let image = self.images.resolve(&c.image)?;
        let layers = image
            .layers
            .iter()
            .rev()
            .map(|l| self.images.layer_dir(l))
            .collect();
        let writable = self.writable_layer(&c.id);
        let (upper, work) = (writable.join("upper"), writable.join("work"));
        for d in [&upper, &work] {
            std::fs::create_dir_all(d).map_err(EngineError::io("making the writable layer"))?;
        }
        let mounts = c
            .mount_points
            .iter()
            .filter(|p| p.kind != Kind::Tmpfs && std::path::Path::new(&p.source).exists())
            .map(|p| (PathBuf::from(&p.source), p.destination.clone(), p.rw))
            .collect();
        let scratch = self.paths.tmp().join(format!("copy-{}", random_id()?));
        std::fs::create_dir_all(&scratch)
            .map_err(EngineError::io("making the copy's scratch directory"))?;
        let target = Target::Stopped {
            layers,
            upper,
            work,
            mounts,
            scratch: scratch.clone(),
        };
        Ok((target, Scratch(Some(scratch)), c.id.clone()))
    }

    /// Docker's error for a path the container does not have.
    fn not_found(e: EngineError, path: &str, name: &str) -> EngineError {
        match e {
            EngineError::NotFound(_) => EngineError::NotFound(format!(
                "Could not find the file {path} in container {name}"
            )),
            other => other,
        }
    }

    /// `HEAD /containers/{id}/archive`: the path's stat.
    pub fn path_stat(&self, name: &str, path: &str) -> Result<PathStat> {
        let (target, _scratch, _) = self.copy_target(name, None)?;
        let op = Op::Stat {
            path: path.to_string(),
        };
        let mut helper = Helper::start(&Request { target, op })?;
        let (stat, _) = helper.stat().map_err(|e| Self::not_found(e, path, name))?;
        helper.finish()?;
        Ok(stat)
    }

    /// `GET /containers/{id}/archive`: the path's stat and its tar.
    pub fn archive_path(&self, name: &str, path: &str) -> Result<ArchiveOut> {
        let (target, scratch, id) = self.copy_target(name, None)?;
        let op = Op::Get {
            path: path.to_string(),
        };
        let mut helper = Helper::start(&Request { target, op })?;
        let (stat, tar) = helper.stat().map_err(|e| Self::not_found(e, path, name))?;
        if let Ok(entry) = self.get(&id) {
            self.event(&entry.lock(), "archive-path", &[]);
        }
        Ok(ArchiveOut {
            stat,
            tar,
            helper,
            _scratch: scratch,
        })
    }

    /// `PUT /containers/{id}/archive`: the tar extracted into the
    /// directory at `path`.
    pub fn extract_to_dir(
        &self,
        name: &str,
        path: &str,
        no_overwrite_dir_non_dir: bool,
        copy_uid_gid: bool,
        tar: impl Read,
    ) -> Result<()> {
        let (target, _scratch, id) = self.copy_target(name, Some(path))?;
        let op = Op::Put {
            path: path.to_string(),
            no_overwrite_dir_non_dir,
            copy_uid_gid,
        };
        Helper::start(&Request { target, op })?
            .put(tar)
            .map_err(|e| Self::not_found(e, path, name))?;
        if let Ok(entry) = self.get(&id) {
            self.event(&entry.lock(), "extract-to-dir", &[]);
        }
        Ok(())
    }
}
