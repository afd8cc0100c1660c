//! Image references: `[registry/]name[:tag]` as Docker's grammar allows
//! it, kept in Docker's familiar form: Docker Hub's names without their
//! registry (`docker.io/library/busybox` is `busybox`), every other
//! registry's with it (`127.0.0.1:5000/box`).

use crate::error::{EngineError, Result};

/// Docker Hub's names, as clients may spell them.
const HUB: &[&str] = &["docker.io/", "index.docker.io/", "registry-1.docker.io/"];

/// `name` or `name:tag` -> `name:tag` (default tag `latest`) in familiar
/// form; refuses what Docker's reference grammar refuses (upper case in a
/// path, spaces, digests).
pub fn normalize_reference(reference: &str) -> Result<String> {
    let invalid = || {
        EngineError::InvalidParameter(format!(
            "invalid reference format: repository name {reference:?} must be lowercase letters, digits and separators (. _ - /), optionally after a registry and with :tag"
        ))
    };
    // The tag follows the last colon that is not in the registry's port.
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, "latest"),
    };
    let name = familiar(name);
    let (domain, path) = split_domain(name);
    let domain_ok = domain.is_none_or(|d| {
        let host = d.rsplit_once(':').map_or(d, |(host, port)| {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return "";
            }
            host
        });
        !host.is_empty()
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    let path_ok = !path.is_empty()
        && path.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
        });
    let tag_ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !tag.starts_with(['.', '-']);
    if domain_ok && path_ok && tag_ok {
        Ok(format!("{name}:{tag}"))
    } else {
        Err(invalid())
    }
}

/// A reference to pull or push: the registry, the repository in it, and a
/// tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// `docker.io` for Docker Hub.
    pub registry: String,
    /// The path in the registry (`library/busybox` on Docker Hub).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// The repository's familiar name (`busybox`, `127.0.0.1:5000/box`).
    pub familiar: String,
}

impl Remote {
    /// `name[:tag][@sha256:hex]`, as Docker names images to pull.
    pub fn parse(reference: &str) -> Result<Self> {
        let (named, digest) = match reference.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (reference, None),
        };
        if let Some(d) = digest {
            if !super::config::is_digest(d) {
                return Err(EngineError::InvalidParameter(format!(
                    "invalid reference format: {reference:?}: a digest is sha256: and 64 lowercase hex digits"
                )));
            }
        }
        let tagged = normalize_reference(named)?;
        let (familiar, tag) = tagged
            .rsplit_once(':')
            .expect("a normalized reference has a tag");
        let explicit_tag = named
            .rsplit_once(':')
            .is_some_and(|(_, t)| !t.contains('/'));
        let (registry, path) = match split_domain(familiar) {
            (Some(d), p) => (d.to_string(), p.to_string()),
            (None, p) if p.contains('/') => ("docker.io".to_string(), p.to_string()),
            (None, p) => ("docker.io".to_string(), format!("library/{p}")),
        };
        Ok(Remote {
            registry,
            repository: path,
            tag: (digest.is_none() || explicit_tag).then(|| tag.to_string()),
            digest: digest.map(str::to_string),
            familiar: familiar.to_string(),
        })
    }

    /// `familiar:tag`, when a tag was named (or implied).
    pub fn tagged(&self) -> Option<String> {
        self.tag.as_ref().map(|t| format!("{}:{t}", self.familiar))
    }

    /// `familiar@digest`.
    pub fn digested(&self, digest: &str) -> String {
        format!("{}@{digest}", self.familiar)
    }
}

/// `name` without Docker Hub's registry and its `library/` namespace.
fn familiar(name: &str) -> &str {
    let on_hub = HUB.iter().find_map(|hub| name.strip_prefix(hub));
    match on_hub {
        Some(path) => path.strip_prefix("library/").unwrap_or(path),
        None => name.strip_prefix("library/").unwrap_or(name),
    }
}

/// The registry of `name`, when its first component names one (it has a
/// dot or a port, or is `localhost`), and the rest.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first != first.to_lowercase() =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_normalized_or_refused_by_name() {
        assert_eq!(normalize_reference("busybox").unwrap(), "busybox:latest");
        assert_eq!(normalize_reference("a/b:1.0").unwrap(), "a/b:1.0");
        let e = normalize_reference("Busy Box").unwrap_err().to_string();
        assert!(e.contains("Busy Box"), "{e}");
    }

    #[test]
    fn a_remote_reference_names_its_registry_repository_and_tag_or_digest() {
        let d = "sha256:".to_string() + &"a".repeat(64);
        let r = Remote::parse("busybox").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/busybox", Some("latest"))
        );
        let r = Remote::parse(&format!("127.0.0.1:5000/a/b@{d}")).unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "a/b", None)
        );
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.digested(&d), format!("127.0.0.1:5000/a/b@{d}"));
        let r = Remote::parse("docker.io/mine/box:v1").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.familiar.as_str()),
            ("mine/box", "mine/box")
        );
        for bad in ["box@sha256:00", "box@md5:aa", "Box"] {
            assert!(Remote::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn docker_hubs_names_are_kept_familiar_and_other_registries_whole() {
        for (given, kept) in [
            ("docker.io/library/busybox", "busybox:latest"),
            ("docker.io/busybox:1", "busybox:1"),
            ("index.docker.io/library/busybox", "busybox:latest"),
            ("library/busybox:x", "busybox:x"),
            ("docker.io/mine/box:v1", "mine/box:v1"),
            ("127.0.0.1:5000/box", "127.0.0.1:5000/box:latest"),
            ("localhost:5000/a/b:2", "localhost:5000/a/b:2"),
            ("Registry.Example.com/x", "Registry.Example.com/x:latest"),
        ] {
            assert_eq!(normalize_reference(given).unwrap(), kept, "{given}");
        }
        for bad in ["127.0.0.1:x/box", "host:5000/", "a/B", "box@sha256:00"] {
            assert!(normalize_reference(bad).is_err(), "{bad}");
        }
    }
}
