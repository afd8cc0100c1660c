//! Volume endpoints: `GET /volumes`, create, inspect, remove, prune.

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{blocking, read_json};
use crate::api::filters::{optional_filters, Filters};
use crate::api::{empty, error, json, Call, Reply};
use crate::daemon::Daemon;
use crate::volume::{CreateRequest, Volume};

/// A volume in Docker's shape; with `usage`, its size and how many
/// containers use it (`system df`).
pub(super) fn volume_json(d: &Daemon, v: &Volume, usage: bool) -> Value {
    // As dockerd 20.10: null for no labels or options.
    let map = |m: &std::collections::BTreeMap<String, String>| match m.is_empty() {
        true => Value::Null,
        false => json!(m),
    };
    let mut out = json!({
        "CreatedAt": v.created_at,
        "Driver": v.driver,
        "Labels": map(&v.labels),
        "Mountpoint": d.volumes.data_dir(&v.name),
        "Name": v.name,
        "Options": map(&v.options),
        "Scope": "local",
    });
    if usage {
        out["UsageData"] = json!({
            "Size": d.volumes.size(v),
            "RefCount": d.volumes.refs(&v.name).len(),
        });
    }
    out
}

/// Whether a volume passes Docker's list and prune filters.
fn passes(d: &Daemon, v: &Volume, filters: &Filters) -> bool {
    let labelled = |want: &String| match want.split_once('=') {
        Some((k, val)) => v.labels.get(k).map(String::as_str) == Some(val),
        None => v.labels.contains_key(want.as_str()),
    };
    filters.iter().all(|(key, values)| match key.as_str() {
        "name" => values.iter().any(|want| v.name.contains(want.as_str())),
        "driver" => values.contains(&v.driver),
        "label" => values.iter().all(labelled),
        "label!" => !values.iter().any(labelled),
        "dangling" => values
            .iter()
            .any(|want| matches!(want.as_str(), "true" | "1") == d.volume_dangling(&v.name)),
        // Read by the prune itself.
        "all" => true,
        _ => false,
    })
}

pub(super) async fn list(d: Arc<Daemon>, call: &Call) -> Reply {
    let filters =
        match optional_filters(call.q("filters"), &["dangling", "driver", "label", "name"]) {
            Ok(f) => f,
            Err(e) => return error(&e),
        };
    blocking(move || {
        let volumes: Vec<Value> = d
            .volumes
            .list()
            .iter()
            .filter(|v| passes(&d, v, &filters))
            .map(|v| volume_json(&d, v, false))
            .collect();
        Ok(json(
            StatusCode::OK,
            &json!({"Volumes": volumes, "Warnings": null}),
        ))
    })
    .await
}

/// `POST /volumes/create`'s body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    driver: String,
    #[serde(default)]
    driver_opts: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// Swarm's cluster volumes: Vessel has no swarm, and refuses one.
    #[serde(default)]
    cluster_volume_spec: Option<Value>,
}

pub(super) async fn create(d: Arc<Daemon>, req: Request<Incoming>) -> Reply {
    let body: CreateBody = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    if body.cluster_volume_spec.is_some() {
        return error(&crate::error::EngineError::InvalidParameter(
            "ClusterVolumeSpec: not supported: Vessel has no swarm".into(),
        ));
    }
    let req = CreateRequest {
        name: Some(body.name).filter(|n| !n.is_empty()),
        driver: Some(body.driver).filter(|n| !n.is_empty()),
        options: body.driver_opts,
        labels: body.labels,
    };
    blocking(move || {
        let v = d.volume_create(&req)?;
        Ok(json(StatusCode::CREATED, &volume_json(&d, &v, false)))
    })
    .await
}

pub(super) async fn inspect(d: Arc<Daemon>, name: String) -> Reply {
    blocking(move || {
        let v = d.volumes.get(&name)?;
        Ok(json(StatusCode::OK, &volume_json(&d, &v, false)))
    })
    .await
}

pub(super) async fn remove(d: Arc<Daemon>, name: String, call: &Call) -> Reply {
    let force = call.flag("force");
    blocking(move || {
        d.volume_remove(&name, force)?;
        Ok(empty(StatusCode::NO_CONTENT))
    })
    .await
}

/// `POST /volumes/prune`: anonymous volumes only unless `all=true` (API
/// 1.42 on; older clients prune every unused volume).
pub(super) async fn prune(d: Arc<Daemon>, call: &Call) -> Reply {
    let filters = match optional_filters(call.q("filters"), &["label", "label!", "all"]) {
        Ok(f) => f,
        Err(e) => return error(&e),
    };
    let asked_all = filters
        .iter()
        .any(|(k, v)| k == "all" && v.iter().any(|x| matches!(x.as_str(), "true" | "1")));
    let all = asked_all || !call.version_at_least("1.42");
    blocking(move || {
        // An empty list, not null, when none goes (as dockerd answers).
        let (deleted, reclaimed) = d.volume_prune(all, |v| passes(&d, v, &filters));
        Ok(json(
            StatusCode::OK,
            &json!({"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}),
        ))
    })
    .await
}
