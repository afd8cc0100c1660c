//! `login` and `logout`: credentials checked by the daemon with their
//! registry, then kept where `docker login` keeps them.

use std::io::Read;

use clap::Args;
use serde_json::{json, Value};

use super::registry::{config_key, docker_config, encode_base64};
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[arg(long, short)]
    username: Option<String>,
    #[arg(long, short)]
    password: Option<String>,
    /// Read the password from stdin.
    #[arg(long)]
    password_stdin: bool,
    /// The registry (Docker Hub when none).
    server: Option<String>,
}

pub async fn login(client: &Client, a: LoginArgs) -> anyhow::Result<()> {
    let username = a
        .username
        .clone()
        .ok_or_else(|| anyhow::anyhow!("give --username (Vessel does not prompt)"))?;
    let password = match (a.password.clone(), a.password_stdin) {
        (Some(_), true) => anyhow::bail!("--password and --password-stdin are mutually exclusive"),
        (Some(p), false) => p,
        (None, true) => {
            let mut p = String::new();
            std::io::stdin().read_to_string(&mut p)?;
            p.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => anyhow::bail!("give --password or --password-stdin"),
    };
    let key = config_key(a.server.as_deref());
    let body = json!({"username": username, "password": password, "serveraddress": key});
    let answer = client.json("POST", "/auth", Some(body)).await?;
    let path = docker_config().ok_or_else(|| anyhow::anyhow!("no HOME for the config file"))?;
    let mut config: Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({}));
    config["auths"][&key] =
        json!({"auth": encode_base64(format!("{username}:{password}").as_bytes())});
    write_config(&path, &config)?;
    println!("{}", answer["Status"].as_str().unwrap_or("Login Succeeded"));
    Ok(())
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    server: Option<String>,
}

pub async fn logout(a: LogoutArgs) -> anyhow::Result<()> {
    let key = config_key(a.server.as_deref());
    let path = docker_config().ok_or_else(|| anyhow::anyhow!("no HOME for the config file"))?;
    let mut config: Value = match std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(c) => c,
        None => {
            println!("Not logged in to {key}");
            return Ok(());
        }
    };
    let removed = config["auths"]
        .as_object_mut()
        .and_then(|a| a.remove(&key))
        .is_some();
    if !removed {
        println!("Not logged in to {key}");
        return Ok(());
    }
    write_config(&path, &config)?;
    println!("Removing login credentials for {key}");
    Ok(())
}

/// Writes the config file whole (beside, then renamed), readable by its
/// owner only: it holds passwords.
fn write_config(path: &std::path::Path, config: &Value) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .ok_or_else(|| anyhow::anyhow!("{}: no directory", path.display()))?;
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))?;
    std::fs::write(tmp.path(), serde_json::to_vec_pretty(config)?)?;
    tmp.persist(path)?;
    Ok(())
}
