//! Hijacked streams: attach, and exec create and start.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use vessel_runtime::protocol::ConsoleSize;

use super::{blocking, off_runtime, read_json, read_value, stream_type, typed};
use crate::api::conn::Conn;
use crate::api::detach;
use crate::api::logs::{self, LogOptions};
use crate::api::models;
use crate::api::{empty, error, json, Call, Reply};
use crate::daemon::{Daemon, ExecOptions};
use crate::error::EngineError;
use bollard_stubs::models::ExecConfig;

/// `POST /containers/{id}/exec`: Docker's `ExecConfig`, checked as it
/// came (what Vessel does not carry out is refused by name).
pub(super) async fn exec_create(d: Arc<Daemon>, id: String, req: Request<Incoming>) -> Reply {
    let body = read_value(req).await.and_then(|raw| {
        models::check_exec(&models::non_default_json(&raw))?;
        typed::<ExecConfig>(raw)
    });
    let body = match body {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let tty = body.tty.unwrap_or(false);
    let console_size = match body.console_size.as_deref() {
        Some(&[height, width]) if tty => {
            let size = |n: i32, what: &str| {
                u16::try_from(n).map_err(|_| {
                    EngineError::InvalidParameter(format!(
                        "ConsoleSize: {what} {n} is out of range"
                    ))
                })
            };
            match (size(height, "height"), size(width, "width")) {
                (Ok(height), Ok(width)) => Some(ConsoleSize { height, width }),
                (Err(e), _) | (_, Err(e)) => return error(&e),
            }
        }
        _ => None,
    };
    let process = vessel_runtime::protocol::ProcessSpec {
        args: body.cmd.unwrap_or_default(),
        env: body.env.unwrap_or_default(),
        cwd: body.working_dir.filter(|w| !w.is_empty()),
        user: body.user.filter(|u| !u.is_empty()),
        terminal: tty,
        console_size,
        capabilities: None,
    };
    let detach_keys =
        detach::parse_or_default(body.detach_keys.as_deref().filter(|k| !k.is_empty()));
    let opts = ExecOptions {
        open_stdin: body.attach_stdin.unwrap_or(false),
        privileged: body.privileged.unwrap_or(false),
        detach_keys: match detach_keys {
            Ok(keys) => keys,
            Err(e) => return error(&e),
        },
    };
    blocking(move || {
        let exec_id = d.exec_create(&id, process, opts)?;
        Ok(json(StatusCode::CREATED, &json!({"Id": exec_id})))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ExecStartBody {
    detach: bool,
    /// Whether the stream is raw (a terminal's) or framed: the start's
    /// word, whatever the exec was created with, as dockerd does.
    tty: bool,
}

/// `POST /exec/{id}/start`: detached (200), or upgraded to the exec's
/// stream like attach.
pub(super) async fn exec_start(d: Arc<Daemon>, id: String, mut req: Request<Incoming>) -> Reply {
    let upgrade = hyper::upgrade::on(&mut req);
    let conn = req.extensions().get::<Conn>().cloned();
    let body: ExecStartBody = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let (detach, raw) = (body.detach, body.tty);
    let started = {
        let d = d.clone();
        let id = id.clone();
        off_runtime(move || {
            let info = d.exec_inspect(&id)?;
            d.exec_start(&id, detach)
                .map(|s| (s, info.open_stdin, info.tty, info.detach_keys))
        })
        .await
    };
    let (streams, stdin, tty, keys) = match started {
        Ok(s) => s,
        Err(e) => return error(&e),
    };
    let Some(streams) = streams else {
        return empty(StatusCode::OK);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = tx.send(streams);
    // The stream closes once the exit is recorded, so that a client
    // inspecting the exec right after reads its exit code.
    let after: After = Box::new(move || d.exec_wait(&id, std::time::Duration::from_secs(10)));
    let link = Link {
        conn,
        tty: raw,
        stdin,
        // An exec's stdin ends with its client's input, as Docker's does
        // (a terminal's has no end to pass on).
        closes_stdin: true,
        detach: (stdin && tty).then_some(keys),
        prelude: None,
        after: Some(after),
    };
    hijack(upgrade, rx, link)
}

/// Answers 101 and, once the client has switched, splices its connection
/// (`conn`, this side of it) to a process's streams (see [`splice`]).
fn hijack(
    upgrade: hyper::upgrade::OnUpgrade,
    streams: std::sync::mpsc::Receiver<crate::daemon::Streams>,
    link: Link,
) -> Reply {
    let tty = link.tty;
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => splice(hyper_util::rt::TokioIo::new(upgraded), streams, link).await,
            Err(e) => tracing::debug!(error = %e, "the connection was not upgraded"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", stream_type(tty))
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(
            http_body_util::Empty::<Bytes>::new()
                .map_err(|e| match e {})
                .boxed(),
        )
        .expect("a valid response")
}

/// `POST /containers/{id}/attach`: upgrades the connection to a raw
/// stream of the container's output (framed unless it has a terminal)
/// and its stdin.
pub(super) async fn attach(
    d: Arc<Daemon>,
    id: String,
    call: &Call,
    mut req: Request<Incoming>,
) -> Reply {
    let stdin = call.flag("stdin");
    let (logs, stream) = (call.flag("logs"), call.flag("stream"));
    let keys = match detach::parse_or_default(call.q("detachKeys").filter(|k| !k.is_empty())) {
        Ok(keys) => keys,
        Err(e) => return error(&e),
    };
    let (stdout, stderr) = (call.flag("stdout"), call.flag("stderr"));
    let (d2, id2) = (d.clone(), id.clone());
    let attached = off_runtime(move || {
        let (d, id) = (d2, id2);
        let (log, tty) = d.attach_log(&id)?;
        let prelude = log.filter(|_| logs).map(|path| {
            let o = LogOptions {
                stdout,
                stderr,
                follow: false,
                timestamps: false,
                details: false,
                since: None,
                until: None,
                tail: None,
                tty,
            };
            Box::new(move || logs::existing(&path, &o)) as Prelude
        });
        let (streams, closes_stdin) = match stream {
            true => {
                let a = d.attach(&id, stdin)?;
                (a.streams, a.closes_stdin)
            }
            // Nothing comes after the log: the channel's sender is gone.
            false => (std::sync::mpsc::channel().1, true),
        };
        Ok((streams, tty, prelude, closes_stdin))
    });
    let (streams, tty, prelude, closes_stdin) = match attached.await {
        Ok(a) => a,
        Err(e) => return error(&e),
    };
    let conn = req.extensions().get::<Conn>().cloned();
    let upgrade = hyper::upgrade::on(&mut req);
    // As Docker's: an attach ends once the container's exit is recorded,
    // so that a client acting on its end (a `rm` right after) finds the
    // container stopped.
    let after: After = Box::new(move || {
        let _ = d.wait(&id, crate::daemon::WaitCondition::NotRunning);
    });
    let link = Link {
        conn,
        tty,
        stdin: stdin && stream,
        closes_stdin,
        // Docker's: only a terminal's input is watched for the keys.
        detach: (stdin && stream && tty).then_some(keys),
        prelude,
        after: stream.then_some(after),
    };
    hijack(upgrade, streams, link)
}

/// Output to send before a process's streams (an attach's log).
type Prelude = Box<dyn FnOnce() -> Vec<Vec<u8>> + Send>;

/// How a switched connection is spliced to a process's streams.
struct Link {
    /// This side of the connection (see [`Conn::wait_read`]).
    conn: Option<Conn>,
    /// Raw (a terminal's) rather than framed.
    tty: bool,
    /// Whether the client's bytes go to the process's stdin.
    stdin: bool,
    /// Whether the end of the client's input closes the process's stdin
    /// (the output then goes on); else it ends the attach, the stdin left
    /// open (Docker's attach to a container without `StdinOnce`, or with
    /// a terminal).
    closes_stdin: bool,
    /// The keys that end the attach (see [`detach`]).
    detach: Option<Vec<u8>>,
    prelude: Option<Prelude>,
    /// Work to finish before the connection is closed.
    after: Option<After>,
}

/// Work to finish before a spliced stream is closed.
type After = Box<dyn FnOnce() + Send>;

/// Copies the shim's output to the client (unframed for a terminal) and
/// the client's bytes to the process's stdin; a client half-close is
/// stdin's end. Ends when the output ends, or when the client types its
/// detach keys. The first output waits until the client has read the
/// response's headers (see [`Conn::wait_read`]).
async fn splice(
    upgraded: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    streams: std::sync::mpsc::Receiver<crate::daemon::Streams>,
    link: Link,
) {
    let Link {
        conn,
        tty,
        stdin,
        closes_stdin,
        detach,
        prelude,
        after,
    } = link;
    use tokio::io::AsyncWriteExt;
    let (rd, mut wr) = tokio::io::split(upgraded);
    let (otx, mut orx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let (itx, irx) = std::sync::mpsc::channel::<Option<Vec<u8>>>();
    std::thread::spawn(move || {
        // The first bytes out wait until the client has read the
        // response's headers; by the time output comes, it mostly has.
        let mut headers_read = conn.is_none();
        let mut send = |chunk: Vec<u8>| {
            if !headers_read {
                if let Some(conn) = &conn {
                    conn.wait_read(Duration::from_secs(2));
                }
                headers_read = true;
            }
            otx.blocking_send(chunk).is_ok()
        };
        for chunk in prelude.map(|log| log()).unwrap_or_default() {
            if !send(chunk) {
                return;
            }
        }
        // The streams come once the container runs (or never: removed
        // first, or not asked for; the connection then just ends).
        let Ok((mut out, mut input)) = streams.recv() else {
            return;
        };
        std::thread::spawn(move || {
            use std::io::Write;
            if !stdin {
                let _ = input.shutdown(std::net::Shutdown::Write);
            }
            while let Ok(Some(chunk)) = irx.recv() {
                if input.write_all(&chunk).is_err() {
                    return;
                }
            }
            let _ = input.shutdown(std::net::Shutdown::Write);
        });
        let mut client_left = false;
        while let Ok(Some((stream, data))) = vessel_runtime::frame::read_frame(&mut out) {
            let chunk = if tty {
                data
            } else {
                vessel_runtime::frame::encode(stream, &data)
            };
            if !send(chunk) {
                client_left = true;
                break;
            }
        }
        // Only an output that ended waits for the process's end: a client
        // that left has no one to tell.
        if let Some(after) = after.filter(|_| !client_left) {
            after();
        }
    });
    // Told when the client typed the detach keys: its attach ends.
    let (detached, mut on_detach) = tokio::sync::oneshot::channel::<()>();
    let watch = detach.map(detach::Watch::new);
    let ends_attach = stdin && (tty || !closes_stdin);
    let reader = tokio::spawn(read_client(rd, itx, watch, ends_attach, detached));
    // Until the reader is done: then the channel is not polled again.
    let mut watching = true;
    loop {
        let chunk = tokio::select! {
            chunk = orx.recv() => chunk,
            told = &mut on_detach, if watching => {
                watching = false;
                match told {
                    Ok(()) => None,
                    // The client's input ended: the output goes on.
                    Err(_) => continue,
                }
            }
        };
        let Some(chunk) = chunk else { break };
        if wr.write_all(&chunk).await.is_err() {
            break;
        }
        let _ = wr.flush().await;
    }
    let _ = wr.shutdown().await;
    reader.abort();
}

/// Passes what the client sends on to `input` (`None`: its end) until
/// it ends, or types the detach keys `watch` looks for (then `detached`
/// is told, and the process's stdin is left as it is). With
/// `ends_attach`, the end of the client's input ends the attach the
/// same way.
async fn read_client(
    mut rd: impl tokio::io::AsyncRead + Unpin,
    input: std::sync::mpsc::Sender<Option<Vec<u8>>>,
    mut watch: Option<detach::Watch>,
    ends_attach: bool,
    detached: tokio::sync::oneshot::Sender<()>,
) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) if ends_attach => {
                let _ = detached.send(());
                return;
            }
            Ok(0) | Err(_) => {
                let _ = input.send(None);
                return;
            }
            Ok(n) => n,
        };
        let (typed, done) = match &mut watch {
            Some(w) => w.feed(&buf[..n]),
            None => (buf[..n].to_vec(), false),
        };
        if !typed.is_empty() && input.send(Some(typed)).is_err() {
            return;
        }
        if done {
            let _ = detached.send(());
            return;
        }
    }
}

/// `GET /exec/{id}/json`.
pub(super) async fn exec_inspect(d: Arc<Daemon>, id: String) -> Reply {
    blocking(move || Ok(json(StatusCode::OK, &d.exec_inspect(&id)?))).await
}

/// `POST /containers/{id}/resize` and `POST /exec/{id}/resize`: the
/// terminal of a container's first process, or of an exec.
pub(super) async fn resize(
    d: Arc<Daemon>,
    container: Option<&str>,
    exec: Option<&str>,
    call: &Call,
) -> Reply {
    let (w, h) = match (call.number("w"), call.number("h")) {
        (Ok(w), Ok(h)) => (w.unwrap_or(0), h.unwrap_or(0)),
        (Err(e), _) | (_, Err(e)) => return error(&e),
    };
    let (container, exec) = (container.map(String::from), exec.map(String::from));
    blocking(move || {
        d.resize(container.as_deref(), exec.as_deref(), w, h)
            .map(|()| empty(StatusCode::OK))
    })
    .await
}
