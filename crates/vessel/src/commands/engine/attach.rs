//! Attaching to a process: `attach`, and the streams of `run`, `start
//! -a` and `exec` (output out, stdin in, the terminal's size, signals
//! passed on, and the detach keys that end an attach on a terminal).

use std::io::{Read, Write};

use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vessel_engine::api::detach;

use super::enc;
use crate::api_client::Client;
use crate::commands::runtime::stream::{terminal_size, RawTerminal};

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    /// Do not attach stdin.
    #[arg(long = "no-stdin")]
    no_stdin: bool,
    /// Pass the signals this command receives on to the container.
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set)]
    sig_proxy: bool,
    container: String,
}

/// `attach`: the running container's output (and stdin, when it keeps
/// one open) until it exits, then its exit code; or until the detach
/// keys, when it runs on.
pub async fn attach(client: &Client, a: AttachArgs) -> anyhow::Result<()> {
    let keys = DetachKeys::new(a.detach_keys.as_deref())?;
    let path = format!("/containers/{}", enc(&a.container));
    let info = client.json("GET", &format!("{path}/json"), None).await?;
    anyhow::ensure!(
        info["State"]["Running"] == true,
        "You cannot attach to a stopped container, start it first"
    );
    anyhow::ensure!(
        info["State"]["Paused"] != true,
        "You cannot attach to a paused container, unpause it first"
    );
    let tty = info["Config"]["Tty"] == true;
    let stdin = !a.no_stdin && info["Config"]["OpenStdin"] == true;
    super::run::check_tty(stdin, tty)?;
    let conn = client
        .upgrade(&format!(
            "{path}/attach?stream=1&stdout=1&stderr=1&stdin={}{}",
            stdin as u8,
            keys.query()
        ))
        .await?;
    if !tty && a.sig_proxy {
        forward_signals(client, format!("{path}/kill"));
    }
    let raw = if tty && stdin {
        RawTerminal::enter()
    } else {
        None
    };
    if tty {
        follow_terminal_size(client, format!("{path}/resize"));
    }
    let ended = pump(conn, stdin, tty, &keys).await?;
    drop(raw);
    if ended == Ended::Detached {
        return Ok(());
    }
    let answer = client.json("POST", &format!("{path}/wait"), None).await?;
    std::process::exit(answer["StatusCode"].as_i64().unwrap_or(-1) as i32);
}

/// The keys that end an attach: `--detach-keys`, or Docker's ctrl-p
/// ctrl-q.
#[derive(Debug, Clone)]
pub struct DetachKeys {
    /// As given, for the daemon.
    given: Option<String>,
    bytes: Vec<u8>,
}

impl DetachKeys {
    pub fn new(given: Option<&str>) -> anyhow::Result<Self> {
        let bytes = detach::parse_or_default(given)?;
        Ok(DetachKeys {
            given: given.map(String::from),
            bytes,
        })
    }

    /// As the daemon's query parameter (`&detachKeys=`), when given.
    pub fn query(&self) -> String {
        self.given
            .as_deref()
            .map(|k| format!("&detachKeys={}", enc(k)))
            .unwrap_or_default()
    }

    /// As an exec's `DetachKeys`, when given.
    pub fn given(&self) -> Option<&str> {
        self.given.as_deref()
    }
}

/// Attaches to `id`, starts it, copies its output (and our stdin when
/// `stdin`) until it ends, and returns its exit code; `None` if the user
/// typed the detach `keys` (the container runs on).
pub async fn attach_start_wait(
    client: &Client,
    id: &str,
    stdin: bool,
    tty: bool,
    removed: bool,
    keys: &DetachKeys,
) -> anyhow::Result<Option<i64>> {
    let attach = format!(
        "/containers/{}/attach?stream=1&stdout=1&stderr=1&stdin={}{}",
        enc(id),
        stdin as u8,
        keys.query()
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
        super::run::start_failed(&e);
    }
    let _raw = if tty && stdin {
        RawTerminal::enter()
    } else {
        None
    };
    if tty {
        follow_terminal_size(client, format!("/containers/{}/resize", enc(id)));
    }
    if pump(conn, stdin, tty, keys).await? == Ended::Detached {
        return Ok(None);
    }
    let answer = waiter.await??;
    if let Some(msg) = answer["Error"]["Message"].as_str() {
        anyhow::bail!("{msg}");
    }
    Ok(Some(answer["StatusCode"].as_i64().unwrap_or(-1)))
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

/// How a pumped stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The output ended.
    Output,
    /// The user typed the detach keys.
    Detached,
}

/// Copies a hijacked stream to our stdout/stderr (deframing it unless it
/// is a terminal's) and, with `stdin`, our stdin to it; returns when the
/// output ends or, on a terminal, when the user types the detach `keys`
/// (which are not sent).
pub async fn pump(
    conn: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    stdin: bool,
    tty: bool,
    keys: &DetachKeys,
) -> anyhow::Result<Ended> {
    let (rd, mut wr) = tokio::io::split(conn);
    let (detached, mut on_detach) = tokio::sync::oneshot::channel::<()>();
    if stdin {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
        // Docker's: only a terminal's input is watched for the keys.
        let mut watch = tty.then(|| detach::Watch::new(keys.bytes.clone()));
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut input = std::io::stdin().lock();
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let (typed, done) = match &mut watch {
                    Some(w) => w.feed(&buf[..n]),
                    None => (buf[..n].to_vec(), false),
                };
                if !typed.is_empty() && tx.blocking_send(typed).is_err() {
                    // The stream has ended: so does the output.
                    return;
                }
                if done {
                    let _ = detached.send(());
                    return;
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
    tokio::select! {
        copied = copy_output(rd, tty) => copied.map(|()| Ended::Output),
        Ok(()) = &mut on_detach => Ok(Ended::Detached),
    }
}

/// Copies the output to our stdout and stderr until it ends.
async fn copy_output(mut rd: impl tokio::io::AsyncRead + Unpin, tty: bool) -> anyhow::Result<()> {
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
