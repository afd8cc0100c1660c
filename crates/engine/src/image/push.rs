//! `docker push`: an image's layers (each skipped when the registry has
//! it, mounted from another repository of the registry when it allows,
//! else gzipped and uploaded in chunks as it is made), its config
//! (uploaded whole), then its manifest, Docker's schema 2 as Docker
//! pushes it.

use std::io::{self, Write};
use std::sync::Arc;

use bytes::Bytes;
use oci_client::errors::OciDistributionError;
use oci_client::RegistryOperation;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::ingest::KnownBlob;
use super::manifest::{Written, WrittenManifest};
use super::progress::{Events, Progress};
use super::registry::{self, Credentials, Registries};
use super::{hex, short_id, Image, ImageStore, Remote};
use crate::error::{EngineError, Result};

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Layers uploaded at once (Docker's default).
const PARALLEL: usize = 5;
/// Media types of gzip blobs, which a Docker manifest may name.
const GZIP_LAYERS: &[&str] = &[DOCKER_LAYER, "application/vnd.oci.image.layer.v1.tar+gzip"];

/// What a push made: the manifest's digest and size.
#[derive(Debug)]
pub struct Pushed {
    pub digest: String,
    pub size: usize,
}

/// Pushes `image` as `remote` (which names a tag).
pub async fn push(
    store: Arc<ImageStore>,
    registries: &Registries,
    remote: &Remote,
    image: &Image,
    credentials: &Credentials,
    progress: &Events,
) -> Result<Pushed> {
    let client = registries.client(remote).await;
    let target = registry::reference(remote, None);
    let fail = |e| registry::describe_push(remote, e);
    client
        .auth(&target, &credentials.auth(), RegistryOperation::Push)
        .await
        .map_err(fail)?;
    for diff_id in &image.layers {
        let _ = progress.send(Progress::of(short_id(diff_id), "Preparing"));
    }
    // Five layers at once, as Docker pushes them; the manifest lists
    // them in the image's order.
    let slots = tokio::sync::Semaphore::new(PARALLEL);
    let uploads = image.layers.iter().map(|diff_id| {
        let (client, target, store, slots) = (&client, &target, store.clone(), &slots);
        async move {
            let _slot = slots.acquire().await;
            push_layer(client, target, remote, diff_id, store, progress).await
        }
    });
    let layers = futures_util::future::join_all(uploads)
        .await
        .into_iter()
        .collect::<Result<Vec<KnownBlob>>>()?;
    let config = store.config_bytes(image.id.trim_start_matches("sha256:"))?;
    if !client.blob_exists(&target, &image.id).await.map_err(fail)? {
        client
            .push_blob(&target, config.clone(), &image.id)
            .await
            .map_err(fail)?;
    }
    let manifest = WrittenManifest {
        schema_version: 2,
        media_type: DOCKER_MANIFEST,
        config: Written::new(DOCKER_CONFIG, &image.id, config.len() as u64),
        layers: layers
            .iter()
            .map(|b| Written::new(DOCKER_LAYER, &b.digest, b.size))
            .collect(),
    };
    let bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| EngineError::Internal(format!("encoding the manifest: {e}")))?;
    let content_type = DOCKER_MANIFEST.parse().expect("a valid header value");
    client
        .push_manifest_raw(&target, bytes.clone(), content_type)
        .await
        .map_err(fail)?;
    Ok(Pushed {
        digest: format!("sha256:{}", hex(&Sha256::digest(&bytes))),
        size: bytes.len(),
    })
}

/// Makes one layer present in the target repository; answers its blob.
async fn push_layer(
    client: &oci_client::Client,
    target: &oci_client::Reference,
    remote: &Remote,
    diff_id: &str,
    store: Arc<ImageStore>,
    progress: &Events,
) -> Result<KnownBlob> {
    let id = short_id(diff_id).to_string();
    let here = format!("{}/{}", remote.registry, remote.repository);
    let known: Vec<KnownBlob> = store
        .known_blobs(diff_id)
        .into_iter()
        .filter(|b| GZIP_LAYERS.contains(&b.media_type.as_str()))
        .collect();
    for blob in &known {
        if client
            .blob_exists(target, &blob.digest)
            .await
            .unwrap_or(false)
        {
            let _ = progress.send(Progress::of(&id, "Layer already exists"));
            return Ok(remembered(&store, diff_id, blob, &here));
        }
    }
    for blob in &known {
        let Some(repo) = blob.source.strip_prefix(&format!("{}/", remote.registry)) else {
            continue;
        };
        let from = oci_client::Reference::with_digest(
            remote.registry.clone(),
            repo.to_string(),
            blob.digest.clone(),
        );
        if client.mount_blob(target, &from, &blob.digest).await.is_ok() {
            let _ = progress.send(Progress::of(&id, format!("Mounted from {repo}")));
            return Ok(remembered(&store, diff_id, blob, &here));
        }
    }
    let total = store.layer_tar_size(diff_id)?;
    let (tx, rx) = mpsc::channel::<std::result::Result<Bytes, OciDistributionError>>(8);
    let (from, layer) = (store.clone(), diff_id.to_string());
    let making = tokio::task::spawn_blocking(move || {
        let mut gz = flate2::write::GzEncoder::new(
            io::BufWriter::with_capacity(256 << 10, Chunks(tx.clone())),
            flate2::Compression::default(),
        );
        let made = from.layer_tar(&layer, &mut gz).and_then(|()| {
            gz.finish()
                .and_then(|mut w| w.flush())
                .map_err(EngineError::io("compressing"))
        });
        if let Err(e) = &made {
            let _ = tx.blocking_send(Err(OciDistributionError::GenericError(Some(e.to_string()))));
        }
        made
    });
    let (ptx, id2) = (progress.clone(), id.clone());
    let mut sent = 0u64;
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let counted = futures_util::StreamExt::inspect(stream, move |chunk| {
        if let Ok(c) = chunk {
            sent += c.len() as u64;
            let _ = ptx.send(Progress::bytes(&id2, "Pushing", sent.min(total), total));
        }
    });
    let pushed = client.push_blob_stream_chunked(target, counted).await;
    let made = making
        .await
        .map_err(|e| EngineError::Internal(format!("making layer {diff_id}: {e}")))?;
    // The upload's error first: when it fails, the making only stops
    // (its own failure reaches the upload as the stream's error).
    let pushed = pushed.map_err(|e| registry::describe_push(remote, e))?;
    made?;
    let _ = progress.send(Progress::of(&id, "Pushed"));
    let blob = KnownBlob {
        digest: pushed.blob_digest,
        media_type: DOCKER_LAYER.into(),
        size: pushed.size,
        source: here,
    };
    store.remember_blob(diff_id, blob.clone());
    Ok(blob)
}

/// `blob`, now known to be in `here` too.
fn remembered(store: &ImageStore, diff_id: &str, blob: &KnownBlob, here: &str) -> KnownBlob {
    let blob = KnownBlob {
        source: here.to_string(),
        ..blob.clone()
    };
    store.remember_blob(diff_id, blob.clone());
    blob
}

/// Writes as chunks on a channel (from a blocking thread).
struct Chunks(mpsc::Sender<std::result::Result<Bytes, OciDistributionError>>);

impl Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
