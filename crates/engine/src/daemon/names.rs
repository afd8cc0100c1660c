//! Container ids and names.

use std::io::Read;

use crate::error::{EngineError, Result};

/// Whether `n` is a valid container name (Docker's rule).
pub(crate) fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// A new 64-digit hex id.
pub(crate) fn random_id() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(EngineError::io("reading /dev/urandom"))?;
    Ok(crate::hex(&bytes))
}

/// `adjective_noun`, as Docker names containers it was not given a name
/// for (with a random suffix instead of Docker's word lists).
pub(super) fn generated_name() -> String {
    const LEFT: &[&str] = &[
        "brave", "calm", "eager", "keen", "lucid", "quiet", "swift", "tender",
    ];
    const RIGHT: &[&str] = &[
        "albatross",
        "heron",
        "kestrel",
        "osprey",
        "petrel",
        "plover",
        "tern",
        "wren",
    ];
    let r = random_id().unwrap_or_else(|_| "0".repeat(64));
    let n = u64::from_str_radix(&r[..12], 16).unwrap_or(0);
    format!(
        "{}_{}_{}",
        LEFT[(n % 8) as usize],
        RIGHT[((n / 8) % 8) as usize],
        &r[12..18]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        assert!(valid_name("web_1.a-b"));
        assert!(!valid_name("-web"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(""));
    }
}
