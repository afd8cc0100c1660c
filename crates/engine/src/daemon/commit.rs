//! `docker commit` and `docker export`: a container's changes made an
//! image, and its whole filesystem as one tar.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Daemon;
use crate::container::{Config, Container};
use crate::error::{EngineError, Result};
use crate::image::{apply_changes, normalize_reference, CommitOptions, Empty, ImageConfig};

/// A commit as the API asks for it.
#[derive(Debug, Default)]
pub struct CommitRequest {
    pub container: String,
    /// `repo[:tag]` for the new image.
    pub reference: Option<String>,
    pub comment: String,
    pub author: String,
    /// Pause a running container while its changes are read (Docker's
    /// default).
    pub pause: bool,
    pub changes: Vec<String>,
    /// Run config members that override the container's.
    pub config: Option<Config>,
}

impl Daemon {
    /// `docker commit`: answers the new image's id.
    pub fn commit(&self, r: CommitRequest) -> Result<String> {
        let reference = r
            .reference
            .as_deref()
            .map(normalize_reference)
            .transpose()?;
        let entry = self.get(&r.container)?;
        let (c, pause) = {
            let c = entry.lock();
            let pause = r.pause && c.state.running && !c.state.paused;
            (c.clone(), pause)
        };
        let base = self.images.config_file(&c.image)?;
        let mut config = run_config(&c.config, base.config);
        if let Some(over) = &r.config {
            overlay(&mut config, over);
        }
        apply_changes(&mut config, &r.changes)?;
        if pause {
            self.pause(&c.id)?;
        }
        // As Docker's: the `commit` event comes before the unpause.
        let committed = self.commit_paused(&c, &r, reference.as_deref(), config);
        if pause {
            if let Err(e) = self.unpause(&c.id) {
                tracing::error!(container = %c.id, error = %e, "unpausing after a commit");
            }
        }
        committed
    }

    fn commit_paused(
        &self,
        c: &Container,
        r: &CommitRequest,
        reference: Option<&str>,
        config: ImageConfig,
    ) -> Result<String> {
        let image = self.images.commit(
            &c.image,
            &self.writable_layer(&c.id).join("upper"),
            CommitOptions {
                author: r.author.clone(),
                comment: r.comment.clone(),
                container: c.id.clone(),
                created_by: std::iter::once(c.path.as_str())
                    .chain(c.args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
                config,
            },
        )?;
        if let Some(reference) = reference {
            self.images.tag(reference, &image.id)?;
        }
        let mut attrs = vec![
            ("comment", r.comment.clone()),
            ("imageID", image.id.clone()),
        ];
        if let Some(reference) = reference {
            attrs.push(("imageRef", reference.to_string()));
        }
        self.event(c, "commit", &attrs);
        Ok(image.id)
    }

    /// `docker diff`: what container `name` changed over its image.
    pub fn changes(&self, name: &str) -> Result<Vec<crate::image::diff::Change>> {
        let c = self.get(name)?.lock().clone();
        let layers = self.layers_top_first(&c)?;
        crate::image::diff::changes(&layers[0], &layers[1..])
            .map_err(EngineError::io("reading the container's changes"))
    }

    /// `docker export`: the directories whose merge is the container's
    /// filesystem, its writable layer first.
    pub fn export_layers(&self, name: &str) -> Result<Vec<PathBuf>> {
        let c = self.get(name)?.lock().clone();
        let dirs = self.layers_top_first(&c)?;
        self.event(&c, "export", &[]);
        Ok(dirs)
    }

    /// `c`'s writable layer (`upper/`), then its image's layers, top
    /// first.
    fn layers_top_first(&self, c: &Container) -> Result<Vec<PathBuf>> {
        let image = self.images.resolve(&c.image)?;
        let mut dirs = vec![self.writable_layer(&c.id).join("upper")];
        dirs.extend(image.layers.iter().rev().map(|l| self.images.layer_dir(l)));
        Ok(dirs)
    }
}

/// The run config a container has: its image's, with what the container
/// was given over it.
fn run_config(given: &Config, mut image: ImageConfig) -> ImageConfig {
    for e in given.env.iter().flatten() {
        let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
        image
            .env
            .retain(|x| x.split_once('=').map_or(x.as_str(), |(k, _)| k) != key);
        image.env.push(e.clone());
    }
    overlay(&mut image, given);
    image
}

/// Sets what `over` sets.
fn overlay(image: &mut ImageConfig, over: &Config) {
    if let Some(cmd) = over.cmd.clone().filter(|c| !c.is_empty()) {
        image.cmd = Some(cmd);
    }
    if let Some(ep) = over.entrypoint.clone().filter(|e| !e.is_empty()) {
        image.entrypoint = Some(ep);
    }
    if let Some(w) = over.working_dir.clone().filter(|w| !w.is_empty()) {
        image.working_dir = w;
    }
    if let Some(u) = over.user.clone().filter(|u| !u.is_empty()) {
        image.user = u;
    }
    if let Some(s) = over.stop_signal.clone().filter(|s| !s.is_empty()) {
        image.stop_signal = s;
    }
    if let Some(labels) = &over.labels {
        let mine = image.labels.get_or_insert_with(BTreeMap::new);
        mine.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if let Some(ports) = &over.exposed_ports {
        let mine = image.exposed_ports.get_or_insert_with(BTreeMap::new);
        for p in ports.keys() {
            mine.insert(p.clone(), Empty {});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commits_config_is_the_images_with_the_containers_over_it() {
        let c = Config {
            env: Some(vec!["A=2".into(), "B=3".into()]),
            cmd: Some(vec!["run".into()]),
            ..Config::default()
        };
        let image = ImageConfig {
            env: vec!["PATH=/bin".into(), "A=1".into()],
            cmd: Some(vec!["sh".into()]),
            working_dir: "/w".into(),
            ..ImageConfig::default()
        };
        let config = run_config(&c, image);
        assert_eq!(config.env, ["PATH=/bin", "A=2", "B=3"]);
        assert_eq!(config.cmd.unwrap(), ["run"]);
        assert_eq!(config.working_dir, "/w");
    }
}
