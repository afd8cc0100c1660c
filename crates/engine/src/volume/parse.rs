//! Docker's reading of a container's mounts on Linux: a `-v` (one of
//! `HostConfig.Binds`), a `--mount` (one of `HostConfig.Mounts`) and a
//! `--volumes-from`'s mode, each checked as Docker checks it and made a
//! [`MountPoint`] whose volume (if any) is not resolved yet.

use std::path::{Component, Path};

use bollard_stubs::models::{Mount, MountBindOptionsPropagationEnum, MountTypeEnum};

use crate::container::mounts::{Kind, MountPoint};

/// The propagation a bind gets when none is given.
pub const DEFAULT_PROPAGATION: &str = "rprivate";

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "slave", "rslave", "shared", "rshared",
];

/// Why a mount was refused, in Docker's words; the caller names the
/// field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

impl From<String> for ParseError {
    fn from(why: String) -> Self {
        ParseError(why)
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(why.into()))
}

/// Docker's check of the modes after a `-v`: at most one of each kind
/// (read-write, SELinux label, propagation, copy, consistency).
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0; 5];
    for o in mode.split(',') {
        let kind = match o {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            o if PROPAGATIONS.contains(&o) => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[kind] += 1;
    }
    counts.iter().all(|&n| n <= 1)
}

/// Whether `mode` leaves the mount writable.
pub fn read_write(mode: &str) -> bool {
    valid_mode(mode) && !mode.split(',').any(|o| o == "ro")
}

fn propagation_of(mode: &str) -> Option<&str> {
    mode.split(',').find(|o| PROPAGATIONS.contains(o))
}

/// `/` cleaned of `.`, `..` and doubled slashes, as Go's `path.Clean`.
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

/// A mount's destination: absolute, and not the root.
fn check_target(target: &str) -> Result<(), ParseError> {
    if !target.starts_with('/') {
        return refuse(format!(
            "invalid mount path: '{target}' mount path must be absolute"
        ));
    }
    if clean(target) == "/" {
        return refuse("invalid specification: destination can't be '/'");
    }
    Ok(())
}

/// One of `HostConfig.Binds`: `[SOURCE:]DESTINATION[:MODE]`, a host path
/// (absolute) or a volume's name as its source; a bind's missing source
/// is made at start.
pub fn bind(raw: &str) -> Result<MountPoint, ParseError> {
    let invalid = || format!("invalid volume specification: '{raw}'");
    let parts: Vec<&str> = raw.splitn(4, ':').collect();
    if parts[0].is_empty() {
        return refuse(invalid());
    }
    let (source, target, mode) = match parts.as_slice() {
        [t] => ("", *t, ""),
        [_, m] if valid_mode(m) => return refuse(invalid()),
        [s, t] => (*s, *t, ""),
        [s, t, m] => (*s, *t, *m),
        _ => return refuse(invalid()),
    };
    if !valid_mode(mode) {
        return refuse(format!("invalid mode: {mode}"));
    }
    let kind = match source.starts_with('/') {
        true => Kind::Bind,
        false => Kind::Volume,
    };
    let config = |e: String| {
        format!(
            "{}: invalid mount config for type \"{}\": {e}",
            invalid(),
            kind.as_str()
        )
    };
    check_target(target).map_err(|e| config(e.0))?;
    let propagation = propagation_of(mode);
    if kind == Kind::Volume && propagation.is_some() {
        return refuse(config("field BindOptions must not be specified".into()));
    }
    Ok(MountPoint {
        kind,
        name: match kind {
            Kind::Volume => source.to_string(),
            _ => String::new(),
        },
        source: match kind {
            Kind::Bind => clean(source),
            _ => String::new(),
        },
        destination: clean(target),
        driver: String::new(),
        mode: mode.to_string(),
        rw: read_write(mode),
        propagation: match kind {
            Kind::Bind => propagation.unwrap_or(DEFAULT_PROPAGATION).to_string(),
            _ => String::new(),
        },
        copy_data: !mode.split(',').any(|o| o == "nocopy"),
        named: !source.is_empty(),
        data: String::new(),
        make_source: true,
    })
}

/// One of `HostConfig.Mounts` (`--mount`). A bind's source must exist
/// unless `CreateMountpoint`; options Vessel does not carry out are
/// refused by name.
pub fn mount(m: &Mount) -> Result<MountPoint, ParseError> {
    let kind = match m.typ {
        Some(MountTypeEnum::BIND) => Kind::Bind,
        Some(MountTypeEnum::VOLUME) => Kind::Volume,
        Some(MountTypeEnum::TMPFS) => Kind::Tmpfs,
        other => {
            let typ = other.map(|t| t.to_string()).unwrap_or_default();
            return refuse(format!(
                "invalid mount config for type \"{typ}\": mount type unknown"
            ));
        }
    };
    let config = |e: &str| format!("invalid mount config for type \"{}\": {e}", kind.as_str());
    for (set, field, for_kind) in [
        (m.bind_options.is_some(), "BindOptions", Kind::Bind),
        (m.volume_options.is_some(), "VolumeOptions", Kind::Volume),
        (m.tmpfs_options.is_some(), "TmpfsOptions", Kind::Tmpfs),
    ] {
        if set && kind != for_kind {
            return refuse(config(&format!("field {field} must not be specified")));
        }
    }
    let target = m.target.as_deref().unwrap_or_default();
    if target.is_empty() {
        return refuse(config("field Target must not be empty"));
    }
    check_target(target).map_err(|e| config(&e.0))?;
    let source = m.source.as_deref().unwrap_or_default();
    let rw = !m.read_only.unwrap_or(false);
    let mut point = MountPoint {
        kind,
        name: String::new(),
        source: String::new(),
        destination: clean(target),
        driver: String::new(),
        mode: String::new(),
        rw,
        propagation: String::new(),
        copy_data: false,
        named: false,
        data: String::new(),
        make_source: false,
    };
    match kind {
        Kind::Bind => {
            if source.is_empty() {
                return refuse(config("field Source must not be empty"));
            }
            if !source.starts_with('/') {
                return refuse(config(&format!(
                    "invalid mount path: '{source}' mount path must be absolute"
                )));
            }
            let opts = m.bind_options.clone().unwrap_or_default();
            for (set, name) in [
                (opts.non_recursive, "NonRecursive"),
                (opts.read_only_non_recursive, "ReadOnlyNonRecursive"),
                (opts.read_only_force_recursive, "ReadOnlyForceRecursive"),
            ] {
                if set.unwrap_or(false) {
                    return refuse(format!(
                        "BindOptions.{name}: not supported: Vessel binds recursively"
                    ));
                }
            }
            point.make_source = opts.create_mountpoint.unwrap_or(false);
            if !point.make_source && !Path::new(source).exists() {
                return refuse(config(&format!(
                    "bind source path does not exist: {source}"
                )));
            }
            point.source = clean(source);
            point.propagation = match opts.propagation {
                None | Some(MountBindOptionsPropagationEnum::EMPTY) => DEFAULT_PROPAGATION.into(),
                Some(p) => p.to_string(),
            };
        }
        Kind::Volume => {
            let opts = m.volume_options.clone().unwrap_or_default();
            if opts.subpath.as_deref().is_some_and(|s| !s.is_empty()) {
                return refuse(
                    "VolumeOptions.Subpath: not supported: Vessel mounts a volume whole",
                );
            }
            point.name = source.to_string();
            point.named = !source.is_empty();
            point.copy_data = !opts.no_copy.unwrap_or(false);
            point.driver = opts.driver_config.and_then(|d| d.name).unwrap_or_default();
        }
        Kind::Tmpfs => {
            if !source.is_empty() {
                return refuse(config("field Source must not be specified"));
            }
            point.data = tmpfs_data(m, !rw);
        }
    }
    Ok(point)
}

/// A tmpfs mount's options as Docker writes them: `ro`, the mode in
/// octal, the size in the largest unit that divides it.
fn tmpfs_data(m: &Mount, read_only: bool) -> String {
    let mut opts = Vec::new();
    if read_only {
        opts.push("ro".to_string());
    }
    let t = m.tmpfs_options.clone().unwrap_or_default();
    if let Some(mode) = t.mode.filter(|&m| m != 0) {
        opts.push(format!("mode={mode:o}"));
    }
    if let Some(size) = t.size_bytes.filter(|&s| s != 0) {
        let unit = [("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)]
            .into_iter()
            .find(|(_, d)| size % d == 0);
        opts.push(match unit {
            Some((suffix, d)) => format!("size={}{suffix}", size / d),
            None => format!("size={size}"),
        });
    }
    opts.join(",")
}

/// A `--volumes-from`: `CONTAINER[:ro|rw]`; the container and the mode.
pub fn volumes_from(spec: &str) -> Result<(&str, &str), ParseError> {
    if spec.is_empty() {
        return refuse("volumes-from specification cannot be an empty string");
    }
    let (id, mode) = spec.split_once(':').unwrap_or((spec, ""));
    if mode.is_empty() {
        return Ok((id, "rw"));
    }
    let copy = mode.split(',').any(|o| o == "nocopy");
    if !valid_mode(mode) || propagation_of(mode).is_some() || copy {
        return refuse(format!("invalid mode: {mode}"));
    }
    Ok((id, mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard_stubs::models::{MountBindOptions, MountTmpfsOptions, MountVolumeOptions};

    #[test]
    fn binds_read_as_docker_reads_them() {
        let b = bind("/tmp/../srv//x:/data:ro,rslave").unwrap();
        assert_eq!((b.kind, b.source.as_str()), (Kind::Bind, "/srv/x"));
        assert_eq!((b.rw, b.propagation.as_str()), (false, "rslave"));
        let v = bind("cache:/c:nocopy").unwrap();
        assert_eq!(
            (v.kind, v.name.as_str(), v.named),
            (Kind::Volume, "cache", true)
        );
        assert!(!v.copy_data && v.rw && v.propagation.is_empty());
        let anon = bind("/only").unwrap();
        assert_eq!(
            (anon.kind, anon.named, anon.copy_data),
            (Kind::Volume, false, true)
        );
        for (raw, want) in [
            ("vol:ro", "invalid volume specification: 'vol:ro'"),
            ("/a:/b:zz", "invalid mode: zz"),
            ("/a:/b:ro,rw", "invalid mode: ro,rw"),
            ("/a:/", "destination can't be '/'"),
            ("/a:rel", "mount path must be absolute"),
            ("v:/b:rshared", "field BindOptions must not be specified"),
            ("a:b:c:d", "invalid volume specification"),
            (":/b", "invalid volume specification"),
        ] {
            let e = bind(raw).unwrap_err().to_string();
            assert!(e.contains(want), "{raw}: {e}");
        }
    }

    #[test]
    fn mounts_are_checked_by_type() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().to_str().unwrap().to_string();
        let b = mount(&Mount {
            typ: Some(MountTypeEnum::BIND),
            source: Some(src.clone()),
            target: Some("/d".into()),
            read_only: Some(true),
            bind_options: Some(MountBindOptions {
                propagation: Some(MountBindOptionsPropagationEnum::RSHARED),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (b.rw, b.propagation.as_str(), b.make_source),
            (false, "rshared", false)
        );
        let missing = Mount {
            typ: Some(MountTypeEnum::BIND),
            source: Some(format!("{src}/none")),
            target: Some("/d".into()),
            ..Default::default()
        };
        assert!(mount(&missing)
            .unwrap_err()
            .to_string()
            .contains("bind source path does not exist"));
        let t = mount(&Mount {
            typ: Some(MountTypeEnum::TMPFS),
            target: Some("/t".into()),
            tmpfs_options: Some(MountTmpfsOptions {
                size_bytes: Some(3 << 20),
                mode: Some(0o1770),
            }),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(t.data, "mode=1770,size=3m");
        let v = mount(&Mount {
            typ: Some(MountTypeEnum::VOLUME),
            target: Some("/v".into()),
            volume_options: Some(MountVolumeOptions {
                no_copy: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
        assert!(!v.named && !v.copy_data);
        let wrong = Mount {
            typ: Some(MountTypeEnum::TMPFS),
            target: Some("/t".into()),
            volume_options: Some(Default::default()),
            ..Default::default()
        };
        assert!(mount(&wrong)
            .unwrap_err()
            .to_string()
            .contains("VolumeOptions must not be specified"));
    }

    #[test]
    fn volumes_from_takes_only_a_read_write_mode() {
        assert_eq!(volumes_from("web").unwrap(), ("web", "rw"));
        assert_eq!(volumes_from("web:ro").unwrap(), ("web", "ro"));
        assert!(volumes_from("web:rshared").is_err());
        assert!(volumes_from("web:nocopy").is_err());
        assert!(volumes_from("").is_err());
    }
}
