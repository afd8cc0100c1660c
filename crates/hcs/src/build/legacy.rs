//! A Windows container from Docker's 2016 spec (libcontainerd before the
//! runtime-spec Windows section, and the Windows exec driver's `Run`).

use super::resources::{bytes_to_mb, set_cpu_count};
use super::{layers_of, nat, BuildOptions, Document, Flavor, HostFacts};
use crate::error::HcsConfigError;
use crate::layer_id::LayerIdSource;
use crate::schema::{ContainerConfig, HvRuntime, MappedDir};
use crate::spec::{legacy, Spec};
use crate::winpath;

/// Images older than this build cannot run from a cloned utility VM
/// template, and Windows cannot tell by itself.
const MIN_TEMPLATE_BUILD: u32 = 14350;

pub(super) fn build(
    spec: &Spec,
    windows: &legacy::Windows,
    mounts: &[legacy::Mount],
    opts: &BuildOptions,
    host: &HostFacts,
    layer_ids: &dyn LayerIdSource,
) -> Result<Document, HcsConfigError> {
    let mut warnings = Vec::new();
    let mut cfg = ContainerConfig {
        system_type: "Container".into(),
        name: opts.id.clone(),
        owner: opts.owner.clone(),
        ignore_flushes_during_boot: windows.first_start,
        host_name: spec.hostname.clone(),
        servicing: opts.servicing,
        ..Default::default()
    };

    if let Some(networking) = &windows.networking {
        cfg.endpoint_list = networking.endpoints.clone();
    }
    if let Some(res) = &windows.resources {
        if let Some(cpu) = &res.cpu {
            if let Some(count) = cpu.count {
                warnings.extend(set_cpu_count(&mut cfg, count, host.cpu_count));
            }
            if let Some(shares) = cpu.shares {
                cfg.processor_weight = shares;
            }
            if let Some(percent) = cpu.percent {
                // HCS takes hundredths of a percent, 1 to 10000.
                cfg.processor_maximum = percent.saturating_mul(100);
            }
        }
        if let Some(limit) = res.memory.as_ref().and_then(|m| m.limit) {
            cfg.memory_maximum_in_mb = bytes_to_mb(limit);
        }
        if let Some(storage) = &res.storage {
            cfg.storage_bandwidth_maximum = storage.bps.unwrap_or(0);
            cfg.storage_iops_maximum = storage.iops.unwrap_or(0);
            cfg.storage_sandbox_size = storage.sandbox_size.unwrap_or(0);
        }
    }

    if let Some(hv) = &windows.hv_runtime {
        cfg.hv_partition = true;
        let mut runtime = HvRuntime {
            image_path: hv.image_path.clone(),
            ..Default::default()
        };
        if let Some(build) = build_of(&spec.platform.os_version) {
            runtime.skip_template = build < MIN_TEMPLATE_BUILD;
        }
        cfg.hv_runtime = Some(runtime);
        // The sandbox of a Hyper-V container is found next to its layer
        // folder, which is given too: the reference's table says "servicing
        // only", its code sets it for every container.
        cfg.sandbox_path = winpath::parent(&windows.layer_folder);
        cfg.layer_folder_path = windows.layer_folder.clone();
    } else {
        cfg.volume_path = spec.root.path.clone();
        cfg.layer_folder_path = windows.layer_folder.clone();
    }

    if !windows.layer_paths.is_empty() {
        cfg.layers = Some(layers_of(
            "windows.layer_paths",
            &windows.layer_paths,
            layer_ids,
            str::to_string,
        )?);
    }
    cfg.mapped_directories = mounts
        .iter()
        .map(|m| MappedDir {
            host_path: m.source.clone(),
            container_path: m.destination.clone(),
            read_only: m.readonly,
            ..Default::default()
        })
        .collect();

    if let Some(networking) = windows.networking.as_ref().filter(|n| !n.bridge.is_empty()) {
        cfg.devices
            .push(nat::device(networking, &opts.container_nat)?);
    }

    Ok(Document {
        config: cfg,
        flavor: Flavor::Windows,
        servicing: opts.servicing,
        guest_spec: None,
        warnings,
    })
}

/// The build number of a Windows version `major.minor.build[.rev]`, when it
/// can be read and is not zero.
fn build_of(os_version: &str) -> Option<u32> {
    let build: u32 = os_version.split('.').nth(2)?.parse().ok()?;
    (build > 0).then_some(build)
}

#[cfg(test)]
mod tests {
    use super::build_of;

    #[test]
    fn build_number_is_the_third_version_field() {
        assert_eq!(build_of("10.0.14300.1000"), Some(14300));
        assert_eq!(build_of("10.0.14393"), Some(14393));
        assert_eq!(build_of("10.0"), None);
        assert_eq!(build_of(""), None);
        assert_eq!(build_of("10.0.x"), None);
        assert_eq!(build_of("10.0.0"), None);
    }
}
