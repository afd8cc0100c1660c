//! Turning a user's OCI bundle into the one the container runs from.
//!
//! The shim never runs the user's `config.json` as it is: it writes its own
//! copy under the container's directory with the rootfs made absolute (or
//! pointed at the overlay mount of the image's layers), `linux.cgroupsPath`
//! always set (libcontainer names v1 cgroups `:youki:<id>` otherwise), and
//! Windows-style resources mapped onto Linux ones.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Linux, RootBuilder, Spec};
use serde::de::DeserializeOwned;
use serde_json::Value;
use thiserror::Error;

use crate::layout::ContainerDir;
use crate::resources::{apply_windows_resources, HostResources, ResourceError};

/// An annotation listing the image's layer directories, upper-most first
/// (as overlayfs' `lowerdir`), as a JSON array of paths.
pub const LAYERS_ANNOTATION: &str = "org.vessel.rootfs.layers";

/// An annotation naming the directory that holds the container's
/// writable layer (its `upper/` and `work/`), which the caller keeps from
/// one start to the next as Docker keeps a container's changes until it
/// is removed. Without it the layer lives and dies with the container's
/// runtime directory.
pub const WRITABLE_ANNOTATION: &str = "org.vessel.rootfs.writable";

/// An annotation naming groups (a JSON array of names) the process is to
/// be in too: looked up in the container's own /etc/group by the shim and
/// added to `process.user.additionalGids` (Docker's `--group-add NAME`).
pub const GROUPS_ANNOTATION: &str = "org.vessel.process.groups";

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
    /// The spec as the container runs it: what the user's says (a field
    /// it leaves out stays out), rewritten as the module's page says.
    pub spec: Spec,
    /// The image's layers, when the rootfs is an overlay of them.
    pub layers: Option<Vec<PathBuf>>,
    /// Where the overlay's writable layer is kept, when not in the
    /// container's runtime directory.
    pub writable_layer: Option<PathBuf>,
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
    let (mut spec, windows) = parse(&path, &text)?;
    let root_path = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .unwrap_or_default();
    let layers = layers(&spec, bundle)?;
    let writable_layer = writable_layer(&spec)?;
    let rootfs = match &layers {
        Some(_) => cdir.rootfs(),
        None => {
            if root_path.as_os_str().is_empty() {
                return field("root.path", "", "must name the container's root filesystem");
            }
            let abs = bundle.join(&root_path);
            if !abs.is_dir() {
                return field(
                    "root.path",
                    &root_path.to_string_lossy(),
                    "is not a directory",
                );
            }
            abs
        }
    };
    // The writable layer's device takes the storage limits.
    let writable = match (&layers, &writable_layer) {
        (Some(_), Some(w)) => w.parent().unwrap_or(w),
        (Some(_), None) => cdir.path(),
        (None, _) => rootfs.as_path(),
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
    let warnings = apply_windows_resources(&mut spec, windows.as_ref(), host)?;

    let given = spec.linux().as_ref().and_then(|l| l.cgroups_path().clone());
    let cgroups_path = match given {
        Some(p) if !p.as_os_str().is_empty() => p.to_string_lossy().into_owned(),
        _ => default_cgroups_path(id),
    };
    let readonly = spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false);
    let root = RootBuilder::default()
        .path(rootfs.clone())
        .readonly(readonly)
        .build()
        .expect("both fields are given");
    spec.set_root(Some(root));
    spec.linux_mut()
        .get_or_insert_with(empty_linux)
        .set_cgroups_path(Some(PathBuf::from(&cgroups_path)));
    let dir = cdir.bundle();
    std::fs::create_dir_all(&dir)?;
    Ok(RuntimeBundle {
        source: bundle.to_path_buf(),
        dir,
        spec,
        layers,
        writable_layer,
        rootfs,
        cgroups_path,
        warnings,
    })
}

/// The spec in `text` (the file at `path`), and apart from it its Windows
/// section, which a Linux container does not run with: its resources are
/// mapped onto Linux ones (see [`crate::resources`]) and it is dropped.
fn parse(path: &Path, text: &str) -> Result<(Spec, Option<Value>), BundleError> {
    let invalid = |reason: String| BundleError::Parse {
        path: path.to_path_buf(),
        reason,
    };
    // Without the key anywhere in the text there is no section to take
    // apart: the spec is read straight, not through a tree of values (with
    // Docker's seccomp profile, that tree is some 400 strings more).
    if !text.contains("\"windows\"") {
        let spec = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        return Ok((spec, None));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let Value::Object(mut fields) = value else {
        return Err(invalid("not a JSON object".into()));
    };
    let windows = fields.remove("windows");
    let spec = serde_json::from_value(Value::Object(fields)).map_err(|e| invalid(e.to_string()))?;
    Ok((spec, windows))
}

/// A section of the spec with none of its fields given. (oci-spec's
/// `Default` is runc's example spec, namespaces, capabilities and all.)
pub(crate) fn empty<T: DeserializeOwned>() -> T {
    serde_json::from_str("{}").expect("a spec section whose fields are all optional")
}

fn empty_linux() -> Linux {
    empty()
}

/// Where Vessel's containers' cgroups are, in every hierarchy.
pub const CGROUP_PARENT: &str = "/vessel";

/// The cgroup of a container whose spec names none.
pub fn default_cgroups_path(id: &str) -> String {
    format!("{CGROUP_PARENT}/{id}")
}

/// The cgroup the runtime bundle in `cdir` gave its container, if written.
pub fn written_cgroups_path(cdir: &ContainerDir) -> Option<String> {
    let spec = crate::record::read_json::<Spec>(&cdir.bundle().join("config.json"))
        .ok()
        .flatten()?;
    let path = spec.linux().as_ref()?.cgroups_path().as_ref()?;
    Some(path.to_string_lossy().into_owned())
}

fn writable_layer(spec: &Spec) -> Result<Option<PathBuf>, BundleError> {
    let Some(raw) = spec
        .annotations()
        .as_ref()
        .and_then(|a| a.get(WRITABLE_ANNOTATION))
    else {
        return Ok(None);
    };
    let name = format!("annotations.{WRITABLE_ANNOTATION}");
    if !raw.starts_with('/') {
        return field(&name, raw, "must be an absolute path");
    }
    if raw.contains([':', ',']) {
        return field(&name, raw, "cannot hold ':' or ',' (overlayfs options)");
    }
    Ok(Some(PathBuf::from(raw)))
}

fn layers(spec: &Spec, bundle: &Path) -> Result<Option<Vec<PathBuf>>, BundleError> {
    let Some(raw) = spec
        .annotations()
        .as_ref()
        .and_then(|a| a.get(LAYERS_ANNOTATION))
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
    use serde_json::json;

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
        let (_d, bundle, cdir) = bundle_with(json!({"root": {"path": "rootfs"},
            "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}}));
        let rb = prepare(&bundle, &cdir, "c1", || 2).unwrap();
        assert_eq!(rb.rootfs, bundle.join("rootfs"));
        assert_eq!(rb.cgroups_path, "/vessel/c1");
        let spec = serde_json::to_value(&rb.spec).unwrap();
        assert_eq!(spec["root"]["path"], json!(bundle.join("rootfs")));
        assert_eq!(spec["linux"]["cgroupsPath"], "/vessel/c1");
        assert_eq!(rb.dir, cdir.bundle());
    }

    #[test]
    fn what_the_spec_leaves_out_stays_out() {
        let process = json!({"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}});
        let (_d, bundle, cdir) = bundle_with(json!({"ociVersion": "1.0.2",
            "root": {"path": "rootfs"}, "process": process,
            "windows": {"resources": {"memory": {"limit": 4096}}}}));
        let rb = prepare(&bundle, &cdir, "c1", || 2).unwrap();
        let spec = serde_json::to_value(&rb.spec).unwrap();
        assert_eq!(spec["process"], process);
        assert_eq!(
            spec["linux"],
            json!({"cgroupsPath": "/vessel/c1", "resources": {"memory": {"limit": 4096}}})
        );
        for absent in ["mounts", "hostname", "hooks", "windows", "annotations"] {
            assert!(spec.get(absent).is_none(), "{absent}: {spec}");
        }
    }

    #[test]
    fn a_spec_is_read_alike_with_or_without_the_windows_key_in_its_text() {
        let path = Path::new("config.json");
        for name in ["windows", "linux"] {
            let text = json!({"ociVersion": "1.0.2", "hostname": name}).to_string();
            let (spec, windows) = parse(path, &text).unwrap();
            assert_eq!(spec.hostname().as_deref(), Some(name));
            assert!(windows.is_none());
        }
        for bad in [
            "[1]",
            "{\"hostname\": 1}",
            "{\"windows\": 1, \"hostname\": 1}",
        ] {
            let e = parse(path, bad).unwrap_err().to_string();
            assert!(
                e.starts_with("config.json: not a valid spec: "),
                "{bad}: {e}"
            );
        }
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
