//! `docker login`: credentials checked against a registry as Docker's
//! daemon checks them: `GET /v2/` with them, and where the registry
//! answers with a bearer challenge, a token asked of its realm with them.

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::StatusCode;

use super::registry::{Registries, Transport};
use crate::error::{EngineError, Result};

/// Checks `username`/`password` with `server` (a registry's host, or
/// Docker Hub's `https://index.docker.io/v1/`).
pub async fn login(
    registries: &Registries,
    server: &str,
    username: &str,
    password: &str,
) -> Result<()> {
    let host = registry_host(server);
    let transport = registries.transport(&host).await;
    let scheme = transport.scheme();
    registries.install_crypto();
    let client = reqwest::Client::builder()
        .user_agent(concat!("vessel/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(transport == Transport::HttpsUnchecked)
        .build()
        .map_err(|e| EngineError::Internal(format!("making an HTTP client: {e}")))?;
    let unreachable = |e: reqwest::Error| {
        EngineError::Internal(format!("Get \"{scheme}://{host}/v2/\": {}", chain(&e)))
    };
    let first = client
        .get(format!("{scheme}://{host}/v2/"))
        .basic_auth(username, Some(password))
        .send()
        .await
        .map_err(unreachable)?;
    if first.status().is_success() {
        return Ok(());
    }
    let challenge = first
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Some(bearer) = challenge.strip_prefix("Bearer ") else {
        return Err(denied());
    };
    let param = |name: &str| {
        bearer.split(',').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.trim_matches('"').to_string())
        })
    };
    let realm = param("realm").ok_or_else(denied)?;
    let mut query = vec![
        ("account", username.to_string()),
        ("client_id", "vessel".into()),
    ];
    if let Some(service) = param("service") {
        query.push(("service", service));
    }
    let token = client
        .get(&realm)
        .query(&query)
        .basic_auth(username, Some(password))
        .send()
        .await
        .map_err(unreachable)?;
    match token.status() {
        s if s.is_success() => Ok(()),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(denied()),
        s => Err(EngineError::Internal(format!(
            "login to {host}: the token service answered {s}"
        ))),
    }
}

fn denied() -> EngineError {
    // Docker's words, and its status for them.
    EngineError::Unauthorized("unauthorized: incorrect username or password".into())
}

/// `https://index.docker.io/v1/` and other URL forms -> a registry host.
fn registry_host(server: &str) -> String {
    let bare = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = bare.split('/').next().unwrap_or(bare);
    match host {
        "" | "index.docker.io" | "docker.io" => "registry-1.docker.io".into(),
        h => h.to_string(),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_named_as_docker_names_them() {
        assert_eq!(
            registry_host("https://index.docker.io/v1/"),
            "registry-1.docker.io"
        );
        assert_eq!(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(registry_host("http://reg.example/v2/"), "reg.example");
    }
}
