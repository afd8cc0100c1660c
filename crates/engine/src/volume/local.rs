//! The `local` driver's names, options and mounts, as Docker's: a volume
//! with `type` and `device` is that filesystem (`tmpfs`, an `ext4` device,
//! a `bind` of a host directory with `o=bind`) mounted on its data
//! directory while containers use it.

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{MntFlags, MsFlags};

const VALID_OPTIONS: [&str; 4] = ["type", "device", "o", "size"];

/// Why the driver refused a volume, in Docker's words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Refused(String);

/// Docker's rule for a local volume's name.
pub(super) fn check_name(name: &str) -> Result<(), Refused> {
    if name.len() < 2 {
        return Err(Refused(
            "volume name is too short, names should be at least two alphanumeric characters".into(),
        ));
    }
    let mut chars = name.chars();
    let first = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !first || !rest {
        return Err(Refused(format!(
            "{name:?} includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )));
    }
    Ok(())
}

/// Docker's checks of the driver's options: known keys, `type` and
/// `device` together, `o` only with both; `size` needs quotas, which
/// Vessel does not set.
pub(super) fn check_options(opts: &BTreeMap<String, String>) -> Result<(), Refused> {
    for key in opts.keys() {
        if !VALID_OPTIONS.contains(&key.as_str()) {
            return Err(Refused(format!("invalid option: {key:?}")));
        }
    }
    if opts.contains_key("size") {
        return Err(Refused("quota size requested but no quota support".into()));
    }
    for (opt, needs) in [
        ("device", &["type"][..]),
        ("type", &["device"][..]),
        ("o", &["device", "type"][..]),
    ] {
        if opts.contains_key(opt) {
            if let Some(missing) = needs.iter().find(|n| !opts.contains_key(**n)) {
                return Err(Refused(format!("missing required option: {missing:?}")));
            }
        }
    }
    Ok(())
}

/// Whether the volume is a filesystem mounted on its data directory.
pub(super) fn needs_mount(opts: &BTreeMap<String, String>) -> bool {
    opts.contains_key("type") || opts.contains_key("device")
}

/// `o=`'s flags and the rest, the filesystem's own options.
fn split_options(o: &str) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for opt in o.split(',').filter(|s| !s.is_empty()) {
        let (set, clear) = match opt {
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
            "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (MsFlags::MS_DIRSYNC, MsFlags::empty()),
            "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
            "atime" => (MsFlags::empty(), MsFlags::MS_NOATIME),
            "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty()),
            "diratime" => (MsFlags::empty(), MsFlags::MS_NODIRATIME),
            "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
            "norelatime" => (MsFlags::empty(), MsFlags::MS_RELATIME),
            "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
            "bind" => (MsFlags::MS_BIND, MsFlags::empty()),
            "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()),
            other => {
                data.push(other);
                continue;
            }
        };
        flags = (flags | set) & !clear;
    }
    (flags, data.join(","))
}

/// Mounts the volume's filesystem on `dir`. A bind takes its flags in a
/// second mount, as the kernel only sets them on a remount.
pub(super) fn mount(opts: &BTreeMap<String, String>, dir: &Path) -> nix::Result<()> {
    let device = opts.get("device").map(String::as_str).unwrap_or_default();
    let typ = opts.get("type").map(String::as_str).unwrap_or_default();
    let (flags, data) = split_options(opts.get("o").map(String::as_str).unwrap_or_default());
    let data = Some(data.as_str()).filter(|d| !d.is_empty());
    nix::mount::mount(Some(device), dir, Some(typ), flags, data)?;
    let extra = flags & !(MsFlags::MS_BIND | MsFlags::MS_REC);
    if flags.contains(MsFlags::MS_BIND) && !extra.is_empty() {
        let remount = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | extra;
        if let Err(e) = nix::mount::mount(None::<&str>, dir, None::<&str>, remount, None::<&str>) {
            unmount(dir);
            return Err(e);
        }
    }
    Ok(())
}

/// Unmounts `dir` if something is mounted there.
pub(super) fn unmount(dir: &Path) {
    match nix::mount::umount2(dir, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => {}
        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "unmounting a volume"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_and_options_are_checked_as_docker_checks_them() {
        assert!(check_name("ab").is_ok() && check_name("a.b-c_1").is_ok());
        assert!(check_name("a").unwrap_err().0.contains("too short"));
        assert!(check_name("-ab")
            .unwrap_err()
            .0
            .contains("invalid characters"));
        assert!(check_name("a/b")
            .unwrap_err()
            .0
            .contains("invalid characters"));
        let ok = opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m,uid=5"),
        ]);
        assert!(check_options(&ok).is_ok() && needs_mount(&ok));
        for (given, want) in [
            (opts(&[("bogus", "1")]), "invalid option: \"bogus\""),
            (
                opts(&[("type", "tmpfs")]),
                "missing required option: \"device\"",
            ),
            (opts(&[("o", "ro")]), "missing required option: \"device\""),
            (
                opts(&[("size", "1m")]),
                "quota size requested but no quota support",
            ),
        ] {
            assert_eq!(check_options(&given).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn flags_are_taken_out_of_o() {
        let (flags, data) = split_options("size=1m,ro,noexec,uid=5,exec");
        assert_eq!(flags, MsFlags::MS_RDONLY);
        assert_eq!(data, "size=1m,uid=5");
        assert_eq!(split_options("bind").0, MsFlags::MS_BIND);
    }
}
