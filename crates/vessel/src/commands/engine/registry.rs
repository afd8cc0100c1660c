//! `pull` and `push`: images from and to registries, with Docker's
//! progress display (a line per layer redrawn in place on a terminal,
//! status lines when not), and the pull `run` and `create` make of an
//! image not here yet.

use std::io::{IsTerminal, Write};

use clap::Args;
use serde_json::Value;

use super::enc;
use crate::api_client::{ApiError, Client};

#[derive(Debug, Args)]
pub struct PullArgs {
    /// `NAME[:TAG|@DIGEST]`
    reference: String,
    /// `os[/arch[/variant]]` when the image has several.
    #[arg(long)]
    platform: Option<String>,
    /// Print only the image's name.
    #[arg(long, short)]
    quiet: bool,
    /// Every tag of the repository (refused: not supported).
    #[arg(long, short = 'a')]
    all_tags: bool,
    /// Content trust (Notary) is not supported; `true` is refused.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    disable_content_trust: bool,
}

pub async fn pull(client: &Client, a: PullArgs) -> anyhow::Result<()> {
    if a.all_tags {
        anyhow::bail!("--all-tags is not supported: pull one tag at a time");
    }
    let reference = with_default_tag(&a.reference);
    if reference != a.reference && !a.quiet {
        println!("Using default tag: latest");
    }
    let out = Progress::new(std::io::stdout(), a.quiet);
    pull_image(client, &reference, a.platform.as_deref(), out).await?;
    if a.quiet {
        println!("{reference}");
    } else if !reference.contains('@') {
        println!("{}", full_name(&reference));
    }
    Ok(())
}

/// Pulls `reference`, drawing its progress on `out`.
pub async fn pull_image(
    client: &Client,
    reference: &str,
    platform: Option<&str>,
    mut out: Progress<impl Write>,
) -> anyhow::Result<()> {
    let (name, tag) = split(reference);
    let mut path = format!("/images/create?fromImage={}&tag={}", enc(name), enc(tag));
    if let Some(p) = platform {
        path.push_str(&format!("&platform={}", enc(p)));
    }
    follow(client, &path, &credentials(name), &mut out).await
}

/// Sends a pull or push and shows its progress lines as they come.
async fn follow(
    client: &Client,
    path: &str,
    auth: &str,
    out: &mut Progress<impl Write>,
) -> anyhow::Result<()> {
    let mut pending = Vec::new();
    let mut failed = None;
    client
        .stream_with("POST", path, Some(("X-Registry-Auth", auth)), |chunk| {
            pending.extend_from_slice(chunk);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                if let Ok(v) = serde_json::from_slice::<Value>(&line) {
                    if let Some(e) = v["error"].as_str() {
                        failed = Some(e.to_string());
                        return false;
                    }
                    out.show(&v);
                }
            }
            true
        })
        .await?;
    match failed {
        Some(e) => Err(anyhow::anyhow!(ApiError {
            status: 500,
            message: e
        })),
        None => Ok(()),
    }
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// `NAME[:TAG]`
    reference: String,
    /// Push every tag of the repository.
    #[arg(long, short = 'a')]
    all_tags: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Content trust (Notary) is not supported; `true` is refused.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    disable_content_trust: bool,
}

pub async fn push(client: &Client, a: PushArgs) -> anyhow::Result<()> {
    let tagged = a
        .reference
        .rsplit('/')
        .next()
        .is_some_and(|l| l.contains(':'));
    if a.all_tags && tagged {
        anyhow::bail!("tag can't be used with --all-tags/-a");
    }
    let reference = match a.all_tags {
        true => a.reference.clone(),
        false => {
            if !tagged && !a.quiet {
                println!("Using default tag: latest");
            }
            with_default_tag(&a.reference)
        }
    };
    let (name, tag) = match a.all_tags {
        true => (reference.as_str(), ""),
        false => split(&reference),
    };
    let path = format!("/images/{}/push?tag={}", enc(name), enc(tag));
    let mut out = Progress::new(std::io::stdout(), a.quiet);
    follow(client, &path, &credentials(name), &mut out).await?;
    if a.quiet {
        println!("{reference}");
    }
    Ok(())
}

/// `create`'s and `run`'s pull of an image that is not here yet, its
/// progress on stderr as Docker's.
pub async fn pull_missing(
    client: &Client,
    image: &str,
    platform: Option<&str>,
) -> anyhow::Result<()> {
    let reference = with_default_tag(image);
    eprintln!("Unable to find image '{reference}' locally");
    pull_image(
        client,
        &reference,
        platform,
        Progress::new(std::io::stderr(), false),
    )
    .await
}

/// `name` with `:latest` when it has neither tag nor digest.
fn with_default_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    match name.contains('@') || last.contains(':') {
        true => name.to_string(),
        false => format!("{name}:latest"),
    }
}

/// `name` and its tag or digest.
fn split(reference: &str) -> (&str, &str) {
    if let Some((n, d)) = reference.split_once('@') {
        return (n, d);
    }
    match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, "latest"),
    }
}

/// The name Docker prints after a pull: Docker Hub's in full.
fn full_name(reference: &str) -> String {
    let first = reference.split('/').next().unwrap_or_default();
    let has_registry =
        reference.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    match (has_registry, reference.contains('/')) {
        (true, _) => reference.to_string(),
        (false, true) => format!("docker.io/{reference}"),
        (false, false) => format!("docker.io/library/{reference}"),
    }
}

/// The `X-Registry-Auth` value for `name`'s registry from what `docker
/// login` kept in `~/.docker/config.json` (`{}` when nothing).
fn credentials(name: &str) -> String {
    let first = name.split('/').next().unwrap_or_default();
    let registry = match name.contains('/') && (first.contains(['.', ':']) || first == "localhost")
    {
        true => first.to_string(),
        false => "https://index.docker.io/v1/".to_string(),
    };
    let stored = docker_config()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["auths"][&registry]["auth"].as_str().map(String::from));
    let decoded = stored.and_then(|s| decode_base64(&s));
    let json = match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some((user, pass)) => {
            serde_json::json!({"username": user, "password": pass, "serveraddress": registry})
        }
        None => serde_json::json!({}),
    };
    encode_base64url(json.to_string().as_bytes())
}

/// Where `docker login` keeps credentials: `$DOCKER_CONFIG/config.json`,
/// else `~/.docker/config.json`.
pub(super) fn docker_config() -> Option<std::path::PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))
        .map(|d| d.join("config.json"))
}

/// The registry `docker login` keys a server's credentials by.
pub(super) fn config_key(server: Option<&str>) -> String {
    match server {
        None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io") => {
            "https://index.docker.io/v1/".to_string()
        }
        Some(s) => s
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string(),
    }
}

/// Standard base64, padded, as `config.json` keeps `user:password`.
pub(super) fn encode_base64(bytes: &[u8]) -> String {
    let url = encode_base64url(bytes).replace('-', "+").replace('_', "/");
    let pad = (4 - url.len() % 4) % 4;
    url + &"=".repeat(pad)
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn encode_base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn decode_base64(s: &str) -> Option<String> {
    String::from_utf8(vessel_engine::image::decode_base64(s)?).ok()
}

/// Docker's progress display: on a terminal, a line per layer redrawn in
/// place; otherwise one line per status, progress left out.
#[derive(Debug)]
pub struct Progress<W> {
    out: W,
    terminal: bool,
    quiet: bool,
    ids: Vec<String>,
}

impl<W: Write> Progress<W> {
    pub fn new(out: W, quiet: bool) -> Self
    where
        W: IsTerminal,
    {
        let terminal = out.is_terminal();
        Progress {
            out,
            terminal,
            quiet,
            ids: Vec::new(),
        }
    }

    fn show(&mut self, v: &Value) {
        if self.quiet || v.get("aux").is_some() {
            return;
        }
        let status = v["status"].as_str().unwrap_or_default();
        let id = v["id"].as_str();
        let bar = v["progress"].as_str().unwrap_or_default();
        let text = match id {
            Some(id) if !bar.is_empty() => format!("{id}: {status} {bar}"),
            Some(id) => format!("{id}: {status}"),
            None => status.to_string(),
        };
        let out = &mut self.out;
        match (self.terminal, id) {
            (true, Some(id)) => match self.ids.iter().position(|i| i == id) {
                Some(at) => {
                    let up = self.ids.len() - at;
                    let _ = write!(out, "\x1b[{up}A\r\x1b[2K{text}\x1b[{up}B\r");
                }
                None => {
                    self.ids.push(id.to_string());
                    let _ = writeln!(out, "{text}");
                }
            },
            // Without a terminal, progress lines would be noise.
            (false, Some(_)) if !bar.is_empty() => {}
            _ => {
                let _ = writeln!(out, "{text}");
            }
        }
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_get_dockers_defaults() {
        assert_eq!(with_default_tag("busybox"), "busybox:latest");
        assert_eq!(
            with_default_tag("127.0.0.1:5000/a"),
            "127.0.0.1:5000/a:latest"
        );
        assert_eq!(with_default_tag("a@sha256:00"), "a@sha256:00");
        assert_eq!(split("127.0.0.1:5000/a:v1"), ("127.0.0.1:5000/a", "v1"));
        assert_eq!(split("a@sha256:00"), ("a", "sha256:00"));
        assert_eq!(
            full_name("busybox:latest"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(full_name("me/box:1"), "docker.io/me/box:1");
        assert_eq!(full_name("localhost:5000/box:1"), "localhost:5000/box:1");
    }

    #[test]
    fn credentials_travel_as_base64url_json() {
        let enc = encode_base64url(br#"{"username":"u","password":"p?>"}"#);
        assert_eq!(enc, "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InA_PiJ9");
        assert_eq!(decode_base64("dTpwYXNz").as_deref(), Some("u:pass"));
    }
}
