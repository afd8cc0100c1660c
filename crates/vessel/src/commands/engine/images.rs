//! `import`, `images`, `tag`, `history`, `rmi`.

use clap::Args;
use serde_json::Value;

use super::enc;
use super::format::{ellipsis, go_time, row, Listing, HISTORY, IMAGES};
use super::usage::decimal_size;
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tarball (`-` for stdin).
    file: String,
    /// `name[:tag]` for the new image.
    reference: Option<String>,
    /// Apply a Dockerfile instruction (ENV, CMD, ENTRYPOINT, WORKDIR, USER).
    #[arg(long, short)]
    change: Vec<String>,
    /// A commit message.
    #[arg(long, short)]
    message: Option<String>,
}

pub async fn import(client: &Client, a: ImportArgs) -> anyhow::Result<()> {
    let mut path = "/images/create?fromSrc=-".to_string();
    if let Some(r) = &a.reference {
        path.push_str(&format!("&repo={}", enc(r)));
    }
    if let Some(m) = &a.message {
        path.push_str(&format!("&message={}", enc(m)));
    }
    for c in &a.change {
        path.push_str(&format!("&changes={}", enc(c)));
    }
    let reader: Box<dyn std::io::Read + Send> = if a.file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&a.file).map_err(|e| anyhow::anyhow!("{}: {e}", a.file))?)
    };
    let body = client.upload(&path, reader).await?;
    for line in String::from_utf8_lossy(&body).lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            if let Some(s) = v["status"].as_str() {
                println!("{s}");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Only image ids.
    #[arg(long, short)]
    quiet: bool,
    /// Full image ids.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// `table`, `table TEMPLATE`, `json`, or a TEMPLATE such as `{{.ID}}`.
    #[arg(long)]
    format: Option<String>,
    /// Show the images' digests.
    #[arg(long)]
    digests: bool,
    /// `dangling=true|false`, `reference=GLOB`, `label=KEY[=VALUE]`,
    /// `before=IMAGE`, `since=IMAGE`.
    #[arg(long, short)]
    filter: Vec<String>,
}

pub async fn images(client: &Client, a: ImagesArgs) -> anyhow::Result<()> {
    let format = match (a.quiet, a.format.as_deref(), a.digests) {
        (true, _, _) => Some("{{.ID}}"),
        (false, None, true) => Some(
            "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
        ),
        (false, f, _) => f,
    };
    let listing = Listing::parse(format, &IMAGES)?;
    let path = match a.filter.is_empty() {
        true => "/images/json".to_string(),
        false => format!("/images/json?filters={}", super::filters_query(&a.filter)?),
    };
    let list = client.json("GET", &path, None).await?;
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<_> = list
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| image_rows(i, !a.no_trunc, now))
        .collect();
    print!("{}", listing.print(&IMAGES, &rows));
    Ok(())
}

/// An image of `GET /images/json` as `docker images` shows it: a row per
/// tag, one `<none>` row for an untagged image.
fn image_rows(i: &Value, trunc: bool, now: i64) -> Vec<Value> {
    let full = i["Id"].as_str().unwrap_or("");
    let id = if trunc {
        vessel_engine::image::short_id(full)
    } else {
        full
    };
    let created = i["Created"].as_i64().unwrap_or(0);
    let size = i["Size"].as_u64().unwrap_or(0);
    let count = |v: &Value| match v.as_i64() {
        Some(n) if n >= 0 => Some(n as u64),
        _ => None,
    };
    let na = |n: Option<u64>, f: fn(u64) -> String| n.map_or("N/A".to_string(), f);
    let decimal_size = |n: u64| decimal_size(n as f64);
    let shared = count(&i["SharedSize"]);
    let mut tags: Vec<(String, String)> = i["RepoTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str())
        .map(|t| {
            let (repo, tag) = t.rsplit_once(':').unwrap_or((t, "latest"));
            (repo.to_string(), tag.to_string())
        })
        .collect();
    if tags.is_empty() {
        tags.push(("<none>".into(), "<none>".into()));
    }
    // A row's digest: the one its repository was pulled or pushed by.
    let digest_of = |repo: &str| {
        i["RepoDigests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str())
            .find_map(|d| {
                d.split_once('@')
                    .filter(|(r, _)| *r == repo)
                    .map(|(_, d)| d.to_string())
            })
            .unwrap_or_else(|| "<none>".to_string())
    };
    tags.into_iter()
        .map(|(repo, tag)| {
            let digest = digest_of(&repo);
            row([
                ("Containers", na(count(&i["Containers"]), |n| n.to_string())),
                ("CreatedAt", go_time(created)),
                (
                    "CreatedSince",
                    format!(
                        "{} ago",
                        vessel_engine::container::human_duration(now - created)
                    ),
                ),
                ("Digest", digest),
                ("ID", id.to_string()),
                ("Repository", repo),
                ("SharedSize", na(shared, decimal_size)),
                ("Size", decimal_size(size)),
                ("Tag", tag),
                (
                    "UniqueSize",
                    na(shared.map(|s| size.saturating_sub(s)), decimal_size),
                ),
                ("VirtualSize", decimal_size(size)),
            ])
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image: `name[:tag]` or an id.
    source: String,
    /// The new reference, `name[:tag]`.
    target: String,
}

/// `tag`: another name for an image.
pub async fn tag(client: &Client, a: TagArgs) -> anyhow::Result<()> {
    let target = vessel_engine::image::normalize_reference(&a.target)?;
    let (repo, tag) = target
        .rsplit_once(':')
        .expect("a normalized reference has a tag");
    let path = format!(
        "/images/{}/tag?repo={}&tag={}",
        enc(&a.source),
        enc(repo),
        enc(tag)
    );
    client.call("POST", &path, None).await?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only image ids.
    #[arg(long, short)]
    quiet: bool,
    /// Full ids and commands.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Sizes in bytes and dates as RFC 3339 (`--human=false`).
    #[arg(long = "human", default_value_t = true, action = clap::ArgAction::Set)]
    human: bool,
    /// `table`, `table TEMPLATE`, `json`, or a TEMPLATE such as `{{.ID}}`.
    #[arg(long)]
    format: Option<String>,
    image: String,
}

/// `history`: how an image was made, newest first.
pub async fn history(client: &Client, a: HistoryArgs) -> anyhow::Result<()> {
    let format = match (a.quiet, a.format.as_deref()) {
        (true, _) => Some("{{.ID}}"),
        (false, f) => f,
    };
    let listing = Listing::parse(format, &HISTORY)?;
    let path = format!("/images/{}/history", enc(&a.image));
    let entries = client.json("GET", &path, None).await?;
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<Value> = entries
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            let id = h["Id"].as_str().unwrap_or("<missing>");
            let id = match a.no_trunc {
                true => id,
                false => vessel_engine::image::short_id(id),
            };
            let created = h["Created"].as_i64().unwrap_or(0);
            let by = h["CreatedBy"].as_str().unwrap_or("").to_string();
            let size = h["Size"].as_u64().unwrap_or(0);
            let ago = vessel_engine::container::human_duration(now - created);
            row([
                ("Comment", h["Comment"].as_str().unwrap_or("").to_string()),
                ("CreatedAt", go_time(created)),
                ("CreatedBy", if a.no_trunc { by } else { ellipsis(&by, 45) }),
                (
                    "CreatedSince",
                    if a.human {
                        format!("{ago} ago")
                    } else {
                        go_time(created)
                    },
                ),
                ("ID", id.to_string()),
                (
                    "Size",
                    if a.human {
                        decimal_size(size as f64)
                    } else {
                        size.to_string()
                    },
                ),
            ])
        })
        .collect();
    print!("{}", listing.print(&HISTORY, &rows));
    Ok(())
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Remove even if a container uses it.
    #[arg(long, short)]
    force: bool,
    #[arg(required = true)]
    images: Vec<String>,
}

pub async fn rmi(client: &Client, a: RmiArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for name in &a.images {
        let path = format!("/images/{}?force={}", enc(name), a.force as u8);
        match client.json("DELETE", &path, None).await {
            Ok(done) => {
                for d in done.as_array().into_iter().flatten() {
                    if let Some(obj) = d.as_object() {
                        for (k, v) in obj {
                            println!("{k}: {}", v.as_str().unwrap_or(""));
                        }
                    }
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    super::report(errors)
}
