//! A Windows container from a runtime-spec 1.0 spec (Docker, 2017 on).

use super::resources::{bytes_to_mb, set_cpu_count};
use super::{layers_of, BuildOptions, Document, Flavor, HostFacts};
use crate::error::HcsConfigError;
use crate::layer_id::LayerIdSource;
use crate::schema::{ContainerConfig, HvRuntime, MappedDir, MappedPipe};
use crate::spec::{oci, Spec};
use crate::winpath;

/// Container paths under this prefix are named pipes, not directories.
const PIPE_PREFIX: &str = r"\\.\pipe\";

/// The first Windows build that can map named pipes into a container.
const MIN_PIPE_BUILD: u32 = 16210;

pub(super) fn build(
    spec: &Spec,
    windows: &oci::Windows,
    mounts: &[oci::Mount],
    opts: &BuildOptions,
    host: &HostFacts,
    layer_ids: &dyn LayerIdSource,
) -> Result<Document, HcsConfigError> {
    let mut cfg = ContainerConfig {
        system_type: "Container".into(),
        name: opts.id.clone(),
        owner: opts.owner.clone(),
        ignore_flushes_during_boot: windows.ignore_flushes_during_boot,
        host_name: spec.hostname.clone(),
        hv_partition: windows.hyperv.is_some(),
        servicing: windows.servicing,
        ..Default::default()
    };
    let warnings = match &windows.resources {
        Some(res) => set_resources(&mut cfg, res, host),
        None => Vec::new(),
    };
    set_network(&mut cfg, windows.network.as_ref());
    if let Some(serde_json::Value::String(credentials)) = &windows.credential_spec {
        cfg.credentials = credentials.clone();
    }
    let image_layers = set_layer_folder(&mut cfg, windows)?;
    set_root(&mut cfg, spec, windows.hyperv.as_ref(), image_layers, host)?;
    cfg.layers = Some(layers_of(
        "windows.layerFolders",
        image_layers,
        layer_ids,
        str::to_string,
    )?);
    map_mounts(&mut cfg, mounts, host)?;

    Ok(Document {
        config: cfg,
        flavor: Flavor::Windows,
        servicing: windows.servicing,
        guest_spec: None,
        warnings,
    })
}

/// CPU, memory and storage limits. Returns the warnings they give.
fn set_resources(cfg: &mut ContainerConfig, res: &oci::Resources, host: &HostFacts) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(cpu) = &res.cpu {
        if let Some(count) = cpu.count {
            warnings.extend(set_cpu_count(cfg, count, host.cpu_count));
        }
        if let Some(shares) = cpu.shares {
            cfg.processor_weight = u64::from(shares);
        }
        if let Some(maximum) = cpu.maximum {
            cfg.processor_maximum = i64::from(maximum);
        }
    }
    if let Some(limit) = res.memory.as_ref().and_then(|m| m.limit) {
        cfg.memory_maximum_in_mb = bytes_to_mb(i64::try_from(limit).unwrap_or(i64::MAX));
    }
    if let Some(storage) = &res.storage {
        cfg.storage_bandwidth_maximum = storage.bps.unwrap_or(0);
        cfg.storage_iops_maximum = storage.iops.unwrap_or(0);
    }
    warnings
}

/// The layer folders: the bottom ones are the image, returned; the top one
/// is the container's own writable layer, which HCS takes separately.
fn set_layer_folder<'w>(
    cfg: &mut ContainerConfig,
    windows: &'w oci::Windows,
) -> Result<&'w [String], HcsConfigError> {
    let folders = windows.layer_folders.as_deref().unwrap_or_default();
    let Some((top, image_layers)) = folders.split_last().filter(|_| folders.len() >= 2) else {
        return Err(HcsConfigError::TooFewLayerFolders {
            min: 2,
            found: folders.len(),
        });
    };
    // Every container's, Hyper-V ones too: the reference's table says
    // "servicing only" for those, its code always assigns it.
    cfg.layer_folder_path = top.clone();
    Ok(image_layers)
}

/// The root file system: a Hyper-V container's utility VM, or a process
/// container's volume. Neither may be read-only.
fn set_root(
    cfg: &mut ContainerConfig,
    spec: &Spec,
    hyperv: Option<&oci::HyperV>,
    image_layers: &[String],
    host: &HostFacts,
) -> Result<(), HcsConfigError> {
    if let Some(hyperv) = hyperv {
        if !hyperv.utility_vm_path.is_empty() {
            return Err(HcsConfigError::ExplicitUtilityVmPath {
                path: hyperv.utility_vm_path.clone(),
            });
        }
        cfg.hv_runtime = Some(HvRuntime {
            image_path: find_utility_vm(image_layers, host)?,
            ..Default::default()
        });
        if !spec.root.path.is_empty() {
            return Err(HcsConfigError::RootPathWithHyperV {
                path: spec.root.path.clone(),
            });
        }
    } else {
        if !winpath::is_volume_guid_path(&spec.root.path) {
            return Err(HcsConfigError::RootPathNotVolumeGuid {
                path: spec.root.path.clone(),
            });
        }
        // HCS wants the volume path without its trailing backslash.
        let path = &spec.root.path;
        cfg.volume_path = path[..path.len() - 1].to_string();
    }
    if spec.root.readonly {
        return Err(HcsConfigError::ReadonlyRoot);
    }
    Ok(())
}

/// Endpoints, DNS and network sharing, the same for Windows and LCOW.
pub(super) fn set_network(cfg: &mut ContainerConfig, network: Option<&oci::Network>) {
    let Some(network) = network else { return };
    cfg.endpoint_list = network.endpoint_list.clone();
    cfg.allow_unqualified_dns_query = network.allow_unqualified_dns_query;
    if let Some(list) = &network.dns_search_list {
        cfg.dns_search_list = list.join(",");
    }
    cfg.network_shared_container_name = network.network_shared_container_name.clone();
}

/// The utility VM image of the upper-most layer that has one.
fn find_utility_vm(image_layers: &[String], host: &HostFacts) -> Result<String, HcsConfigError> {
    for (index, folder) in image_layers.iter().enumerate() {
        let candidate = winpath::join(folder, "UtilityVM");
        let on_host = host.windows_fs.locate(&candidate).ok_or_else(|| {
            HcsConfigError::UnmappedWindowsPath {
                field: format!("windows.layerFolders[{index}]"),
                path: folder.clone(),
            }
        })?;
        match winpath::exists(&on_host) {
            Ok(true) => return Ok(candidate),
            Ok(false) => {}
            Err(e) => {
                return Err(HcsConfigError::UtilityVmLookup {
                    path: on_host.display().to_string(),
                    reason: e.to_string(),
                })
            }
        }
    }
    Err(HcsConfigError::UtilityVmNotFound {
        searched: image_layers.join(", "),
    })
}

/// Mounts become mapped directories, or mapped pipes under `\\.\pipe\`.
fn map_mounts(
    cfg: &mut ContainerConfig,
    mounts: &[oci::Mount],
    host: &HostFacts,
) -> Result<(), HcsConfigError> {
    for (index, mount) in mounts.iter().enumerate() {
        if !mount.kind.is_empty() {
            return Err(HcsConfigError::MountTypeSet {
                index,
                kind: mount.kind.clone(),
            });
        }
        if let Some(pipe) = mount.destination.strip_prefix(PIPE_PREFIX) {
            match host.os_build {
                Some(build) if build >= MIN_PIPE_BUILD => {}
                Some(build) => {
                    return Err(HcsConfigError::PipeMountUnsupported {
                        index,
                        destination: mount.destination.clone(),
                        build,
                    })
                }
                None => {
                    return Err(HcsConfigError::PipeMountUnknownBuild {
                        index,
                        destination: mount.destination.clone(),
                    })
                }
            }
            cfg.mapped_pipes.push(MappedPipe {
                host_path: mount.source.clone(),
                container_pipe_name: pipe.to_string(),
            });
        } else {
            cfg.mapped_directories.push(MappedDir {
                host_path: mount.source.clone(),
                container_path: mount.destination.clone(),
                read_only: mount.options.iter().any(|o| o.eq_ignore_ascii_case("ro")),
                ..Default::default()
            });
        }
    }
    Ok(())
}
