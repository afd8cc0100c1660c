//! One handler per endpoint. Each parses its request, runs the engine off
//! the async runtime, and shapes the answer as the Docker API does.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{channel, BodyReader};
use super::logs::{self, LogOptions};
use super::{empty, error, full, json, Call, Reply, API_VERSION, MIN_API_VERSION};
use crate::container::{Config, Container, HostConfig};
use crate::daemon::{Daemon, WaitCondition};
use crate::error::{EngineError, Result};
use crate::image::ImageConfig;

/// Runs blocking engine work and turns its result into a reply.
async fn blocking(f: impl FnOnce() -> Result<Reply> + Send + 'static) -> Reply {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => error(&e),
        Err(e) => error(&EngineError::Internal(format!("a handler failed: {e}"))),
    }
}

pub async fn handle(d: Arc<Daemon>, call: Call, req: Request<Incoming>) -> Reply {
    let segs: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (&call.method, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => ping(),
        (&Method::GET, ["version"]) => version(),
        (&Method::GET, ["info"]) => info(d).await,
        (&Method::GET, ["events"]) => events(d, &call),

        (&Method::POST, ["images", "create"]) => import(d, &call, req).await,
        (&Method::GET, ["images", "json"]) => images(d).await,
        (&Method::GET, ["images", name, "json"]) => image_inspect(d, name.to_string()).await,
        (&Method::DELETE, ["images", name]) => {
            let (name, force) = (name.to_string(), call.flag("force"));
            blocking(move || {
                let done = d.remove_image(&name, force)?;
                let out: Vec<Value> = done.into_iter().map(|(k, v)| json!({ k: v })).collect();
                Ok(json(StatusCode::OK, &out))
            })
            .await
        }

        (&Method::POST, ["containers", "create"]) => create(d, &call, req).await,
        (&Method::GET, ["containers", "json"]) => {
            let all = call.flag("all");
            blocking(move || Ok(json(StatusCode::OK, &list(&d, all)))).await
        }
        (&Method::GET, ["containers", id, "json"]) => {
            let id = id.to_string();
            blocking(move || Ok(json(StatusCode::OK, &inspect(&d.inspect(&id)?)))).await
        }
        (&Method::POST, ["containers", id, "start"]) => {
            let id = id.to_string();
            blocking(move || d.start(&id).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::POST, ["containers", id, "stop"]) => {
            let id = id.to_string();
            let t = call.q("t").and_then(|t| t.parse().ok());
            let sig = call.q("signal").map(String::from);
            blocking(move || {
                d.stop(&id, t, sig.as_deref())
                    .map(|()| empty(StatusCode::NO_CONTENT))
            })
            .await
        }
        (&Method::POST, ["containers", id, "restart"]) => {
            let id = id.to_string();
            let t = call.q("t").and_then(|t| t.parse().ok());
            blocking(move || {
                match d.stop(&id, t, None) {
                    Ok(()) | Err(EngineError::NotModified(_)) => {}
                    Err(e) => return Err(e),
                }
                d.start(&id).map(|()| empty(StatusCode::NO_CONTENT))
            })
            .await
        }
        (&Method::POST, ["containers", id, "kill"]) => {
            let id = id.to_string();
            let sig = call.q("signal").map(String::from);
            blocking(move || {
                d.kill(&id, sig.as_deref())
                    .map(|()| empty(StatusCode::NO_CONTENT))
            })
            .await
        }
        (&Method::POST, ["containers", id, "pause"]) => {
            let id = id.to_string();
            blocking(move || d.pause(&id).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::POST, ["containers", id, "unpause"]) => {
            let id = id.to_string();
            blocking(move || d.unpause(&id).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::DELETE, ["containers", id]) => {
            let (id, force) = (id.to_string(), call.flag("force"));
            blocking(move || d.remove(&id, force).map(|()| empty(StatusCode::NO_CONTENT))).await
        }
        (&Method::POST, ["containers", id, "wait"]) => wait(d, id.to_string(), &call).await,
        (&Method::GET, ["containers", id, "logs"]) => {
            container_logs(d, id.to_string(), &call).await
        }
        (&Method::POST, ["containers", id, "attach"]) => {
            attach(d, id.to_string(), &call, req).await
        }
        (&Method::POST, ["containers", id, "exec"]) => exec_create(d, id.to_string(), req).await,
        (&Method::POST, ["exec", id, "start"]) => exec_start(d, id.to_string(), req).await,
        (&Method::GET, ["exec", id, "json"]) => {
            let id = id.to_string();
            blocking(move || Ok(json(StatusCode::OK, &d.exec_inspect(&id)?))).await
        }
        (&Method::POST, ["containers", id, "resize"]) | (&Method::POST, ["exec", id, "resize"]) => {
            let is_exec = segs[0] == "exec";
            let id = id.to_string();
            let w = call.q("w").and_then(|v| v.parse().ok()).unwrap_or(0);
            let h = call.q("h").and_then(|v| v.parse().ok()).unwrap_or(0);
            blocking(move || {
                let (name, exec) = if is_exec {
                    (None, Some(id.as_str()))
                } else {
                    (Some(id.as_str()), None)
                };
                d.resize(name, exec, w, h).map(|()| empty(StatusCode::OK))
            })
            .await
        }
        _ => error(&EngineError::NotFound(format!(
            "page not found: {} /{}",
            call.method,
            call.segments.join("/")
        ))),
    }
}

fn ping() -> Reply {
    let mut r = full(StatusCode::OK, "text/plain; charset=utf-8", "OK");
    let h = r.headers_mut();
    h.insert(
        "Docker-Experimental",
        "false".parse().expect("a valid header"),
    );
    h.insert("Swarm", "inactive".parse().expect("a valid header"));
    h.insert(
        "Cache-Control",
        "no-cache, no-store, must-revalidate"
            .parse()
            .expect("a valid header"),
    );
    h.insert("Pragma", "no-cache".parse().expect("a valid header"));
    r
}

fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn version() -> Reply {
    let v = env!("CARGO_PKG_VERSION");
    json(
        StatusCode::OK,
        &json!({
            "Platform": {"Name": "Vessel"},
            "Components": [{"Name": "Engine", "Version": v, "Details": {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Os": "linux", "Arch": arch()}}],
            "Version": v,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "Os": "linux",
            "Arch": arch(),
            "KernelVersion": kernel_version(),
        }),
    )
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

async fn info(d: Arc<Daemon>) -> Reply {
    blocking(move || {
        let all = d.list(true);
        let running = all
            .iter()
            .filter(|c| c.state.running && !c.state.paused)
            .count();
        let paused = all.iter().filter(|c| c.state.paused).count();
        let images = d.images.list()?.len();
        Ok(json(
            StatusCode::OK,
            &json!({
                "ID": "vessel",
                "Containers": all.len(),
                "ContainersRunning": running,
                "ContainersPaused": paused,
                "ContainersStopped": all.len() - running - paused,
                "Images": images,
                "Driver": "overlay",
                "LoggingDriver": "json-file",
                "CgroupDriver": "cgroupfs",
                "KernelVersion": kernel_version(),
                "OperatingSystem": "linux",
                "OSType": "linux",
                "Architecture": std::env::consts::ARCH,
                "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
                "DockerRootDir": d.paths.root.display().to_string(),
                "ServerVersion": env!("CARGO_PKG_VERSION"),
                "Name": "vessel",
            }),
        ))
    })
    .await
}

/// `POST /images/create?fromSrc=-`: import the request body.
async fn import(d: Arc<Daemon>, call: &Call, req: Request<Incoming>) -> Reply {
    if call.q("fromSrc") != Some("-") {
        return error(&EngineError::NotSupported(
            "pulling images is not supported yet: import a tarball (fromSrc=-)".into(),
        ));
    }
    let reference = match (call.q("repo").filter(|r| !r.is_empty()), call.q("tag")) {
        (Some(r), Some(t)) if !t.is_empty() => Some(format!("{r}:{t}")),
        (Some(r), _) => Some(r.to_string()),
        _ => None,
    };
    let comment = call.q("message").unwrap_or_default().to_string();
    let changes: Vec<String> = call
        .query
        .iter()
        .filter(|(k, _)| k.as_str() == "changes")
        .map(|(_, v)| v.clone())
        .collect();
    let config = match parse_changes(&changes) {
        Ok(c) => c,
        Err(e) => return error(&e),
    };
    let reader = BodyReader::new(req.into_body());
    blocking(move || {
        let id = d.import(reader, reference.as_deref(), config, &comment)?;
        Ok(full(
            StatusCode::OK,
            "application/json",
            format!("{}\r\n", json!({"status": id})),
        ))
    })
    .await
}

/// `--change` instructions of an import (`ENV`, `CMD`, `ENTRYPOINT`,
/// `WORKDIR`, `USER`).
fn parse_changes(changes: &[String]) -> Result<ImageConfig> {
    let mut config = ImageConfig::default();
    for change in changes {
        let (instr, arg) = change.trim().split_once(' ').unwrap_or((change.trim(), ""));
        let arg = arg.trim();
        let list = |arg: &str| -> Vec<String> {
            serde_json::from_str::<Vec<String>>(arg)
                .unwrap_or_else(|_| vec!["/bin/sh".into(), "-c".into(), arg.into()])
        };
        match instr.to_ascii_uppercase().as_str() {
            "ENV" => config.env.push(match arg.split_once(['=', ' ']) {
                Some((k, v)) => format!("{k}={}", v.trim()),
                None => arg.to_string(),
            }),
            "CMD" => config.cmd = Some(list(arg)),
            "ENTRYPOINT" => config.entrypoint = Some(list(arg)),
            "WORKDIR" => config.working_dir = arg.to_string(),
            "USER" => config.user = arg.to_string(),
            other => {
                return Err(EngineError::InvalidParameter(format!(
                    "changes: {other} is not a supported instruction (ENV, CMD, ENTRYPOINT, WORKDIR, USER)"
                )))
            }
        }
    }
    Ok(config)
}

async fn images(d: Arc<Daemon>) -> Reply {
    blocking(move || {
        let list: Vec<Value> = d
            .images
            .list()?
            .into_iter()
            .map(|(image, tags)| {
                let created = chrono::DateTime::parse_from_rfc3339(&image.created)
                    .map(|t| t.timestamp())
                    .unwrap_or(0);
                let containers = d.list(true).iter().filter(|c| c.image == image.id).count();
                json!({
                    "Id": image.id,
                    "ParentId": "",
                    "RepoTags": tags,
                    "RepoDigests": [],
                    "Created": created,
                    "Size": image.size,
                    "SharedSize": -1,
                    "Labels": {},
                    "Containers": containers,
                })
            })
            .collect();
        Ok(json(StatusCode::OK, &list))
    })
    .await
}

async fn image_inspect(d: Arc<Daemon>, name: String) -> Reply {
    blocking(move || {
        let image = d.images.resolve(&name)?;
        let tags: Vec<String> = d
            .images
            .list()?
            .into_iter()
            .find(|(i, _)| i.id == image.id)
            .map(|(_, t)| t)
            .unwrap_or_default();
        Ok(json(
            StatusCode::OK,
            &json!({
                "Id": image.id,
                "RepoTags": tags,
                "Created": image.created,
                "Comment": image.comment,
                "Size": image.size,
                "Os": "linux",
                "Architecture": arch(),
                "Config": image.config,
                "RootFS": {"Type": "layers", "Layers": image.layers},
            }),
        ))
    })
    .await
}

/// The body of `POST /containers/create`: Config with HostConfig inside.
#[derive(Debug, Deserialize)]
struct CreateBody {
    #[serde(flatten)]
    config: Config,
    #[serde(rename = "HostConfig", default)]
    host_config: HostConfig,
}

async fn read_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Result<T> {
    let bytes = req
        .into_body()
        .collect()
        .await
        .map_err(|e| EngineError::InvalidParameter(format!("reading the request: {e}")))?
        .to_bytes();
    let mut value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| EngineError::InvalidParameter(format!("the request body is not JSON: {e}")))?;
    // Docker's clients send `null` for empty lists and maps.
    drop_nulls(&mut value);
    serde_path_to_error::deserialize(value)
        .map_err(|e| EngineError::InvalidParameter(format!("{}: {}", e.path(), e.inner())))
}

/// Removes `null` members, recursively, so that they read as defaults.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

async fn create(d: Arc<Daemon>, call: &Call, req: Request<Incoming>) -> Reply {
    let body: CreateBody = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let name = call.q("name").map(String::from);
    blocking(move || {
        let (id, warnings) = d.create(name.as_deref(), body.config, body.host_config)?;
        Ok(json(
            StatusCode::CREATED,
            &json!({"Id": id, "Warnings": warnings}),
        ))
    })
    .await
}

fn list(d: &Daemon, all: bool) -> Vec<Value> {
    let now = chrono::Utc::now();
    d.list(all)
        .into_iter()
        .map(|c| {
            let created = chrono::DateTime::parse_from_rfc3339(&c.created)
                .map(|t| t.timestamp())
                .unwrap_or(0);
            let command = std::iter::once(c.path.clone())
                .chain(c.args.iter().cloned())
                .collect::<Vec<_>>()
                .join(" ");
            json!({
                "Id": c.id,
                "Names": [c.name],
                "Image": c.config.image,
                "ImageID": c.image,
                "Command": command,
                "Created": created,
                "State": c.state.status,
                "Status": c.state.describe(now),
                "Ports": [],
                "Labels": c.config.labels,
                "HostConfig": {"NetworkMode": c.host_config.network_mode},
                "Mounts": [],
            })
        })
        .collect()
}

fn inspect(c: &Container) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["Driver"] = json!("overlay");
    v["Platform"] = json!("linux");
    v["LogPath"] = json!(c.log_path);
    v["Mounts"] = json!([]);
    v["NetworkSettings"] = json!({"Networks": {}});
    v["Config"]["Image"] = json!(c.config.image);
    if v["HostConfig"]["NetworkMode"] == "" {
        v["HostConfig"]["NetworkMode"] = json!("none");
    }
    v
}

async fn wait(d: Arc<Daemon>, id: String, call: &Call) -> Reply {
    let condition = match call.q("condition").unwrap_or("not-running") {
        "" | "not-running" => WaitCondition::NotRunning,
        "next-exit" => WaitCondition::NextExit,
        "removed" => WaitCondition::Removed,
        other => {
            return error(&EngineError::InvalidParameter(format!(
                "condition: {other:?} is not not-running, next-exit or removed"
            )))
        }
    };
    // The container must exist now; the answer's headers go at once, its
    // body when the condition is met.
    let waiter = {
        let d = d.clone();
        match tokio::task::spawn_blocking(move || d.prepare_wait(&id))
            .await
            .unwrap_or_else(|e| Err(EngineError::Internal(e.to_string())))
        {
            Ok(w) => w,
            Err(e) => return error(&e),
        }
    };
    let (tx, body) = channel();
    // A thread of its own: waits may last for ever and must not hold one
    // of the runtime's blocking threads.
    std::thread::spawn(move || {
        let answer = match waiter.wait(&d, condition) {
            Ok(code) => json!({"StatusCode": code, "Error": null}),
            Err(e) => json!({"StatusCode": -1, "Error": {"Message": e.to_string()}}),
        };
        tx.send(format!("{answer}\n"));
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(body.boxed())
        .expect("a valid response")
}

async fn container_logs(d: Arc<Daemon>, id: String, call: &Call) -> Reply {
    let (running, path, tty) = {
        let d = d.clone();
        match tokio::task::spawn_blocking(move || d.log_source(&id)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return error(&e),
            Err(e) => return error(&EngineError::Internal(e.to_string())),
        }
    };
    let opts = LogOptions {
        stdout: call.flag("stdout"),
        stderr: call.flag("stderr"),
        follow: call.flag("follow"),
        timestamps: call.flag("timestamps"),
        since: call
            .q("since")
            .and_then(logs::parse_time)
            .filter(|t| *t > 0),
        until: call
            .q("until")
            .and_then(logs::parse_time)
            .filter(|t| *t > 0),
        tail: call.q("tail").and_then(|t| t.parse().ok()),
        tty,
    };
    if !opts.stdout && !opts.stderr {
        return error(&EngineError::InvalidParameter(
            "you must choose at least one stream (stdout or stderr)".into(),
        ));
    }
    let (tx, body) = channel();
    // Its own thread: a follow lasts as long as the container runs.
    std::thread::spawn(move || logs::stream(&path, &opts, running, &tx));
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", content_type)
        .body(body.boxed())
        .expect("a valid response")
}

/// `GET /events`: past events from `since`, then live ones until `until`
/// (or the client leaves).
fn events(d: Arc<Daemon>, call: &Call) -> Reply {
    let since = call.q("since").and_then(logs::parse_time);
    let until = call.q("until").and_then(logs::parse_time);
    let filters = match call.q("filters").map(parse_filters).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return error(&e),
    };
    let (tx, body) = channel();
    std::thread::spawn(move || {
        let (past, live) = d.events.subscribe(since.or(Some(i64::MAX)));
        let wanted = |e: &crate::events::Event| {
            filters.iter().all(|(key, values)| {
                let got: Vec<&str> = match key.as_str() {
                    "type" => vec![e.kind.as_str()],
                    "event" | "action" => vec![e.action.as_str()],
                    "container" if e.kind != "container" => return false,
                    "container" => vec![
                        e.actor.id.as_str(),
                        e.actor.attributes.get("name").map_or("", |s| s),
                    ],
                    "image" => vec![e.actor.attributes.get("image").map_or("", |s| s)],
                    _ => return true,
                };
                values.iter().any(|v| {
                    got.iter().any(|g| {
                        !g.is_empty()
                            && (g == v || (key == "container" && g.starts_with(v.as_str())))
                    })
                })
            })
        };
        let emit = |e: &crate::events::Event| -> bool {
            if !wanted(e) {
                return true;
            }
            tx.send(format!(
                "{}\n",
                serde_json::to_string(e).unwrap_or_default()
            ))
        };
        for e in &past {
            if until.is_some_and(|u| e.time_nano > u) {
                return;
            }
            if !emit(e) {
                return;
            }
        }
        loop {
            let timeout = match until {
                Some(u) => {
                    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
                    if now >= u {
                        return;
                    }
                    std::time::Duration::from_nanos((u - now) as u64)
                }
                None => std::time::Duration::from_secs(1),
            };
            match live.recv_timeout(timeout) {
                Ok(e) => {
                    if until.is_some_and(|u| e.time_nano > u) || !emit(&e) {
                        return;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if tx.is_closed() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(body.boxed())
        .expect("a valid response")
}

/// Filters as `{"k":{"v":true}}` or `{"k":["v"]}`.
fn parse_filters(s: &str) -> Result<Vec<(String, Vec<String>)>> {
    let v: Value = serde_json::from_str(s)
        .map_err(|e| EngineError::InvalidParameter(format!("filters: {s:?} is not JSON: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(EngineError::InvalidParameter(format!(
            "filters: {s:?} is not an object"
        )));
    };
    Ok(obj
        .iter()
        .map(|(k, v)| {
            let values = match v {
                Value::Object(m) => m.keys().cloned().collect(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => Vec::new(),
            };
            (k.clone(), values)
        })
        .collect())
}

/// The body of `POST /containers/{id}/exec`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ExecBody {
    cmd: Vec<String>,
    env: Vec<String>,
    user: String,
    working_dir: String,
    tty: bool,
    attach_stdin: bool,
}

async fn exec_create(d: Arc<Daemon>, id: String, req: Request<Incoming>) -> Reply {
    let body: ExecBody = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let process = vessel_runtime::protocol::ProcessSpec {
        args: body.cmd,
        env: body.env,
        cwd: Some(body.working_dir).filter(|w| !w.is_empty()),
        user: Some(body.user).filter(|u| !u.is_empty()),
        terminal: body.tty,
    };
    let stdin = body.attach_stdin;
    blocking(move || {
        let exec_id = d.exec_create(&id, process, stdin)?;
        Ok(json(StatusCode::CREATED, &json!({"Id": exec_id})))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ExecStartBody {
    detach: bool,
}

/// `POST /exec/{id}/start`: detached (200), or upgraded to the exec's
/// stream like attach.
async fn exec_start(d: Arc<Daemon>, id: String, mut req: Request<Incoming>) -> Reply {
    let upgrade = hyper::upgrade::on(&mut req);
    let body: ExecStartBody = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let detach = body.detach;
    let started = {
        let d = d.clone();
        let id = id.clone();
        tokio::task::spawn_blocking(move || {
            let info = d.exec_inspect(&id)?;
            d.exec_start(&id, detach)
                .map(|s| (s, info.tty, info.open_stdin))
        })
        .await
    };
    let (streams, tty, stdin) = match started {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return error(&e),
        Err(e) => return error(&EngineError::Internal(e.to_string())),
    };
    let Some(streams) = streams else {
        return empty(StatusCode::OK);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = tx.send(streams);
    // The stream closes once the exit is recorded, so that a client
    // inspecting the exec right after reads its exit code.
    let after: After = Box::new(move || d.exec_wait(&id, std::time::Duration::from_secs(10)));
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                splice(
                    hyper_util::rt::TokioIo::new(upgraded),
                    rx,
                    tty,
                    stdin,
                    Some(after),
                )
                .await
            }
            Err(e) => tracing::debug!(error = %e, "exec upgrade failed"),
        }
    });
    upgraded_reply(tty)
}

fn upgraded_reply(tty: bool) -> Reply {
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", content_type)
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
async fn attach(d: Arc<Daemon>, id: String, call: &Call, mut req: Request<Incoming>) -> Reply {
    let stdin = call.flag("stdin");
    let (streams, tty) = match tokio::task::spawn_blocking(move || d.attach(&id, stdin)).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return error(&e),
        Err(e) => return error(&EngineError::Internal(e.to_string())),
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                splice(
                    hyper_util::rt::TokioIo::new(upgraded),
                    streams,
                    tty,
                    stdin,
                    None,
                )
                .await
            }
            Err(e) => tracing::debug!(error = %e, "attach upgrade failed"),
        }
    });
    upgraded_reply(tty)
}

/// Work to finish before a spliced stream is closed.
type After = Box<dyn FnOnce() + Send>;

/// Copies the shim's output to the client (unframed for a terminal) and
/// the client's bytes to the process's stdin; a client half-close is
/// stdin's end. Ends when the output ends.
async fn splice(
    conn: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    streams: std::sync::mpsc::Receiver<crate::daemon::Streams>,
    tty: bool,
    stdin: bool,
    after: Option<After>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut rd, mut wr) = tokio::io::split(conn);
    let (otx, mut orx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let (itx, irx) = std::sync::mpsc::channel::<Option<Vec<u8>>>();
    std::thread::spawn(move || {
        // The streams come once the container runs (or never, if it is
        // removed first: the connection then just ends).
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
        while let Ok(Some((stream, data))) = vessel_runtime::frame::read_frame(&mut out) {
            let chunk = if tty {
                data
            } else {
                vessel_runtime::frame::encode(stream, &data)
            };
            if otx.blocking_send(chunk).is_err() {
                break;
            }
        }
        if let Some(after) = after {
            after();
        }
    });
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = itx.send(None);
                    return;
                }
                Ok(n) => {
                    if itx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    while let Some(chunk) = orx.recv().await {
        if wr.write_all(&chunk).await.is_err() {
            break;
        }
        let _ = wr.flush().await;
    }
    let _ = wr.shutdown().await;
    reader.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_changes_set_the_image_config() {
        let c = parse_changes(&[
            "ENV A=1".into(),
            r#"CMD ["sh", "-c", "x"]"#.into(),
            "WORKDIR /w".into(),
        ])
        .unwrap();
        assert_eq!(c.env, ["A=1"]);
        assert_eq!(c.cmd.unwrap(), ["sh", "-c", "x"]);
        assert_eq!(c.working_dir, "/w");
        let e = parse_changes(&["EXPOSE 80".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("EXPOSE"), "{e}");
    }

    #[test]
    fn filters_come_in_both_shapes() {
        let a = parse_filters(r#"{"type":{"container":true}}"#).unwrap();
        let b = parse_filters(r#"{"type":["container"]}"#).unwrap();
        assert_eq!(a, b);
    }
}
