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
