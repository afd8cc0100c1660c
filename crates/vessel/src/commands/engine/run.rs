//! `create` and `run`: the create request from docker-like flags, then
//! (for `run`) attach, start, and the exit code.

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use super::attach::{attach_start_wait, console_size, DetachKeys};
use super::enc;
use super::health::HealthFlags;
use super::limits::Limits;
use super::mounts::MountFlags;
use super::names::NameFlags;
use super::ports::NetworkFlags;
use super::process::ProcessFlags;
use super::security::SecurityFlags;
use crate::api_client::Client;

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Keep stdin open (and attach it, for `run`).
    #[arg(long, short)]
    interactive: bool,
    /// Give the container a terminal.
    #[arg(long, short)]
    tty: bool,
    /// The container's name.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    process: ProcessFlags,
    #[command(flatten)]
    mounts: MountFlags,
    #[command(flatten)]
    health: HealthFlags,
    /// A label: KEY=VALUE (or KEY, for an empty value).
    #[arg(long, short)]
    label: Vec<String>,
    #[arg(long)]
    hostname: Option<String>,
    #[command(flatten)]
    limits: Limits,
    #[command(flatten)]
    security: SecurityFlags,
    #[command(flatten)]
    names: NameFlags,
    /// Override the image's entrypoint.
    #[arg(long)]
    entrypoint: Option<String>,
    #[command(flatten)]
    net: NetworkFlags,
    /// Remove the container when it exits.
    #[arg(long)]
    rm: bool,
    /// Run an init inside the container that passes on signals and reaps
    /// processes.
    #[arg(long)]
    init: bool,
    /// The container's log: json-file, or none.
    #[arg(long = "log-driver", default_value = "json-file")]
    log_driver: String,
    /// A log driver option: `max-size=10m`, `max-file=3`.
    #[arg(long = "log-opt")]
    log_opt: Vec<String>,
    /// Pull the image first: `missing` (when not here), `always`, `never`.
    #[arg(long, default_value = "missing", value_parser = ["missing", "always", "never"])]
    pull: String,
    image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run in the background; print the container's id.
    #[arg(long, short)]
    detach: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    #[command(flatten)]
    create: CreateArgs,
}

fn body(a: &CreateArgs) -> anyhow::Result<Value> {
    let mut host = json!({
        "AutoRemove": a.rm,
        "LogConfig": {"Type": a.log_driver, "Config": super::pairs(&a.log_opt, "log-opt")?},
    });
    a.limits.apply(&mut host)?;
    a.security.apply(&mut host)?;
    a.names.apply(&mut host);
    if let Some(size) = console_size(a.tty) {
        host["ConsoleSize"] = json!(size);
    }
    if a.init {
        host["Init"] = json!(true);
    }
    let mut config = json!({
        "Image": a.image,
        "Tty": a.tty,
        "OpenStdin": a.interactive,
        "StdinOnce": a.interactive,
        "AttachStdin": a.interactive,
        "AttachStdout": true,
        "AttachStderr": true,
        "HostConfig": host,
    });
    if !a.command.is_empty() {
        config["Cmd"] = json!(a.command);
    }
    if let Some(e) = &a.entrypoint {
        config["Entrypoint"] = json!([e]);
    }
    a.process.apply(&mut config);
    a.mounts.apply(&mut config)?;
    a.health.apply(&mut config)?;
    a.net.apply(&mut config)?;
    if !a.label.is_empty() {
        let labels: serde_json::Map<String, Value> = a
            .label
            .iter()
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap_or((l, ""));
                (k.to_string(), json!(v))
            })
            .collect();
        config["Labels"] = Value::Object(labels);
    }
    if let Some(h) = &a.hostname {
        config["Hostname"] = json!(h);
    }
    Ok(config)
}

/// Creates the container; `detached` for a `run -d`, which attaches
/// nothing and whose stdin is not closed by an attach's end, as docker's.
async fn create_container(
    client: &Client,
    a: &CreateArgs,
    detached: bool,
) -> anyhow::Result<String> {
    let mut path = "/containers/create".to_string();
    if let Some(n) = &a.name {
        path.push_str(&format!("?name={}", enc(n)));
    }
    let mut body = body(a)?;
    if detached {
        for member in ["AttachStdin", "AttachStdout", "AttachStderr", "StdinOnce"] {
            body[member] = json!(false);
        }
    }
    if a.pull == "always" {
        super::registry::pull_image(
            client,
            &a.image,
            None,
            super::registry::Progress::new(std::io::stderr(), false),
        )
        .await?;
    }
    let answer = match client.json("POST", &path, Some(body.clone())).await {
        Err(e) if a.pull == "missing" && no_such_image(&e) => {
            super::registry::pull_missing(client, &a.image, None).await?;
            client.json("POST", &path, Some(body)).await?
        }
        other => other?,
    };
    for w in answer["Warnings"].as_array().into_iter().flatten() {
        eprintln!("WARNING: {}", w.as_str().unwrap_or_default());
    }
    answer["Id"]
        .as_str()
        .map(String::from)
        .context("the daemon's create answer has no Id")
}

/// Whether a create failed for want of its image.
fn no_such_image(e: &anyhow::Error) -> bool {
    e.downcast_ref::<crate::api_client::ApiError>()
        .is_some_and(|e| e.status == 404 && e.message.starts_with("No such image"))
}

pub async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<()> {
    println!("{}", create_container(client, &a, false).await?);
    Ok(())
}

pub async fn run(client: &Client, a: RunArgs) -> anyhow::Result<()> {
    check_tty(a.create.interactive && !a.detach, a.create.tty)?;
    // As docker's: any failure before the container runs exits 125.
    let id = match create_container(client, &a.create, a.detach).await {
        Ok(id) => id,
        Err(e) => start_failed(&e),
    };
    if a.detach {
        let start = format!("/containers/{}/start", enc(&id));
        if let Err(e) = client.call("POST", &start, None).await {
            start_failed(&e);
        }
        println!("{id}");
        return Ok(());
    }
    let c = &a.create;
    let keys = DetachKeys::new(a.detach_keys.as_deref())?;
    match attach_start_wait(client, &id, c.interactive, c.tty, c.rm, &keys).await? {
        Some(code) => std::process::exit(code as i32),
        // Detached: the container runs on.
        None => Ok(()),
    }
}

/// Refuses, as docker does, to copy a stdin that is no terminal into a
/// container's terminal: its input would be echoed back and its end never
/// reach the process (a terminal has no end of file).
pub fn check_tty(stdin: bool, tty: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    anyhow::ensure!(
        !(stdin && tty) || std::io::stdin().is_terminal(),
        "the input device is not a TTY"
    );
    Ok(())
}

/// Reports a failure to create or start a container and exits as docker
/// does: 127 for a command that is missing, 126 for one that cannot run,
/// 125 for any other.
pub(super) fn start_failed(e: &anyhow::Error) -> ! {
    eprintln!("vessel: {e:#}");
    let msg = e.to_string();
    let code = if msg.contains("not found or does not exist") {
        127
    } else if msg.contains("could not be invoked") {
        126
    } else {
        125
    };
    std::process::exit(code);
}
