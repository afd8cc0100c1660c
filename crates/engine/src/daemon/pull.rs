//! The engine's `pull`: the image from its registry, then its tag, its
//! digest reference and the `pull` event.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::Daemon;
use crate::error::Result;
use crate::image::{self, Credentials, Platform, Progress, Remote};

impl Daemon {
    /// `docker pull reference`: answers the closing status line ("Image is
    /// up to date" or "Downloaded newer image"), after the progress lines
    /// sent to `progress` (the last two of which are the digest and it).
    pub async fn pull(
        self: Arc<Self>,
        reference: &str,
        platform: &Platform,
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
            platform,
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
            let _ = progress.send(Progress {
                status: line,
                id: None,
                current: None,
            });
        }
        Ok(())
    }
}
