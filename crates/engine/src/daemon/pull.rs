//! The engine's `pull` and `push`: the image from or to its registry,
//! its tags and digest references, and their events.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::Daemon;
use crate::error::{EngineError, Result};
use crate::image::{self, Credentials, Platform, Progress, PushResult, Remote};

impl Daemon {
    /// `docker pull reference`: answers the closing status line ("Image is
    /// up to date" or "Downloaded newer image"), after the progress lines
    /// sent to `progress` (the last two of which are the digest and it).
    pub async fn pull(
        self: Arc<Self>,
        reference: &str,
        platform: Option<Platform>,
        credentials: &Credentials,
        progress: &UnboundedSender<Progress>,
    ) -> Result<()> {
        let remote = Remote::parse(reference)?;
        let name = remote
            .tagged()
            .unwrap_or_else(|| remote.digested(remote.digest.as_deref().unwrap_or_default()));
        let before = self.images.resolve(&name).ok().map(|i| i.id);
        let pulled = image::pull(
            self.images.clone(),
            &self.registries,
            &remote,
            platform.as_ref(),
            credentials,
            progress,
        )
        .await?;
        let id = pulled.image.id;
        if let Some(tagged) = remote.tagged() {
            self.images.tag(&tagged, &id)?;
        }
        self.images
            .keep_digest(&remote.digested(&pulled.digest), &id)?;
        let attrs = BTreeMap::from([("name".to_string(), remote.familiar.clone())]);
        self.events.log("image", "pull", &name, attrs);
        let status = match before.as_deref() == Some(id.as_str()) {
            true => format!("Status: Image is up to date for {name}"),
            false => format!("Status: Downloaded newer image for {name}"),
        };
        for line in [format!("Digest: {}", pulled.digest), status] {
            let _ = progress.send(Progress::status(line));
        }
        Ok(())
    }
}

impl Daemon {
    /// `docker push name[:tag]`: the tag named, or every tag of the
    /// repository when none is.
    pub async fn push(
        self: Arc<Self>,
        name: &str,
        tag: Option<&str>,
        credentials: &Credentials,
        progress: &UnboundedSender<Progress>,
    ) -> Result<()> {
        let repo = Remote::parse(name)?;
        let tags: Vec<String> = match tag.filter(|t| !t.is_empty()) {
            Some(t) => vec![format!("{}:{t}", repo.familiar)],
            None if name.rsplit('/').next().is_some_and(|l| l.contains(':')) => {
                vec![repo.tagged().unwrap_or_default()]
            }
            None => self
                .images
                .list()?
                .into_iter()
                .flat_map(|(_, tags)| tags)
                .filter(|t| t.rsplit_once(':').is_some_and(|(n, _)| n == repo.familiar))
                .collect(),
        };
        let mut images = Vec::new();
        for t in &tags {
            let image = self.images.resolve(t).map_err(|_| {
                EngineError::NotFound(format!(
                    "An image does not exist locally with the tag: {}",
                    repo.familiar
                ))
            })?;
            images.push((Remote::parse(t)?, image));
        }
        if images.is_empty() {
            return Err(EngineError::NotFound(format!(
                "An image does not exist locally with the tag: {}",
                repo.familiar
            )));
        }
        let _ = progress.send(Progress::status(format!(
            "The push refers to repository [{}/{}]",
            repo.registry, repo.repository
        )));
        for (remote, image) in images {
            let pushed = image::push(
                self.images.clone(),
                &self.registries,
                &remote,
                &image,
                credentials,
                progress,
            )
            .await?;
            let tag = remote.tag.clone().unwrap_or_default();
            let _ = progress.send(Progress::status(format!(
                "{tag}: digest: {} size: {}",
                pushed.digest, pushed.size
            )));
            let _ = progress.send(Progress::aux(PushResult {
                tag,
                digest: pushed.digest.clone(),
                size: pushed.size,
            }));
            self.images
                .keep_digest(&remote.digested(&pushed.digest), &image.id)?;
            let attrs = BTreeMap::from([("name".to_string(), remote.familiar.clone())]);
            self.events
                .log("image", "push", &remote.tagged().unwrap_or_default(), attrs);
        }
        Ok(())
    }
}
