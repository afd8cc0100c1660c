//! Image references: `name[:tag]` as Docker's grammar allows it.

use crate::error::{EngineError, Result};

/// `name` or `name:tag` -> `name:tag` (default tag `latest`); refuses
/// what Docker's reference grammar refuses (upper case, spaces, digests).
pub fn normalize_reference(reference: &str) -> Result<String> {
    let invalid = || {
        EngineError::InvalidParameter(format!(
            "invalid reference format: repository name {reference:?} must be lowercase letters, digits and separators (. _ - /), optionally with :tag"
        ))
    };
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, "latest"),
    };
    let name_ok = !name.is_empty()
        && name.split('/').all(|part| {
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
    if name_ok && tag_ok {
        Ok(format!("{name}:{tag}"))
    } else {
        Err(invalid())
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
}
