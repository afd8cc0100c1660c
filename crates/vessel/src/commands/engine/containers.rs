//! Commands that act on existing containers by name: `start`, `stop`,
//! `restart`, `kill`, `pause`, `unpause`, `rm`, `wait`, `rename`.

use clap::Args;

use super::{enc, report};
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach to the output and wait for the exit (one container).
    #[arg(long, short)]
    attach: bool,
    /// Attach stdin too.
    #[arg(long, short)]
    interactive: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

pub async fn start(client: &Client, a: StartArgs) -> anyhow::Result<()> {
    if a.attach || a.interactive {
        anyhow::ensure!(
            a.containers.len() == 1,
            "you cannot start and attach multiple containers at once"
        );
        let keys = super::attach::DetachKeys::new(a.detach_keys.as_deref())?;
        let name = &a.containers[0];
        let info = client
            .json("GET", &format!("/containers/{}/json", enc(name)), None)
            .await?;
        let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
        let stdin = a.interactive && info["Config"]["OpenStdin"] == true;
        super::run::check_tty(stdin, tty)?;
        let run = super::attach::attach_start_wait(client, name, stdin, tty, false, &keys);
        match run.await? {
            Some(code) => std::process::exit(code as i32),
            None => return Ok(()),
        }
    }
    let mut errors = Vec::new();
    for c in &a.containers {
        match client
            .call("POST", &format!("/containers/{}/start", enc(c)), None)
            .await
        {
            Ok(_) => println!("{c}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report(errors)
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing.
    #[arg(long, short)]
    time: Option<i64>,
    /// The signal to stop with.
    #[arg(long, short)]
    signal: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

pub async fn stop(client: &Client, a: StopArgs, verb: &str) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for c in &a.containers {
        let mut path = format!("/containers/{}/{verb}?", enc(c));
        if let Some(t) = a.time {
            path.push_str(&format!("t={t}&"));
        }
        if let Some(s) = &a.signal {
            path.push_str(&format!("signal={}", enc(s)));
        }
        match client.call("POST", &path, None).await {
            Ok(_) => println!("{c}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report(errors)
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal (name or number).
    #[arg(long, short, default_value = "KILL")]
    signal: String,
    #[arg(required = true)]
    containers: Vec<String>,
}

pub async fn kill(client: &Client, a: KillArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for c in &a.containers {
        let path = format!("/containers/{}/kill?signal={}", enc(c), enc(&a.signal));
        match client.call("POST", &path, None).await {
            Ok(_) => println!("{c}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report(errors)
}

pub async fn simple(client: &Client, a: NamesArgs, verb: &str) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for c in &a.containers {
        match client
            .call("POST", &format!("/containers/{}/{verb}", enc(c)), None)
            .await
        {
            Ok(_) => println!("{c}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report(errors)
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Kill a running container first.
    #[arg(long, short)]
    force: bool,
    /// Remove the container's anonymous volumes too.
    #[arg(long, short)]
    volumes: bool,
    #[arg(required = true)]
    containers: Vec<String>,
}

pub async fn rm(client: &Client, a: RmArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for c in &a.containers {
        let path = format!(
            "/containers/{}?force={}&v={}",
            enc(c),
            a.force as u8,
            a.volumes as u8
        );
        match client.call("DELETE", &path, None).await {
            Ok(_) => println!("{c}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report(errors)
}

pub async fn wait(client: &Client, a: NamesArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for c in &a.containers {
        match client
            .json("POST", &format!("/containers/{}/wait", enc(c)), None)
            .await
        {
            Ok(v) => println!("{}", v["StatusCode"]),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report(errors)
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    container: String,
    new_name: String,
}

pub async fn rename(client: &Client, a: RenameArgs) -> anyhow::Result<()> {
    client
        .call(
            "POST",
            &format!(
                "/containers/{}/rename?name={}",
                enc(&a.container),
                enc(&a.new_name)
            ),
            None,
        )
        .await?;
    Ok(())
}
