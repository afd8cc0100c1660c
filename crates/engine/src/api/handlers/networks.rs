//! Network endpoints: `GET /networks`, `GET /networks/{id}`, create,
//! remove, prune, connect and disconnect.

use std::sync::Arc;

use bollard_stubs::models::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{blocking, read_json};
use crate::api::filters::{optional_filters, Filters};
use crate::api::models::{mode_network, network_resource};
use crate::api::{error, json, Call, Reply};
use crate::daemon::Daemon;
use crate::network::Network;

/// The `host` and `none` networks, which are modes: ids made from the
/// default bridge's, so that they stay the same.
fn mode_networks(d: &Daemon) -> Vec<Value> {
    let Ok((bridge, _)) = d.network_inspect(crate::network::BRIDGE) else {
        return Vec::new();
    };
    ["host", "none"]
        .iter()
        .map(|name| {
            let id: String = Sha256::digest(format!("{}/{name}", bridge.id))
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            mode_network(name, &id, &bridge.created)
        })
        .collect()
}

/// Whether a network's resource passes Docker's filters.
fn passes(v: &Value, filters: &Filters) -> bool {
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    filters.iter().all(|(key, values)| {
        values.iter().any(|want| match key.as_str() {
            "name" => text("Name").contains(want.as_str()),
            "id" => text("Id").starts_with(want.as_str()),
            "driver" => text("Driver") == *want,
            "type" => {
                let builtin = matches!(text("Name").as_str(), "bridge" | "host" | "none");
                (want == "builtin") == builtin
            }
            "label" => match want.split_once('=') {
                Some((k, val)) => v["Labels"][k].as_str() == Some(val),
                None => v["Labels"].get(want).is_some(),
            },
            "dangling" => {
                let dangling = v["Containers"].as_object().is_some_and(|c| c.is_empty())
                    && !matches!(text("Name").as_str(), "bridge" | "host" | "none");
                (want == "true" || want == "1") == dangling
            }
            _ => false,
        })
    })
}

pub(super) async fn list(d: Arc<Daemon>, call: &Call) -> Reply {
    let filters = match optional_filters(
        call.q("filters"),
        &["name", "id", "driver", "type", "label", "dangling"],
    ) {
        Ok(f) => f,
        Err(e) => return error(&e),
    };
    blocking(move || {
        let mut all: Vec<Value> = d
            .network_list()
            .iter()
            .map(|(n, members)| network_resource(n, members))
            .collect();
        all.extend(mode_networks(&d));
        all.retain(|v| passes(v, &filters));
        Ok(json(StatusCode::OK, &all))
    })
    .await
}

pub(super) async fn inspect(d: Arc<Daemon>, name: String) -> Reply {
    blocking(move || {
        if let Some(v) = mode_networks(&d).into_iter().find(|v| {
            v["Name"] == name.as_str() || v["Id"].as_str().is_some_and(|id| id.starts_with(&name))
        }) {
            return Ok(json(StatusCode::OK, &v));
        }
        let (n, members) = d.network_inspect(&name)?;
        Ok(json(StatusCode::OK, &network_resource(&n, &members)))
    })
    .await
}

pub(super) async fn create(d: Arc<Daemon>, req: Request<Incoming>) -> Reply {
    let body: NetworkCreateRequest = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    blocking(move || {
        let n: Network = d.network_create(&body)?;
        Ok(json(
            StatusCode::CREATED,
            &json!({"Id": n.id, "Warning": ""}),
        ))
    })
    .await
}

pub(super) async fn remove(d: Arc<Daemon>, name: String) -> Reply {
    blocking(move || {
        if matches!(name.as_str(), "host" | "none") {
            return Err(crate::error::EngineError::Forbidden(format!(
                "{name} is a pre-defined network and cannot be removed"
            )));
        }
        d.network_remove(&name)?;
        Ok(crate::api::full(StatusCode::NO_CONTENT, "text/plain", ""))
    })
    .await
}

pub(super) async fn prune(d: Arc<Daemon>, call: &Call) -> Reply {
    let filters = match optional_filters(call.q("filters"), &["label", "until"]) {
        Ok(f) => f,
        Err(e) => return error(&e),
    };
    if filters.iter().any(|(k, _)| k == "until") {
        return error(&crate::error::EngineError::InvalidParameter(
            "filters: until is not supported by network prune".into(),
        ));
    }
    blocking(move || {
        let keep = |n: &Network| {
            let v = network_resource(n, &[]);
            !passes(&v, &filters)
        };
        let gone = d.network_prune(&keep)?;
        Ok(json(StatusCode::OK, &json!({"NetworksDeleted": gone})))
    })
    .await
}

pub(super) async fn connect(d: Arc<Daemon>, name: String, req: Request<Incoming>) -> Reply {
    let body: NetworkConnectRequest = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    blocking(move || {
        let container = body.container.clone().unwrap_or_default();
        d.network_connect(&name, &container, body.endpoint_config.as_ref())?;
        Ok(crate::api::full(StatusCode::OK, "text/plain", ""))
    })
    .await
}

pub(super) async fn disconnect(d: Arc<Daemon>, name: String, req: Request<Incoming>) -> Reply {
    let body: NetworkDisconnectRequest = match read_json(req).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    blocking(move || {
        let container = body.container.clone().unwrap_or_default();
        d.network_disconnect(&name, &container)?;
        Ok(crate::api::full(StatusCode::OK, "text/plain", ""))
    })
    .await
}
