//! Compiled filters kept under the runtime's state root, one file per
//! profile: `<root>/.seccomp/<key>.bpf`. The state root is the runtime's
//! own (root's, on a tmpfs under /run: gone at reboot, when the kernel may
//! change); a file is written whole under another name and renamed into
//! place, so a reader sees a whole program or none.

use std::io::Write;
use std::path::Path;

use oci_spec::runtime::LinuxSeccomp;
use sha2::{Digest, Sha256};

/// The cache's directory under the state root (hidden, so that no listing
/// of containers takes it for one).
pub const CACHE_DIR: &str = ".seccomp";

/// What a program depends on: the profile as the spec has it, the
/// libseccomp that compiles it, the shim that drives libseccomp and the
/// layout it gives the program.
pub(super) fn key(seccomp: &LinuxSeccomp) -> String {
    let mut hash = Sha256::new();
    // The profile's own serialization: the same profile, the same bytes.
    let profile = serde_json::to_vec(seccomp).unwrap_or_default();
    hash.update(&profile);
    let version = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_default();
    hash.update(format!(
        "\0libseccomp {version}\0optimize {}\0relayout {}\0shim {}",
        super::compile::BINARY_TREE,
        super::relayout::VERSION,
        env!("CARGO_PKG_VERSION")
    ));
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The program kept under `key`, if there is a whole one.
pub(super) fn read(dir: &Path, key: &str) -> Option<Vec<libc::sock_filter>> {
    let bytes = std::fs::read(dir.join(format!("{key}.bpf"))).ok()?;
    super::program_of(&bytes)
}

/// Keeps `bytes` under `key`.
pub(super) fn write(dir: &Path, key: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{key}.{}", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, dir.join(format!("{key}.bpf"))));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxSeccompAction, LinuxSeccompBuilder};

    fn profile(action: LinuxSeccompAction) -> LinuxSeccomp {
        LinuxSeccompBuilder::default()
            .default_action(action)
            .build()
            .unwrap()
    }

    #[test]
    fn the_key_is_the_profiles() {
        let allow = profile(LinuxSeccompAction::ScmpActAllow);
        assert_eq!(key(&allow), key(&allow.clone()));
        assert_ne!(key(&allow), key(&profile(LinuxSeccompAction::ScmpActErrno)));
        assert_eq!(key(&allow).len(), 64);
    }

    #[test]
    fn only_whole_programs_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join(CACHE_DIR);
        assert!(read(&cache, "k").is_none());
        write(&cache, "k", &[6, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
        assert_eq!(read(&cache, "k").unwrap().len(), 1);
        std::fs::write(cache.join("k.bpf"), [6, 0, 0]).unwrap();
        assert!(read(&cache, "k").is_none());
        // Nothing but the program itself is left in the directory.
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    }
}
