//! `docker commit`: a container's writable layer made a layer of a new
//! image on top of its own.

use std::path::Path;

use vessel_runtime::record::now_rfc3339;

use super::{diff_tar, ConfigFile, History, Image, ImageConfig, ImageStore};
use crate::error::{EngineError, Result};

/// What a commit says about the image it makes.
#[derive(Debug, Default)]
pub struct CommitOptions {
    pub author: String,
    pub comment: String,
    /// The container committed.
    pub container: String,
    /// Its command, as the history tells how the layer was made.
    pub created_by: String,
    /// The new image's run config.
    pub config: ImageConfig,
}

impl ImageStore {
    /// Stores the changes in `upper` as a layer over image `base`, and the
    /// image they make with `o`.
    pub fn commit(&self, base: &str, upper: &Path, o: CommitOptions) -> Result<Image> {
        let mut file = self.config_file(base)?;
        // Close-on-exec: a shim forked meanwhile must not hold the write
        // end open (the reader would never see its end).
        let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| EngineError::io("making a pipe")(e.into()))?;
        let (reader, writer) = (std::fs::File::from(reader), std::fs::File::from(writer));
        let from = upper.to_path_buf();
        let tarring = std::thread::spawn(move || diff_tar(&from, writer));
        let stored = self.store_layer(reader, None);
        let tarred = tarring
            .join()
            .map_err(|_| EngineError::Internal("the commit's tar writer failed".into()))?;
        let diff_id = stored?;
        tarred.map_err(EngineError::io("reading the container's changes"))?;
        let created = now_rfc3339();
        file.created = Some(created.clone());
        file.author = o.author.clone();
        file.comment = o.comment.clone();
        file.container = o.container;
        file.config = o.config;
        file.rootfs.diff_ids.push(diff_id);
        file.history.push(History {
            created: Some(created),
            author: o.author,
            created_by: o.created_by,
            comment: o.comment,
            empty_layer: false,
        });
        self.write_config(file)
    }

    /// The stored config of image `id`.
    pub fn config_file(&self, id: &str) -> Result<ConfigFile> {
        let bytes = self.config_bytes(id.trim_start_matches("sha256:"))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            EngineError::Internal(format!("image {id}: its config is unreadable: {e}"))
        })
    }
}
