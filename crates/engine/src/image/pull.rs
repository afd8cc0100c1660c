//! `docker pull`: a manifest (through an index to this platform's), the
//! image config, and the layers not stored yet, downloaded in parallel,
//! verified as they stream, and unpacked as they arrive.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use oci_client::manifest::OciDescriptor;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::ingest::KnownBlob;
use super::manifest::{self, Manifest, Platform};
use super::progress::{Events, Progress};
use super::registry::{self, Credentials, Registries};
use super::{hex, short_id, Image, ImageStore, Remote};
use crate::error::{EngineError, Result};

/// The most a manifest or an image config may weigh (Docker's limit).
const MAX_MANIFEST: usize = 4 << 20;
const MAX_CONFIG: i64 = 8 << 20;
/// Layers downloaded at once (Docker's default).
const PARALLEL: usize = 3;

/// What a pull made.
#[derive(Debug)]
pub struct Pulled {
    pub image: Image,
    /// The digest of the manifest pulled (of the index, when there was
    /// one), as `name@digest` keeps it.
    pub digest: String,
}

/// Pulls `remote` for `platform` (this host's when none is named: then an
/// image of another platform is taken as it is, as Docker takes it) into
/// `store`, telling `progress` how it goes. Nothing is kept of an image
/// that fails to arrive whole but the layers that did (a later pull does
/// not fetch them again).
pub async fn pull(
    store: Arc<ImageStore>,
    registries: &Registries,
    remote: &Remote,
    platform: Option<&Platform>,
    credentials: &Credentials,
    progress: &Events,
) -> Result<Pulled> {
    let host = Platform::host();
    let wanted = platform.unwrap_or(&host);
    let client = registries.client(remote).await;
    let auth = credentials.auth();
    let fail = |e| registry::describe(remote, e);
    let first = registry::reference(remote, None);
    let (bytes, mut digest) = client
        .pull_manifest_raw(&first, &auth, manifest::ACCEPTED)
        .await
        .map_err(fail)?;
    let digest_of_index = digest.clone();
    check_manifest(&bytes, remote.digest.as_deref())?;
    if let Some(d) = &remote.digest {
        digest = d.clone();
    }
    let tag = remote.tag.as_deref().unwrap_or(&digest);
    let _ = progress.send(Progress::of(
        tag,
        format!("Pulling from {}", remote.repository),
    ));
    let mut parsed = Manifest::parse(&bytes)?;
    if let Some(chosen) = parsed.choose(wanted)? {
        let reference = registry::reference(remote, Some(&chosen));
        let (bytes, _) = client
            .pull_manifest_raw(&reference, &auth, manifest::ACCEPTED)
            .await
            .map_err(fail)?;
        check_manifest(&bytes, Some(&chosen))?;
        parsed = Manifest::parse(&bytes)?;
        if parsed.choose(wanted)?.is_some() {
            return Err(EngineError::InvalidParameter(format!(
                "{}: an index names another index",
                remote.familiar
            )));
        }
    }
    let (config_desc, layers) = parsed.image()?;
    if config_desc.size > MAX_CONFIG {
        return Err(EngineError::InvalidParameter(format!(
            "{}: its image config of {} bytes is too large",
            remote.familiar, config_desc.size
        )));
    }
    let image_ref = registry::reference(remote, Some(&digest_of_index));
    let mut config_bytes = Vec::new();
    client
        .pull_blob(&image_ref, &config_desc, &mut config_bytes)
        .await
        .map_err(fail)?;
    let config = manifest::config_for(&config_bytes, platform, remote, layers.len())?;
    // The image is here whole already: nothing to fetch.
    if let Some(image) = store.stored_whole(&config_desc.digest) {
        return Ok(Pulled { image, digest });
    }
    fetch_layers(
        &client,
        &image_ref,
        layers,
        &config.rootfs.diff_ids,
        &store,
        progress,
    )
    .await?;
    let image = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.write_config_bytes(&config_bytes))
            .await
            .map_err(|e| EngineError::Internal(format!("storing the image config: {e}")))??
    };
    Ok(Pulled { image, digest })
}

/// Fetches the layers not stored yet, [`PARALLEL`] at a time. Once one
/// fails the others stop; each still waits for its store to clean up, so
/// that nothing is half written when the pull answers. The first failure
/// is the one reported: the others follow from it.
async fn fetch_layers(
    client: &oci_client::Client,
    image_ref: &oci_client::Reference,
    layers: Vec<OciDescriptor>,
    diff_ids: &[String],
    store: &Arc<ImageStore>,
    progress: &Events,
) -> Result<()> {
    let slots = tokio::sync::Semaphore::new(PARALLEL);
    let abort = AtomicBool::new(false);
    let first_error = std::sync::Mutex::new(None);
    let tasks: Vec<_> = layers
        .into_iter()
        .zip(diff_ids.iter().cloned())
        .map(|(layer, diff_id)| {
            let store = store.clone();
            let (slots, abort, first_error) = (&slots, &abort, &first_error);
            async move {
                let _slot = slots.acquire().await;
                if abort.load(Ordering::SeqCst) {
                    return;
                }
                let fetched =
                    fetch_layer(client, image_ref, &layer, &diff_id, store, progress, abort).await;
                if let Err(e) = fetched {
                    if !abort.swap(true, Ordering::SeqCst) {
                        *first_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                }
            }
        })
        .collect();
    futures_util::future::join_all(tasks).await;
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Refuses a manifest that is too large or is not the one asked for.
fn check_manifest(bytes: &[u8], digest: Option<&str>) -> Result<()> {
    if bytes.len() > MAX_MANIFEST {
        return Err(EngineError::InvalidParameter(format!(
            "manifest too large: {} bytes (at most {MAX_MANIFEST})",
            bytes.len()
        )));
    }
    let actual = format!("sha256:{}", hex(&Sha256::digest(bytes)));
    match digest {
        Some(want) if want != actual => Err(EngineError::InvalidParameter(format!(
            "manifest verification failed for digest {want}: its content's digest is {actual}"
        ))),
        _ => Ok(()),
    }
}

/// Downloads one layer unless it is stored, and stores it as it streams.
async fn fetch_layer(
    client: &oci_client::Client,
    image: &oci_client::Reference,
    layer: &OciDescriptor,
    diff_id: &str,
    store: Arc<ImageStore>,
    progress: &Events,
    abort: &AtomicBool,
) -> Result<()> {
    let id = short_id(&layer.digest).to_string();
    let say = |status: &str| {
        let _ = progress.send(Progress::of(&id, status));
    };
    if store.has_layer(diff_id) {
        say("Already exists");
        return Ok(());
    }
    say("Pulling fs layer");
    let failed = |what: String| EngineError::Internal(format!("layer {}: {what}", layer.digest));
    let mut stream = client
        .pull_blob_stream(image, layer)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let total = stream.content_length.unwrap_or(layer.size.max(0) as u64);
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let expected = diff_id.to_string();
    let into = store.clone();
    let storing = tokio::task::spawn_blocking(move || {
        let tar = decompress(ChannelReader {
            rx,
            current: Bytes::new(),
        })?;
        into.store_layer(tar, Some(&expected))
            .map_err(|e| EngineError::InvalidParameter(e.to_string()))
    });
    let (mut done, mut told) = (0u64, 0u64);
    let mut download_error = None;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                download_error = Some(e.to_string());
                let _ = tx.send(Err(e)).await;
                break;
            }
        };
        done += chunk.len() as u64;
        if abort.load(Ordering::SeqCst) {
            let _ = tx.send(Err(io::Error::other("another layer failed"))).await;
            break;
        }
        if tx.send(Ok(chunk)).await.is_err() {
            break; // the store gave up: its error says why
        }
        if done - told >= 256 << 10 || done == total {
            told = done;
            let _ = progress.send(Progress::bytes(&id, "Downloading", done, total));
        }
    }
    drop(tx);
    let stored = storing.await.map_err(|e| failed(format!("storing: {e}")))?;
    if let Some(e) = download_error {
        return Err(failed(format!(
            "the download broke off after {done} bytes: {e}"
        )));
    }
    stored.map_err(|e| failed(e.to_string()))?;
    store.remember_blob(
        diff_id,
        KnownBlob {
            digest: layer.digest.clone(),
            media_type: layer.media_type.clone(),
            size: done,
            source: format!("{}/{}", image.registry(), image.repository()),
        },
    );
    say("Verifying Checksum");
    say("Download complete");
    say("Pull complete");
    Ok(())
}

/// A layer blob as its uncompressed tar: gzip and zstd are recognised by
/// their magic numbers, anything else is read as it is.
pub(super) fn decompress(blob: impl Read + Send + 'static) -> Result<Box<dyn Read>> {
    let mut blob = BufReader::with_capacity(256 << 10, blob);
    let head = blob
        .fill_buf()
        .map_err(|e| EngineError::InvalidParameter(format!("reading the layer: {e}")))?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(blob))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(
            zstd::stream::read::Decoder::with_buffer(blob)
                .map_err(|e| EngineError::InvalidParameter(format!("reading the layer: {e}")))?,
        )
    } else {
        Box::new(blob)
    })
}

/// The download's chunks, read on a blocking thread.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
