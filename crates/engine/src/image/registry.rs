//! Talking to registries: which protocol, which credentials, and the
//! distribution client (`oci-client`) set up for one registry.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use super::Remote;
use crate::error::{EngineError, Result};

/// What the daemon is told about registries, and what it found out.
#[derive(Debug, Clone, Default)]
pub struct Registries {
    /// Registries (`host[:port]`) whose certificates are not checked and
    /// that may answer over plain HTTP, as `--insecure-registry` names
    /// them. Those on loopback always are (Docker's `127.0.0.0/8`).
    insecure: Vec<String>,
    /// How each insecure registry answered, found once.
    transports: Arc<Mutex<HashMap<String, Transport>>>,
}

/// How a registry is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    Https,
    /// An insecure registry that answers TLS: its certificate unchecked.
    HttpsUnchecked,
    /// An insecure registry that does not answer TLS.
    Http,
}

impl Transport {
    pub(super) fn scheme(self) -> &'static str {
        match self {
            Transport::Http => "http",
            _ => "https",
        }
    }
}

/// A client's credentials, as `X-Registry-Auth` carries them (base64url
/// JSON; `docker login` stored them).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default, rename = "identitytoken")]
    pub identity_token: String,
    #[serde(default, rename = "registrytoken")]
    pub registry_token: String,
}

impl Credentials {
    /// Reads an `X-Registry-Auth` header; an empty one (or `{}`) is no
    /// credentials.
    pub fn from_header(value: &str) -> Result<Self> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(Self::default());
        }
        let bytes = decode_base64(value).ok_or_else(|| {
            EngineError::InvalidParameter("X-Registry-Auth: not base64url".into())
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            EngineError::InvalidParameter(format!(
                "X-Registry-Auth: not the credentials' JSON: {e}"
            ))
        })
    }

    pub(super) fn auth(&self) -> RegistryAuth {
        if !self.registry_token.is_empty() {
            RegistryAuth::Bearer(self.registry_token.clone())
        } else if !self.username.is_empty() {
            RegistryAuth::Basic(self.username.clone(), self.password.clone())
        } else {
            RegistryAuth::Anonymous
        }
    }
}

/// Decodes base64 in the URL-safe or the standard alphabet, padded or not.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

impl Registries {
    pub fn new(insecure: Vec<String>) -> Self {
        Registries {
            insecure,
            transports: Arc::default(),
        }
    }

    /// Whether `registry` is insecure: HTTPS without checking its
    /// certificate, or plain HTTP.
    pub fn is_insecure(&self, registry: &str) -> bool {
        let host = registry
            .strip_prefix('[')
            .and_then(|r| r.split_once(']').map(|(h, _)| h))
            .unwrap_or_else(|| registry.rsplit_once(':').map_or(registry, |(h, _)| h));
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        loopback || self.insecure.iter().any(|r| r == registry || r == host)
    }

    /// Chooses rustls's crypto for the process (once is enough; again is
    /// harmless). ring builds in seconds where aws-lc takes minutes on a
    /// small machine; rustls marks it deprecated for lacking post-quantum
    /// key exchange, which registry traffic (mostly public images) can do
    /// without for now.
    pub(super) fn install_crypto(&self) {
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    }

    /// How `registry` is spoken to: HTTPS; or, for an insecure one, as
    /// Docker tries them, HTTPS without checking its certificate when it
    /// answers TLS at all, else plain HTTP.
    pub(super) async fn transport(&self, registry: &str) -> Transport {
        if !self.is_insecure(registry) {
            return Transport::Https;
        }
        let known = self
            .transports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(registry)
            .copied();
        if let Some(t) = known {
            return t;
        }
        // Nothing listening yet: nothing learnt (and HTTP's error says so).
        let addr = match registry.contains(':') {
            true => registry.to_string(),
            false => format!("{registry}:443"),
        };
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            return Transport::Http;
        }
        self.install_crypto();
        let probe = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(std::time::Duration::from_secs(5))
            .build();
        let answers_tls = match probe {
            Ok(c) => c
                .get(format!("https://{registry}/v2/"))
                .send()
                .await
                .is_ok(),
            Err(_) => false,
        };
        let t = match answers_tls {
            true => Transport::HttpsUnchecked,
            false => Transport::Http,
        };
        tracing::debug!(registry, transport = ?t, "an insecure registry's transport");
        self.transports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(registry.to_string(), t);
        t
    }

    /// A distribution client for `remote`'s registry.
    pub(super) async fn client(&self, remote: &Remote) -> oci_client::Client {
        self.install_crypto();
        let transport = self.transport(&remote.registry).await;
        let protocol = match transport {
            Transport::Http => ClientProtocol::Http,
            _ => ClientProtocol::Https,
        };
        oci_client::Client::new(ClientConfig {
            protocol,
            accept_invalid_certificates: transport == Transport::HttpsUnchecked,
            // Small blobs (configs) go up in one request; layers always go
            // in chunks as they are compressed (`push_blob_stream_chunked`).
            use_monolithic_push: true,
            max_concurrent_download: 3,
            user_agent: concat!("vessel/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        })
    }
}

/// `remote` as the distribution client names it (by digest when it has
/// one, else by tag).
pub(super) fn reference(remote: &Remote, digest: Option<&str>) -> oci_client::Reference {
    let registry = remote.registry.clone();
    let repository = remote.repository.clone();
    match digest.or(remote.digest.as_deref()) {
        Some(d) => oci_client::Reference::with_digest(registry, repository, d.to_string()),
        None => oci_client::Reference::with_tag(
            registry,
            repository,
            remote.tag.clone().unwrap_or_else(|| "latest".into()),
        ),
    }
}

/// A push's distribution error in a sentence a user can act on.
pub(super) fn describe_push(
    remote: &Remote,
    e: oci_client::errors::OciDistributionError,
) -> EngineError {
    use oci_client::errors::OciDistributionError as E;
    match e {
        E::AuthenticationFailure(m) | E::UnauthorizedError { url: m } => {
            EngineError::Internal(format!(
                "unauthorized: authentication required ({m}): docker login {}",
                remote.registry
            ))
        }
        other => describe(remote, other),
    }
}

/// A pull's distribution error in a sentence a user can act on.
pub(super) fn describe(
    remote: &Remote,
    e: oci_client::errors::OciDistributionError,
) -> EngineError {
    use oci_client::errors::OciDistributionError as E;
    let name = remote.tagged().unwrap_or_else(|| remote.familiar.clone());
    match e {
        E::ImageManifestNotFoundError(_) | E::ServerError { code: 404, .. } => {
            EngineError::NotFound(format!("manifest for {name} not found: manifest unknown"))
        }
        E::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    oci_client::errors::OciErrorCode::ManifestUnknown
                        | oci_client::errors::OciErrorCode::NameUnknown
                )
            }) =>
        {
            EngineError::NotFound(format!("manifest for {name} not found: {}", words(&envelope)))
        }
        E::RegistryError { envelope, .. } => {
            EngineError::Internal(format!("registry {}: {}", remote.registry, words(&envelope)))
        }
        E::AuthenticationFailure(m)
        | E::UnauthorizedError { url: m }
        | E::ServerError {
            code: 401 | 403,
            message: m,
            ..
        } => EngineError::NotFound(format!(
            "pull access denied for {}, repository does not exist or may require 'docker login': {}",
            remote.familiar,
            said(&m, "unauthorized: authentication required")
        )),
        other => {
            // The causes too: "error sending request" alone says little.
            let mut text = other.to_string();
            let mut source = std::error::Error::source(&other);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            EngineError::Internal(format!("registry {}: {text}", remote.registry))
        }
    }
}

/// What a registry said in an error's body (its errors in Docker's
/// words), or `otherwise` when it said nothing readable.
fn said(body: &str, otherwise: &str) -> String {
    match serde_json::from_str::<oci_client::errors::OciEnvelope>(body) {
        Ok(envelope) if !envelope.errors.is_empty() => words(&envelope),
        _ => otherwise.to_string(),
    }
}

/// A registry's errors as Docker prints them: `manifest unknown: the
/// registry's message`.
fn words(envelope: &oci_client::errors::OciEnvelope) -> String {
    let said: Vec<String> = envelope
        .errors
        .iter()
        .map(|e| {
            let code = serde_json::to_value(&e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
                .to_lowercase()
                .replace('_', " ");
            match e.message.is_empty() {
                true => code,
                false => format!("{code}: {}", e.message),
            }
        })
        .collect();
    said.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_from_base64url_json() {
        // {"username":"u","password":"p?>"} in base64url, unpadded.
        let c = Credentials::from_header("eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InA_PiJ9").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p?>"));
        assert!(Credentials::from_header("").unwrap().username.is_empty());
        assert!(Credentials::from_header("e30=")
            .unwrap()
            .username
            .is_empty());
        let e = Credentials::from_header("!!").unwrap_err().to_string();
        assert!(e.contains("X-Registry-Auth"), "{e}");
    }

    #[test]
    fn loopback_and_named_registries_are_insecure() {
        let r = Registries::new(vec!["reg.example:5000".into()]);
        for (name, http) in [
            ("127.0.0.1:5000", true),
            ("localhost:5000", true),
            ("[::1]:5000", true),
            ("reg.example:5000", true),
            ("reg.example", false),
            ("docker.io", false),
            ("10.0.0.1:5000", false),
        ] {
            assert_eq!(r.is_insecure(name), http, "{name}");
        }
    }
}
