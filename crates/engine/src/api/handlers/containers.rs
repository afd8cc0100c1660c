//! Container endpoints: create, list, inspect, wait, logs.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{blocking, off_runtime, read_json, stream_type};
use crate::api::body::channel;
use crate::api::logs::{self, LogOptions};
use crate::api::{error, json, Call, Reply};
use crate::container::{Config, Container, HostConfig};
use crate::daemon::Daemon;
use crate::daemon::WaitCondition;
use crate::error::EngineError;

/// The body of `POST /containers/create`: Config with HostConfig inside.
#[derive(Debug, Deserialize)]
struct CreateBody {
    #[serde(flatten)]
    config: Config,
    #[serde(rename = "HostConfig", default)]
    host_config: HostConfig,
}

pub(super) async fn create(d: Arc<Daemon>, call: &Call, req: Request<Incoming>) -> Reply {
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

pub(super) fn list(d: &Daemon, all: bool) -> Vec<Value> {
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

pub(super) fn inspect(c: &Container) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["Driver"] = json!("overlay");
    v["Platform"] = json!("linux");
    v["LogPath"] = json!(c.log_path);
    if let Some(dir) = std::path::Path::new(&c.log_path).parent() {
        for (key, name) in [
            ("HostnamePath", "hostname"),
            ("HostsPath", "hosts"),
            ("ResolvConfPath", "resolv.conf"),
        ] {
            v[key] = json!(crate::etc::path(dir, name));
        }
    }
    v["Mounts"] = json!([]);
    v["NetworkSettings"] = json!({"Networks": {}});
    v["Config"]["Image"] = json!(c.config.image);
    if v["HostConfig"]["NetworkMode"] == "" {
        v["HostConfig"]["NetworkMode"] = json!("none");
    }
    v
}

pub(super) async fn wait(d: Arc<Daemon>, id: String, call: &Call) -> Reply {
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
        match off_runtime(move || d.prepare_wait(&id)).await {
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

pub(super) async fn container_logs(d: Arc<Daemon>, id: String, call: &Call) -> Reply {
    let (running, path, tty) = {
        let d = d.clone();
        match off_runtime(move || d.log_source(&id)).await {
            Ok(s) => s,
            Err(e) => return error(&e),
        }
    };
    let (since, until) = match (
        logs::time_param(call, "since"),
        logs::time_param(call, "until"),
    ) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => return error(&e),
    };
    let opts = LogOptions {
        stdout: call.flag("stdout"),
        stderr: call.flag("stderr"),
        follow: call.flag("follow"),
        timestamps: call.flag("timestamps"),
        since: since.filter(|t| *t > 0),
        until: until.filter(|t| *t > 0),
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
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", stream_type(tty))
        .body(body.boxed())
        .expect("a valid response")
}
