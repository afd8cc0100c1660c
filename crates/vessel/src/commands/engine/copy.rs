//! `cp`: files between a container and the host, over the archive API,
//! with docker's rules for where they land: into a directory that is
//! there, else under the destination's own name; `SRC/.` copies a
//! directory's contents.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine;
use clap::Args;

use super::enc;
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Keep the files' owners (uid:gid) as they are.
    #[arg(long, short)]
    archive: bool,
    /// Follow a symlink that SRC names.
    #[arg(long = "follow-link", short = 'L')]
    follow_link: bool,
    /// CONTAINER:SRC_PATH or a host path (`-`: a tar on stdin).
    src: String,
    /// CONTAINER:DEST_PATH or a host path (`-`: a tar on stdout).
    dst: String,
}

/// A side of the copy: a host path, or a container and its path.
fn side(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    arg.split_once(':').filter(|(c, _)| !c.is_empty())
}

/// A path's stat in the container (Docker's JSON), `None` if it has none.
async fn stat(
    client: &Client,
    container: &str,
    path: &str,
) -> anyhow::Result<Option<serde_json::Value>> {
    let url = format!("/containers/{}/archive?path={}", enc(container), enc(path));
    let Some(header) = client.head(&url, "X-Docker-Container-Path-Stat").await? else {
        return Ok(None);
    };
    let json = base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .context("the path's stat")?;
    Ok(Some(serde_json::from_slice(&json)?))
}

fn is_dir(stat: &serde_json::Value) -> bool {
    stat["mode"].as_u64().is_some_and(|m| m & (1 << 31) != 0)
}

pub async fn cp(client: &Client, a: CpArgs) -> anyhow::Result<()> {
    match (side(&a.src), side(&a.dst)) {
        (Some((c, p)), None) => from_container(client, c, p, &a.dst, a.follow_link).await,
        (None, Some((c, p))) => to_container(client, &a.src, c, p, a.archive).await,
        (None, None) => bail!("must specify at least one container source"),
        (Some(_), Some(_)) => bail!("copying between containers is not supported"),
    }
}

async fn from_container(
    client: &Client,
    c: &str,
    path: &str,
    dst: &str,
    follow: bool,
) -> anyhow::Result<()> {
    let Some(st) = stat(client, c, path).await? else {
        bail!("Error response from daemon: Could not find the file {path} in container {c}");
    };
    let target = st["linkTarget"].as_str().unwrap_or_default();
    let path = if follow && !target.is_empty() {
        target
    } else {
        path
    };
    let url = format!("/containers/{}/archive?path={}", enc(c), enc(path));
    let mut tar = Vec::new();
    client
        .stream("GET", &url, |chunk| {
            tar.extend_from_slice(chunk);
            true
        })
        .await?;
    if dst == "-" {
        use std::io::Write;
        return Ok(std::io::stdout().write_all(&tar)?);
    }
    let dst = Path::new(dst);
    // Into a directory that is there; else under the destination's name.
    let (into, rename) = match dst.is_dir() {
        true => (dst.to_path_buf(), None),
        false => {
            if !is_dir(&st) && dst.to_string_lossy().ends_with('/') {
                bail!("destination directory {} does not exist", dst.display());
            }
            let parent = dst
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (parent.to_path_buf(), dst.file_name().map(PathBuf::from))
        }
    };
    extract_renamed(&tar[..], &into, rename.as_deref())
}

/// Extracts `tar` into `into`, its first path element renamed `rename`.
fn extract_renamed(tar: impl Read, into: &Path, rename: Option<&Path>) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(tar);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let mut parts = path.components().filter(|c| *c != Component::CurDir);
        let named: PathBuf = match (rename, path.components().next()) {
            (Some(r), Some(Component::CurDir)) => std::iter::once(r.as_os_str())
                .chain(parts.map(|c| c.as_os_str()))
                .collect(),
            (Some(r), _) => {
                parts.next();
                std::iter::once(r.as_os_str())
                    .chain(parts.map(|c| c.as_os_str()))
                    .collect()
            }
            (None, _) => parts.collect(),
        };
        if named.as_os_str().is_empty() || named.components().any(|c| c == Component::ParentDir) {
            continue;
        }
        let to = into.join(&named);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        entry
            .unpack(&to)
            .with_context(|| format!("writing {}", to.display()))?;
    }
    Ok(())
}

async fn to_container(
    client: &Client,
    src: &str,
    c: &str,
    path: &str,
    archive: bool,
) -> anyhow::Result<()> {
    let (tar, dir) = if src == "-" {
        let mut tar = Vec::new();
        std::io::stdin().read_to_end(&mut tar)?;
        (tar, path.to_string())
    } else {
        let meta = std::fs::symlink_metadata(src).with_context(|| format!("lstat {src}"))?;
        let contents = src.ends_with("/.");
        let src_name = Path::new(src.trim_end_matches("/."))
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into());
        let (dir, name) = match stat(client, c, path).await? {
            Some(st) if is_dir(&st) => (
                path.to_string(),
                if contents { ".".into() } else { src_name },
            ),
            Some(_) if meta.is_dir() => bail!("cannot copy a directory to a file"),
            _ => {
                let (parent, name) = split(path);
                if path.ends_with('/') && !meta.is_dir() {
                    bail!("destination directory {path} does not exist");
                }
                (parent, name)
            }
        };
        let mut tar = Vec::new();
        vessel_engine::archive::write_tar(Path::new(src), &name, &mut tar)?;
        (tar, dir)
    };
    let url = format!(
        "/containers/{}/archive?path={}&noOverwriteDirNonDir=true&copyUIDGID={}",
        enc(c),
        enc(&dir),
        archive as u8
    );
    client
        .upload_with("PUT", &url, std::io::Cursor::new(tar))
        .await?;
    Ok(())
}

/// A container path's directory and last element.
fn split(path: &str) -> (String, String) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (".".into(), trimmed.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_and_paths_read_as_dockers() {
        assert_eq!(side("web:/etc/hosts"), Some(("web", "/etc/hosts")));
        assert_eq!(side("/tmp/a:b"), None);
        assert_eq!(side("./a:b"), None);
        assert_eq!(side("file"), None);
        assert_eq!(split("/etc/hosts"), ("/etc".into(), "hosts".into()));
        assert_eq!(split("/data/"), ("/".into(), "data".into()));
    }
}
