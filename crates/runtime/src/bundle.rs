//! Turning a user's OCI bundle into the one the container runs from.
//!
//! The shim never runs the user's `config.json` as it is: it writes its own
//! copy under the container's directory with the rootfs made absolute (or
//! pointed at the overlay mount of the image's layers), `linux.cgroupsPath`
//! always set (libcontainer names v1 cgroups `:youki:<id>` otherwise), and
//! Windows-style resources mapped onto Linux ones.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use thiserror::Error;

use crate::layout::ContainerDir;
use crate::resources::{apply_windows_resources, HostResources, ResourceError};

/// An annotation listing the image's layer directories, upper-most first
/// (as overlayfs' `lowerdir`), as a JSON array of paths.
pub const LAYERS_ANNOTATION: &str = "org.vessel.rootfs.layers";

/// Why a bundle cannot be run.
#[derive(Debug, Error)]
pub enum BundleError {
    #[error("{path}: cannot read the bundle's config.json: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid spec: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{field}: {value:?} {reason}")]
    Field {
        field: String,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Resources(#[from] ResourceError),
    #[error("writing the runtime bundle: {0}")]
    Write(#[from] std::io::Error),
}

/// A bundle ready for libcontainer.
#[derive(Debug, Clone)]
pub struct RuntimeBundle {
    /// The user's bundle.
    pub source: PathBuf,
    /// The directory holding our `config.json`.
    pub dir: PathBuf,
    pub spec: Value,
    /// The image's layers, when the rootfs is an overlay of them.
    pub layers: Option<Vec<PathBuf>>,
    /// What the container sees as `/`.
    pub rootfs: PathBuf,
    pub cgroups_path: String,
    pub warnings: Vec<String>,
}

/// Reads `bundle/config.json` and derives the runtime copy (the caller
/// writes it to `dir/config.json` once the rootfs is in place).
pub fn prepare(
    bundle: &Path,
    cdir: &ContainerDir,
    id: &str,
    host_cpus: impl FnOnce() -> u64,
) -> Result<RuntimeBundle, BundleError> {
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|source| BundleError::Read {
        path: path.clone(),
        source,
    })?;
    let mut spec: Value = serde_json::from_str(&text).map_err(|e| BundleError::Parse {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if !spec.is_object() {
        return Err(BundleError::Parse {
            path,
            reason: "not a JSON object".into(),
        });
    }
    let root_path = spec
        .pointer("/root/path")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let layers = layers(&spec, bundle)?;
    let rootfs = match &layers {
        Some(_) => cdir.rootfs(),
        None => {
            if root_path.is_empty() {
                return field("root.path", "", "must name the container's root filesystem");
            }
            let abs = bundle.join(&root_path);
            if !abs.is_dir() {
                return field("root.path", &root_path, "is not a directory");
            }
            abs
        }
    };
    // The writable layer's device takes the storage limits.
    let writable = if layers.is_some() {
        cdir.path()
    } else {
        rootfs.as_path()
    };
    let host = || {
        let dev = std::fs::metadata(writable).map(|m| m.dev()).unwrap_or(0);
        HostResources {
            cpus: host_cpus(),
            writable_device: whole_disk(
                Path::new("/sys/dev/block"),
                dev_major(dev),
                dev_minor(dev),
            ),
        }
    };
    let warnings = apply_windows_resources(&mut spec, host)?;

    let cgroups_path = match spec.pointer("/linux/cgroupsPath").and_then(Value::as_str) {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => default_cgroups_path(id),
    };
    let obj = spec.as_object_mut().expect("checked above");
    obj.insert(
        "root".into(),
        json!({
            "path": rootfs,
            "readonly": spec_readonly(obj),
        }),
    );
    let linux = obj.entry("linux").or_insert_with(|| json!({}));
    if let Some(linux) = linux.as_object_mut() {
        linux.insert("cgroupsPath".into(), json!(cgroups_path));
    }
    let dir = cdir.bundle();
    std::fs::create_dir_all(&dir)?;
    Ok(RuntimeBundle {
        source: bundle.to_path_buf(),
        dir,
        spec,
        layers,
        rootfs,
        cgroups_path,
        warnings,
    })
}

/// Where Vessel's containers' cgroups are, in every hierarchy.
pub const CGROUP_PARENT: &str = "/vessel";

/// The cgroup of a container whose spec names none.
pub fn default_cgroups_path(id: &str) -> String {
    format!("{CGROUP_PARENT}/{id}")
}

/// The cgroup the runtime bundle in `cdir` gave its container, if written.
pub fn written_cgroups_path(cdir: &ContainerDir) -> Option<String> {
    crate::record::read_json::<Value>(&cdir.bundle().join("config.json"))
        .ok()
        .flatten()?
        .pointer("/linux/cgroupsPath")?
        .as_str()
        .map(String::from)
}

fn spec_readonly(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("root")
        .and_then(|r| r.get("readonly"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn layers(spec: &Value, bundle: &Path) -> Result<Option<Vec<PathBuf>>, BundleError> {
    let Some(raw) = spec
        .pointer("/annotations")
        .and_then(|a| a.get(LAYERS_ANNOTATION))
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let field_name = format!("annotations.{LAYERS_ANNOTATION}");
    let list: Vec<String> = serde_json::from_str(raw).map_err(|_| BundleError::Field {
        field: field_name.clone(),
        value: raw.to_string(),
        reason: "is not a JSON array of paths".into(),
    })?;
    if list.is_empty() {
        return field(&field_name, raw, "names no layer");
    }
    let mut out = Vec::new();
    for layer in list {
        let path = bundle.join(&layer);
        if !path.is_dir() {
            return field(&field_name, &layer, "is not a directory");
        }
        if layer.contains(':') || layer.contains(',') {
            return field(
                &field_name,
                &layer,
                "cannot hold ':' or ',' (overlayfs options)",
            );
        }
        out.push(path);
    }
    Ok(Some(out))
}

fn field<T>(field: &str, value: &str, reason: &str) -> Result<T, BundleError> {
    Err(BundleError::Field {
        field: field.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    })
}

/// The disk a device belongs to: I/O throttling takes whole disks, not
/// partitions. `sysfs_block` is `/sys/dev/block` (a parameter for tests).
pub fn whole_disk(sysfs_block: &Path, major: u64, minor: u64) -> (u64, u64) {
    let dev = sysfs_block.join(format!("{major}:{minor}"));
    if !dev.join("partition").exists() {
        return (major, minor);
    }
    std::fs::read_to_string(dev.join("../dev"))
        .ok()
        .and_then(|s| {
            let (ma, mi) = s.trim().split_once(':')?;
            Some((ma.parse().ok()?, mi.parse().ok()?))
        })
        .unwrap_or((major, minor))
}

/// The major number of a `st_dev` (glibc's encoding).
pub fn dev_major(dev: u64) -> u64 {
    ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)
}

/// The minor number of a `st_dev`.
pub fn dev_minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & !0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle_with(spec: Value) -> (tempfile::TempDir, PathBuf, ContainerDir) {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("b");
        std::fs::create_dir_all(bundle.join("rootfs")).unwrap();
        std::fs::create_dir_all(bundle.join("l1")).unwrap();
        std::fs::write(bundle.join("config.json"), spec.to_string()).unwrap();
        let cdir = ContainerDir::new(&dir.path().join("state"), "c1");
        std::fs::create_dir_all(cdir.path()).unwrap();
        (dir, bundle, cdir)
    }

    #[test]
    fn rootfs_is_made_absolute_and_cgroups_path_set() {
        let (_d, bundle, cdir) =
            bundle_with(json!({"root": {"path": "rootfs"}, "process": {"args": ["true"]}}));
        let rb = prepare(&bundle, &cdir, "c1", || 2).unwrap();
        assert_eq!(rb.rootfs, bundle.join("rootfs"));
        assert_eq!(rb.cgroups_path, "/vessel/c1");
        assert_eq!(rb.spec["root"]["path"], json!(bundle.join("rootfs")));
        assert_eq!(rb.spec["linux"]["cgroupsPath"], "/vessel/c1");
        assert_eq!(rb.dir, cdir.bundle());
    }

    #[test]
    fn a_given_cgroups_path_is_kept() {
        let (_d, bundle, cdir) =
            bundle_with(json!({"root": {"path": "rootfs"}, "linux": {"cgroupsPath": "/x/y"}}));
        assert_eq!(
            prepare(&bundle, &cdir, "c1", || 2).unwrap().cgroups_path,
            "/x/y"
        );
    }

    #[test]
    fn a_missing_rootfs_names_the_field() {
        let (_d, bundle, cdir) = bundle_with(json!({"root": {"path": "nope"}}));
        let e = prepare(&bundle, &cdir, "c1", || 2).unwrap_err().to_string();
        assert_eq!(e, "root.path: \"nope\" is not a directory");
    }

    #[test]
    fn layers_put_the_rootfs_on_the_overlay_mount_point() {
        let (_d, bundle, cdir) =
            bundle_with(json!({"annotations": {LAYERS_ANNOTATION: "[\"l1\"]"}}));
        let rb = prepare(&bundle, &cdir, "c1", || 2).unwrap();
        assert_eq!(rb.rootfs, cdir.rootfs());
        assert_eq!(rb.layers.unwrap(), vec![bundle.join("l1")]);
    }

    #[test]
    fn a_bad_layer_names_it() {
        let (_d, bundle, cdir) =
            bundle_with(json!({"annotations": {LAYERS_ANNOTATION: "[\"l1\",\"l2\"]"}}));
        let e = prepare(&bundle, &cdir, "c1", || 2).unwrap_err().to_string();
        assert!(e.contains("\"l2\" is not a directory"), "{e}");
    }

    #[test]
    fn a_partition_maps_to_its_disk() {
        let sys = tempfile::tempdir().unwrap();
        // /sys/dev/block/8:1 -> ../../block/sda/sda1, whose parent holds dev 8:0
        let disk = sys.path().join("block/sda");
        std::fs::create_dir_all(disk.join("sda1")).unwrap();
        std::fs::write(disk.join("dev"), "8:0\n").unwrap();
        std::fs::write(disk.join("sda1/partition"), "1\n").unwrap();
        let links = sys.path().join("dev-block");
        std::fs::create_dir_all(&links).unwrap();
        std::os::unix::fs::symlink(disk.join("sda1"), links.join("8:1")).unwrap();
        std::os::unix::fs::symlink(&disk, links.join("8:0")).unwrap();
        assert_eq!(whole_disk(&links, 8, 1), (8, 0));
        assert_eq!(whole_disk(&links, 8, 0), (8, 0));
        assert_eq!(whole_disk(&links, 0, 45), (0, 45));
    }

    #[test]
    fn device_numbers_split() {
        assert_eq!((dev_major(0xfe00), dev_minor(0xfe00)), (254, 0));
        assert_eq!((dev_major(0x803), dev_minor(0x803)), (8, 3));
    }
}
