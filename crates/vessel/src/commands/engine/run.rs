//! `create` and `run`: the create request from docker-like flags, then
//! (for `run`) attach, start, and the exit code.

use std::io::{Read, Write};

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::enc;
use super::limits::Limits;
use super::names::NameFlags;
use super::process::ProcessFlags;
use super::security::SecurityFlags;
use crate::api_client::Client;
use crate::commands::runtime::stream::{terminal_size, RawTerminal};

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
    /// Bind mount: /host:/container[:ro|rw].
    #[arg(long = "volume", short = 'v')]
    volumes: Vec<String>,
    /// A tmpfs mount: /container[:OPTIONS].
    #[arg(long)]
    tmpfs: Vec<String>,
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
    /// `none` (own network namespace, loopback only) or `host`.
    #[arg(long, default_value = "none")]
    network: String,
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
    image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run in the background; print the container's id.
    #[arg(long, short)]
    detach: bool,
    #[command(flatten)]
    create: CreateArgs,
}

fn body(a: &CreateArgs) -> anyhow::Result<Value> {
    let mut host = json!({
        "NetworkMode": a.network,
        "AutoRemove": a.rm,
        "Binds": a.volumes,
        "LogConfig": {"Type": a.log_driver, "Config": {}},
    });
    a.limits.apply(&mut host)?;
    a.security.apply(&mut host)?;
    a.names.apply(&mut host);
    if !a.tmpfs.is_empty() {
        let mounts: serde_json::Map<String, Value> = a
            .tmpfs
            .iter()
            .map(|t| {
                let (dest, opts) = t.split_once(':').unwrap_or((t, ""));
                (dest.to_string(), json!(opts))
            })
            .collect();
        host["Tmpfs"] = Value::Object(mounts);
    }
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

async fn create_container(client: &Client, a: &CreateArgs) -> anyhow::Result<String> {
    let mut path = "/containers/create".to_string();
    if let Some(n) = &a.name {
        path.push_str(&format!("?name={}", enc(n)));
    }
    let answer = client.json("POST", &path, Some(body(a)?)).await?;
    for w in answer["Warnings"].as_array().into_iter().flatten() {
        eprintln!("WARNING: {}", w.as_str().unwrap_or_default());
    }
    answer["Id"]
        .as_str()
        .map(String::from)
        .context("the daemon's create answer has no Id")
}

pub async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<()> {
    println!("{}", create_container(client, &a).await?);
    Ok(())
}

pub async fn run(client: &Client, a: RunArgs) -> anyhow::Result<()> {
    check_tty(a.create.interactive && !a.detach, a.create.tty)?;
    // As docker's: any failure before the container runs exits 125.
    let id = match create_container(client, &a.create).await {
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
    let code = attach_start_wait(client, &id, c.interactive, c.tty, c.rm).await?;
    std::process::exit(code as i32);
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
fn start_failed(e: &anyhow::Error) -> ! {
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

/// Attaches to `id`, starts it, copies its output (and our stdin when
/// `stdin`) until it ends, and returns its exit code.
pub async fn attach_start_wait(
    client: &Client,
    id: &str,
    stdin: bool,
    tty: bool,
    removed: bool,
) -> anyhow::Result<i64> {
    let attach = format!(
        "/containers/{}/attach?stream=1&stdout=1&stderr=1&stdin={}",
        enc(id),
        stdin as u8
    );
    let condition = if removed { "removed" } else { "next-exit" };
    let wait = format!("/containers/{}/wait?condition={condition}", enc(id));
    // Both are in place before the start (the daemon has answered each),
    // so no output and no exit can be missed; they are asked side by side.
    let (conn, waiter) =
        tokio::try_join!(client.upgrade(&attach), client.pending_json("POST", &wait))?;
    // In place before the start, so that no signal sent once the
    // container runs is missed (one before reaches a container not yet
    // started, and is lost, as with docker).
    if !tty {
        forward_signals(client, format!("/containers/{}/kill", enc(id)));
    }
    if let Err(e) = client
        .call("POST", &format!("/containers/{}/start", enc(id)), None)
        .await
    {
        start_failed(&e);
    }
    let _raw = if tty && stdin {
        RawTerminal::enter()
    } else {
        None
    };
    if tty {
        follow_terminal_size(client, format!("/containers/{}/resize", enc(id)));
    }
    pump(conn, stdin, tty).await?;
    let answer = waiter.await??;
    if let Some(msg) = answer["Error"]["Message"].as_str() {
        anyhow::bail!("{msg}");
    }
    Ok(answer["StatusCode"].as_i64().unwrap_or(-1))
}

/// Passes the signals a user sends to this command (Ctrl-C, `kill`) on to
/// the container's first process with `POST {path}?signal=N`, as docker's
/// `--sig-proxy` does for a container without a terminal (with one, the
/// terminal itself sends them). This command then ends when the
/// container does.
pub fn forward_signals(client: &Client, path: String) {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
        SignalKind::terminate(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
    ];
    for kind in kinds {
        let Ok(mut arrivals) = signal(kind) else {
            continue;
        };
        let (client, path) = (client.clone(), path.clone());
        tokio::spawn(async move {
            while arrivals.recv().await.is_some() {
                // A container that has just exited cannot be signalled;
                // its exit ends this command anyway.
                let _ = client
                    .call(
                        "POST",
                        &format!("{path}?signal={}", kind.as_raw_value()),
                        None,
                    )
                    .await;
            }
        });
    }
}

/// Keeps the remote terminal's size ours after it started with it (the
/// `ConsoleSize` of create): each time our window changes (SIGWINCH), the
/// new size goes to `POST {path}?h=&w=`, for as long as the command runs.
/// Nothing is done when stdout is no terminal.
pub fn follow_terminal_size(client: &Client, path: String) {
    use tokio::signal::unix::{signal, SignalKind};
    if terminal_size().is_none() {
        return;
    }
    let Ok(mut changes) = signal(SignalKind::window_change()) else {
        return;
    };
    let client = client.clone();
    tokio::spawn(async move {
        while changes.recv().await.is_some() {
            if let Some((w, h)) = terminal_size() {
                // A process that has just exited has no terminal left to
                // resize; that is no error of the command's.
                let _ = client
                    .call("POST", &format!("{path}?h={h}&w={w}"), None)
                    .await;
            }
        }
    });
}

/// `[height, width]` of our terminal, for a create's or an exec's
/// `ConsoleSize`, when a terminal is asked for and stdout is one.
pub fn console_size(tty: bool) -> Option<[u16; 2]> {
    terminal_size()
        .filter(|_| tty)
        .map(|(width, height)| [height, width])
}

/// Copies a hijacked stream to our stdout/stderr (deframing it unless it
/// is a terminal's) and, with `stdin`, our stdin to it; returns when the
/// output ends.
pub async fn pump(
    conn: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    stdin: bool,
    tty: bool,
) -> anyhow::Result<()> {
    let (mut rd, mut wr) = tokio::io::split(conn);
    if stdin {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut input = std::io::stdin().lock();
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 || tx.blocking_send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            while let Some(chunk) = rx.recv().await {
                if wr.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            let _ = wr.shutdown().await;
        });
    } else {
        let _ = wr.shutdown().await;
    }
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    if tty {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.write_all(&buf[..n])?;
                    out.flush()?;
                }
            }
        }
    } else {
        let mut header = [0u8; 8];
        while rd.read_exact(&mut header).await.is_ok() {
            let (stream, len) = vessel_runtime::frame::decode_header(&header);
            let mut data = vec![0u8; len];
            if rd.read_exact(&mut data).await.is_err() {
                break;
            }
            if stream == vessel_runtime::frame::STDERR {
                err.write_all(&data)?;
                err.flush()?;
            } else {
                out.write_all(&data)?;
                out.flush()?;
            }
        }
    }
    Ok(())
}
