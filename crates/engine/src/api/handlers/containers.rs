//! Container endpoints: create, list, inspect, wait, logs.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};

use super::container_filters::{self as filters, ContainerFilters};
use super::{blocking, off_runtime, read_value, stream_type, typed, typed_at};
use crate::api::body::channel;
use crate::api::filters::parse_filters;
use crate::api::logs::{self, LogOptions};
use crate::api::models::{self, CreateBody};
use crate::api::{error, json, json_pieces, Call, Reply};
use crate::daemon::{Daemon, View, WaitCondition};
use crate::error::EngineError;

pub(super) async fn create(d: Arc<Daemon>, call: &Call, req: Request<Incoming>) -> Reply {
    // What the request asks for is checked as it came, so that members
    // Docker's types do not know are refused too.
    let body = read_value(req).await.and_then(|raw| {
        let asked = models::non_default_json(&raw);
        let body = create_body(raw)?;
        models::check_create(&asked)?;
        Ok(body)
    });
    let body = match body {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let name = call.q("name").map(String::from);
    blocking(move || {
        let host_config = body.host_config.unwrap_or_default();
        let networking = body.networking_config.as_ref();
        let (id, warnings) = d.create(name.as_deref(), body.config, host_config, networking)?;
        Ok(json(
            StatusCode::CREATED,
            &json!({"Id": id, "Warnings": warnings}),
        ))
    })
    .await
}

/// A create's body read into Docker's types. The config's members sit
/// beside `HostConfig` and `NetworkingConfig`; each part is read on its
/// own, so that an error names the member it is about (read as one,
/// through the flattened config, it would name none).
fn create_body(mut raw: Value) -> crate::error::Result<CreateBody> {
    let Some(members) = raw.as_object_mut() else {
        return Err(EngineError::InvalidParameter(format!(
            "the request body is not a JSON object: {raw}"
        )));
    };
    let host_config = members.remove("HostConfig");
    let networking_config = members.remove("NetworkingConfig");
    Ok(CreateBody {
        host_config: host_config.map(|v| typed_at("HostConfig", v)).transpose()?,
        networking_config: networking_config
            .map(|v| typed_at("NetworkingConfig", v))
            .transpose()?,
        config: typed(raw)?,
    })
}

/// `GET /containers/json`: running containers (or `all`, or the `limit`
/// last created), those every filter matches, with their sizes on disk
/// when asked (`size`).
pub(super) async fn list(d: Arc<Daemon>, call: &Call) -> Reply {
    let all = call.flag("all");
    let size = call.flag("size");
    let limit = match call
        .q("limit")
        .filter(|l| !l.is_empty())
        .map(str::parse::<i64>)
    {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return error(&EngineError::InvalidParameter(format!(
                "limit: {:?} is not a number",
                call.q("limit").unwrap_or_default()
            )))
        }
    };
    let filters = call.q("filters").map(|f| parse_filters(f, filters::LIST));
    blocking(move || {
        let filters = filters.transpose()?.unwrap_or_default();
        let stopped_too = filters.iter().any(|(k, _)| k == "status" || k == "exited");
        let all = all || stopped_too || limit.is_some_and(|n| n > 0);
        let filters = ContainerFilters::resolve(&d, filters)?;
        let now = chrono::Utc::now();
        let mut rows = d.read_all(all, |mut r| {
            if !filters.matches(r.container) {
                return None;
            }
            let id = (r.container.id.clone(), r.container.image.clone());
            let status = models::status_piece(&r.container.state.describe(now));
            let row: Vec<Bytes> = r
                .view(View::Summary, models::summary_view)
                .with(status)
                .into();
            Some((id, row))
        });
        if let Some(n) = limit.filter(|&n| n > 0) {
            rows.truncate(n as usize);
        }
        let mut pieces = vec![Bytes::from_static(b"[")];
        for (i, ((id, image), mut row)) in rows.into_iter().enumerate() {
            if i > 0 {
                pieces.push(Bytes::from_static(b","));
            }
            if size {
                with_sizes(&d, &id, &image, &mut row);
            }
            pieces.extend(row);
        }
        pieces.push(Bytes::from_static(b"]\n"));
        Ok(json_pieces(StatusCode::OK, pieces))
    })
    .await
}

/// Adds `SizeRw` and `SizeRootFs` to the end of a listing's row.
fn with_sizes(d: &Daemon, id: &str, image: &str, row: &mut Vec<Bytes>) {
    let Some(last) = row.pop() else { return };
    let Some(body) = last.strip_suffix(b"}") else {
        row.push(last);
        return;
    };
    let (rw, root) = d.container_sizes(id, image);
    let mut end = body.to_vec();
    end.extend_from_slice(format!(",\"SizeRw\":{rw},\"SizeRootFs\":{root}}}").as_bytes());
    row.push(Bytes::from(end));
}

/// `POST /containers/prune`: removes the stopped containers the filters
/// take (`label`, `label!`, `until`).
pub(super) async fn prune(d: Arc<Daemon>, call: &Call) -> Reply {
    let filters = call.q("filters").map(|f| parse_filters(f, filters::PRUNE));
    blocking(move || {
        let filters = filters.transpose()?.unwrap_or_default();
        let filters = ContainerFilters::resolve(&d, filters)?;
        let (deleted, reclaimed) = d.prune_containers(|c| filters.matches(c));
        // Docker answers null, not [], when it removed none.
        let deleted = (!deleted.is_empty()).then_some(deleted);
        Ok(json(
            StatusCode::OK,
            &json!({"ContainersDeleted": deleted, "SpaceReclaimed": reclaimed}),
        ))
    })
    .await
}

/// `GET /containers/{id}/json`.
pub(super) async fn inspect(d: Arc<Daemon>, name: String) -> Reply {
    blocking(move || {
        let (view, id) = d.read_one(&name, |mut r| {
            let id = r.container.id.clone();
            (r.view(View::Inspect, models::inspect_view), id)
        })?;
        let execs = models::exec_ids_piece(&d.exec_ids(&id));
        Ok(json_pieces(StatusCode::OK, view.with(execs).into()))
    })
    .await
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
        details: call.flag("details"),
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
