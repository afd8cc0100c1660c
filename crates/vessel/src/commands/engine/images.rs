//! `import`, `images`, `rmi`.

use clap::Args;
use serde_json::Value;

use super::{enc, print_table};
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
    /// `json`: one JSON object per image.
    #[arg(long)]
    format: Option<String>,
}

pub async fn images(client: &Client, a: ImagesArgs) -> anyhow::Result<()> {
    let list = client.json("GET", "/images/json", None).await?;
    let list = list.as_array().cloned().unwrap_or_default();
    if a.format.as_deref() == Some("json") {
        for i in &list {
            println!("{i}");
        }
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let mut rows = Vec::new();
    for i in &list {
        let id = short(i["Id"].as_str().unwrap_or(""));
        if a.quiet {
            println!("{id}");
            continue;
        }
        let created = i["Created"].as_i64().unwrap_or(0);
        let age = format!(
            "{} ago",
            vessel_engine::container::human_duration(now - created)
        );
        let size = human_size(i["Size"].as_u64().unwrap_or(0));
        let tags: Vec<String> = i["RepoTags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if tags.is_empty() {
            rows.push(vec![
                "<none>".into(),
                "<none>".into(),
                id.to_string(),
                age.clone(),
                size.clone(),
            ]);
        }
        for t in tags {
            let (repo, tag) = t.rsplit_once(':').unwrap_or((&t, "latest"));
            rows.push(vec![
                repo.into(),
                tag.into(),
                id.to_string(),
                age.clone(),
                size.clone(),
            ]);
        }
    }
    if !a.quiet {
        print_table(&["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], &rows);
    }
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

pub fn short(id: &str) -> &str {
    let hex = id.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

/// `4.1MB`, as docker prints sizes (decimal units).
pub fn human_size(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < units.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n}B")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + units[u]
    }
}
