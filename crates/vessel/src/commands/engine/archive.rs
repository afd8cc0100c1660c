//! `save` and `load` (images to one tar, Docker's format and an OCI image
//! layout at once, and back), `commit` and `export`.

use std::io::{IsTerminal, Write};

use clap::Args;
use serde_json::Value;

use super::enc;
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
    #[arg(required = true)]
    images: Vec<String>,
}

pub async fn save(client: &Client, a: SaveArgs) -> anyhow::Result<()> {
    let path = format!(
        "/images/get?{}",
        a.images
            .iter()
            .map(|n| format!("names={}", enc(n)))
            .collect::<Vec<_>>()
            .join("&")
    );
    write_out(client, &path, a.output.as_deref()).await
}

/// Writes the answer to `path` to `output`, or to stdout when it is not a
/// terminal. A file is written beside, then renamed: never half a file
/// under its name.
async fn write_out(
    client: &Client,
    path: &str,
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    match output {
        None => {
            let mut out = std::io::stdout().lock();
            if out.is_terminal() {
                anyhow::bail!(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect"
                );
            }
            copy(client, path, &mut out).await
        }
        Some(file) => {
            let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = dir.unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            copy(client, path, tmp.as_file_mut()).await?;
            tmp.persist(file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            Ok(())
        }
    }
}

/// Writes the answer to `path` into `out`.
async fn copy(client: &Client, path: &str, out: &mut impl Write) -> anyhow::Result<()> {
    let mut failed = None;
    client
        .stream("GET", path, |chunk| match out.write_all(chunk) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        })
        .await?;
    if let Some(e) = failed {
        anyhow::bail!("writing the archive: {e}");
    }
    out.flush()?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from this file instead of stdin.
    #[arg(long, short)]
    input: Option<std::path::PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub async fn load(client: &Client, a: LoadArgs) -> anyhow::Result<()> {
    let reader: Box<dyn std::io::Read + Send> = match &a.input {
        Some(f) => {
            Box::new(std::fs::File::open(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?)
        }
        None => {
            if std::io::stdin().is_terminal() {
                anyhow::bail!("requested load from stdin, but stdin is empty");
            }
            Box::new(std::io::stdin())
        }
    };
    let path = format!("/images/load?quiet={}", a.quiet as u8);
    let body = client.upload(&path, reader).await?;
    for line in String::from_utf8_lossy(&body).lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            if let Some(e) = v["error"].as_str() {
                anyhow::bail!("{e}");
            }
            if let Some(s) = v["stream"].as_str() {
                if !a.quiet {
                    print!("{s}");
                }
            }
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// The author (`Name <email>`).
    #[arg(long, short)]
    author: Option<String>,
    /// Apply a Dockerfile instruction to the image's config (CMD,
    /// ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
    /// WORKDIR).
    #[arg(long, short)]
    change: Vec<String>,
    /// A commit message.
    #[arg(long, short)]
    message: Option<String>,
    /// Pause the container while its changes are read.
    #[arg(long, short, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pause: bool,
    container: String,
    /// `REPOSITORY[:TAG]` for the new image.
    reference: Option<String>,
}

pub async fn commit(client: &Client, a: CommitArgs) -> anyhow::Result<()> {
    let mut path = format!(
        "/commit?container={}&pause={}",
        enc(&a.container),
        a.pause as u8
    );
    if let Some(r) = &a.reference {
        let last = r.rsplit('/').next().unwrap_or(r);
        match last.rsplit_once(':') {
            Some((_, tag)) => {
                let repo = &r[..r.len() - tag.len() - 1];
                path.push_str(&format!("&repo={}&tag={}", enc(repo), enc(tag)));
            }
            None => path.push_str(&format!("&repo={}", enc(r))),
        }
    }
    for (key, value) in [("author", &a.author), ("comment", &a.message)] {
        if let Some(v) = value {
            path.push_str(&format!("&{key}={}", enc(v)));
        }
    }
    for c in &a.change {
        path.push_str(&format!("&changes={}", enc(c)));
    }
    let answer = client.json("POST", &path, None).await?;
    println!("{}", answer["Id"].as_str().unwrap_or_default());
    Ok(())
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
    container: String,
}

pub async fn export(client: &Client, a: ExportArgs) -> anyhow::Result<()> {
    let path = format!("/containers/{}/export", enc(&a.container));
    write_out(client, &path, a.output.as_deref()).await
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    container: String,
}

/// `docker diff`: a line per change, `C`hanged, `A`dded or `D`eleted.
pub async fn diff(client: &Client, a: DiffArgs) -> anyhow::Result<()> {
    let path = format!("/containers/{}/changes", enc(&a.container));
    let changes = client.json("GET", &path, None).await?;
    for c in changes.as_array().into_iter().flatten() {
        let kind = match c["Kind"].as_u64() {
            Some(0) => "C",
            Some(1) => "A",
            Some(2) => "D",
            _ => "?",
        };
        println!("{kind} {}", c["Path"].as_str().unwrap_or_default());
    }
    Ok(())
}
