//! What containers use, and changes to their limits: top, stats, update.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};

use super::{blocking, read_value, typed};
use crate::api::body::channel;
use crate::api::{error, json, Call, Reply};
use crate::daemon::{Daemon, UpdateConfig};
use crate::error::EngineError;
use crate::stats::Sample;

/// How often a stats stream reports (Docker's collector's interval).
const STREAM_INTERVAL: Duration = Duration::from_secs(1);
/// How far apart the two readings of a single (not streamed) answer are,
/// so that its CPU share can be computed.
const SINGLE_SPAN: Duration = Duration::from_millis(250);

pub(super) async fn top(d: Arc<Daemon>, id: String, call: &Call) -> Reply {
    let ps_args = call.q("ps_args").unwrap_or("").to_string();
    blocking(move || {
        let top = d.top(&id, &ps_args)?;
        Ok(json(
            StatusCode::OK,
            &json!({"Titles": top.titles, "Processes": top.processes}),
        ))
    })
    .await
}

pub(super) async fn stats(d: Arc<Daemon>, id: String, call: &Call) -> Reply {
    // Docker streams unless told not to.
    let stream = call.q("stream").is_none_or(|_| call.flag("stream"));
    let one_shot = call.flag("one-shot");
    if one_shot && stream {
        return error(&EngineError::InvalidParameter(
            "one-shot: only with stream=false".into(),
        ));
    }
    if !stream {
        return blocking(move || {
            let (cid, name, first) = d.stats(&id)?;
            let (prev, now) = match first {
                Some(first) if !one_shot => {
                    std::thread::sleep(SINGLE_SPAN);
                    let (_, _, second) = d.stats(&cid)?;
                    (Some(first), second)
                }
                other => (None, other),
            };
            let now = now.unwrap_or_else(Sample::empty);
            Ok(json(
                StatusCode::OK,
                &now.to_docker(&cid, &name, prev.as_ref()),
            ))
        })
        .await;
    }
    // The container must exist before the answer starts.
    let first = {
        let (d, id) = (d.clone(), id.clone());
        match super::off_runtime(move || d.stats(&id)).await {
            Ok(s) => s,
            Err(e) => return error(&e),
        }
    };
    let (tx, body) = channel();
    // A thread of its own: a stream lasts as long as the container runs.
    std::thread::spawn(move || {
        let (cid, name, mut reading) = first;
        let mut prev: Option<Sample> = None;
        loop {
            let frame: Value =
                reading
                    .clone()
                    .unwrap_or_else(Sample::empty)
                    .to_docker(&cid, &name, prev.as_ref());
            if !tx.send(format!("{frame}\n")) || reading.is_none() {
                return;
            }
            std::thread::sleep(STREAM_INTERVAL);
            if tx.is_closed() {
                return;
            }
            prev = reading;
            reading = match d.stats(&cid) {
                Ok((_, _, r)) => r,
                Err(_) => return,
            };
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(http_body_util::BodyExt::boxed(body))
        .expect("a valid response")
}

pub(super) async fn update(d: Arc<Daemon>, id: String, req: Request<Incoming>) -> Reply {
    // Checked as it came, so that members Docker's types do not know are
    // refused too.
    let update = read_value(req).await.and_then(|raw| {
        check_supported(&raw)?;
        typed::<UpdateConfig>(raw)
    });
    let update = match update {
        Ok(u) => u,
        Err(e) => return error(&e),
    };
    blocking(move || {
        let warnings = d.update(&id, &update)?;
        Ok(json(StatusCode::OK, &json!({"Warnings": warnings})))
    })
    .await
}

/// Refuses members of an update that Vessel does not apply yet, unless
/// they hold Docker's "leave as it is" (zero, empty, or no restart policy).
fn check_supported(update: &Value) -> crate::error::Result<()> {
    let asked = crate::api::models::non_default_json(update);
    match asked
        .iter()
        .find(|f| !UpdateConfig::SUPPORTED.contains(&f.path.as_str()))
    {
        None => Ok(()),
        Some(field) => Err(EngineError::InvalidParameter(format!(
            "{field} cannot be updated yet (Vessel updates {})",
            UpdateConfig::SUPPORTED.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: Value) -> crate::error::Result<()> {
        check_supported(&body)
    }

    #[test]
    fn unset_members_pass_and_set_ones_are_named() {
        let body = json!({"Memory": 64, "CpusetCpus": "", "BlkioWeight": 0,
                          "RestartPolicy": {"Name": "", "MaximumRetryCount": 0}});
        assert!(check(body).is_ok());
        let e = check(json!({"CpusetCpus": "0-1"})).unwrap_err().to_string();
        assert!(e.contains("CpusetCpus") && e.contains("0-1"), "{e}");
        assert!(check(json!({"RestartPolicy": {"Name": "always"}})).is_ok());
        assert!(check(json!({"BlkioWeight": 10})).is_err());
    }
}
