//! Devices: the host's nodes a container is given (`--device`, or all of
//! them when privileged) and the device cgroup rules of
//! `--device-cgroup-rule`.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use bollard_stubs::models::DeviceMapping;
use oci_spec::runtime::{
    LinuxDevice, LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType,
};

use super::oci_error;
use crate::error::{EngineError, Result};

/// Directories under /dev whose nodes are a container's own.
const OWN: &[&str] = &["pts", "shm", "mqueue"];

/// Every character and block device under `dev` (the host's /dev), with
/// its numbers, mode and owner; links, sockets and pipes are left out.
pub fn host_devices(dev: &Path) -> Vec<LinuxDevice> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![dev.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let t = meta.file_type();
            if t.is_dir() {
                if !(dir == dev && OWN.iter().any(|o| e.file_name() == *o)) {
                    dirs.push(path);
                }
                continue;
            }
            let typ = match (t.is_char_device(), t.is_block_device()) {
                (true, _) => LinuxDeviceType::C,
                (_, true) => LinuxDeviceType::B,
                _ => continue,
            };
            out.push(node(path, typ, &meta));
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

/// A device node at `path` in the container, like the host's `meta`.
fn node(path: PathBuf, typ: LinuxDeviceType, meta: &std::fs::Metadata) -> LinuxDevice {
    let rdev = meta.rdev();
    let mut d = LinuxDevice::default();
    d.set_path(path)
        .set_typ(typ)
        .set_major(nix::sys::stat::major(rdev) as i64)
        .set_minor(nix::sys::stat::minor(rdev) as i64)
        .set_file_mode(Some(meta.mode() & 0o7777))
        .set_uid(Some(meta.uid()))
        .set_gid(Some(meta.gid()));
    d
}

/// `--device HOST[:CONTAINER][:PERMS]`: the nodes, and a cgroup rule
/// allowing each with its permissions (`rwm` by default).
pub fn mapped(given: &[DeviceMapping]) -> Result<(Vec<LinuxDevice>, Vec<LinuxDeviceCgroup>)> {
    let mut nodes = Vec::new();
    let mut rules = Vec::new();
    for (i, m) in given.iter().enumerate() {
        let field = format!("HostConfig.Devices[{i}]");
        let host = m.path_on_host.as_deref().unwrap_or_default();
        let inside = m
            .path_in_container
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or(host);
        let perms = m
            .cgroup_permissions
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or("rwm");
        let bad = |why: String| EngineError::InvalidParameter(format!("{field}: {host:?}: {why}"));
        if !inside.starts_with("/dev/") || perms.chars().any(|c| !"rwm".contains(c)) {
            return Err(bad(format!("{inside}:{perms} is not /dev/PATH:[rwm]")));
        }
        let meta = std::fs::metadata(host).map_err(|e| bad(format!("cannot use it: {e}")))?;
        let t = meta.file_type();
        let typ = match (t.is_char_device(), t.is_block_device()) {
            (true, _) => LinuxDeviceType::C,
            (_, true) => LinuxDeviceType::B,
            _ => return Err(bad("not a device node".into())),
        };
        let d = node(PathBuf::from(inside), typ, &meta);
        rules.push(rule(true, typ, Some(d.major()), Some(d.minor()), perms)?);
        nodes.push(d);
    }
    Ok((nodes, rules))
}

/// A device cgroup rule.
pub fn rule(
    allow: bool,
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> Result<LinuxDeviceCgroup> {
    let mut b = LinuxDeviceCgroupBuilder::default()
        .allow(allow)
        .typ(typ)
        .access(access);
    if let Some(major) = major {
        b = b.major(major);
    }
    if let Some(minor) = minor {
        b = b.minor(minor);
    }
    b.build().map_err(oci_error)
}

/// `--device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS'` (`a`, `b` or `c`; a
/// number or `*`; a part of `rwm`): allowing rules.
pub fn cgroup_rules(given: &[String]) -> Result<Vec<LinuxDeviceCgroup>> {
    given
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let bad = || {
                EngineError::InvalidParameter(format!(
                    "HostConfig.DeviceCgroupRules[{i}]: {r:?} is not 'TYPE MAJOR:MINOR ACCESS'"
                ))
            };
            let parts: Vec<&str> = r.split_whitespace().collect();
            let [kind, numbers, access] = parts[..] else {
                return Err(bad());
            };
            let typ = match kind {
                "a" => LinuxDeviceType::A,
                "b" => LinuxDeviceType::B,
                "c" => LinuxDeviceType::C,
                _ => return Err(bad()),
            };
            let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
            let number = |n: &str| match n {
                "*" => Ok(None),
                n => n.parse::<i64>().map(Some).map_err(|_| bad()),
            };
            if access.is_empty() || access.chars().any(|c| !"rwm".contains(c)) {
                return Err(bad());
            }
            rule(true, typ, number(major)?, number(minor)?, access)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_null_device_is_found() {
        let devices = host_devices(Path::new("/dev"));
        let null = devices
            .iter()
            .find(|d| d.path() == Path::new("/dev/null"))
            .expect("/dev/null");
        assert_eq!((null.major(), null.minor()), (1, 3));
        assert!(devices.iter().all(|d| !d.path().starts_with("/dev/pts")));
    }

    #[test]
    fn mapped_devices_and_rules_are_checked() {
        let m = DeviceMapping {
            path_on_host: Some("/dev/null".into()),
            path_in_container: Some("/dev/xnull".into()),
            cgroup_permissions: Some("r".into()),
        };
        let (nodes, rules) = mapped(&[m]).unwrap();
        assert_eq!(nodes[0].path(), Path::new("/dev/xnull"));
        assert_eq!(rules[0].to_string(), "c 1:3 r");
        let missing = DeviceMapping {
            path_on_host: Some("/nonexistent".into()),
            ..Default::default()
        };
        let e = mapped(&[missing]).unwrap_err().to_string();
        assert!(
            e.contains("Devices[0]") && e.contains("/nonexistent"),
            "{e}"
        );
        let r = cgroup_rules(&["c 1:3 rwm".into(), "a *:* m".into()]).unwrap();
        assert_eq!(r[1].to_string(), "a *:* m");
        assert!(cgroup_rules(&["x 1:3 rwm".into()]).is_err());
    }
}
