//! A Linux container in a Hyper-V utility VM (LCOW, Docker 2017).

use serde_json::Value;

use super::windows::set_network;
use super::{layers_of, BuildOptions, Document, Flavor, LcowBoot};
use crate::error::HcsConfigError;
use crate::layer_id::LayerIdSource;
use crate::schema::{ContainerConfig, HvRuntime, MappedDir};
use crate::spec::{Spec, WindowsSection};
use crate::winpath;

pub(super) fn build(
    spec: &Spec,
    opts: &BuildOptions,
    layer_ids: &dyn LayerIdSource,
) -> Result<Document, HcsConfigError> {
    let boot = opts
        .lcow_boot
        .as_ref()
        .ok_or(HcsConfigError::LcowBootMissing)?;
    let mut cfg = ContainerConfig {
        hv_partition: true,
        name: opts.id.clone(),
        system_type: "container".into(),
        container_type: "linux".into(),
        owner: opts.owner.clone(),
        terminate_on_last_handle_closed: true,
        hv_runtime: Some(hv_runtime(boot)),
        ..Default::default()
    };
    let (windows, mounts) = match &spec.windows {
        None => return Err(HcsConfigError::MissingWindows),
        Some(WindowsSection::Legacy(..)) => return Err(HcsConfigError::LcowNeedsOciShape),
        Some(WindowsSection::Oci(windows, mounts)) => (windows, mounts),
    };

    // The layers are VHDs inside their folders; the top folder holds the
    // container's scratch space.
    let folders = windows.layer_folders.as_deref().unwrap_or_default();
    let Some((top, image_layers)) = folders.split_last() else {
        return Err(HcsConfigError::TooFewLayerFolders { min: 1, found: 0 });
    };
    cfg.layer_folder_path = top.clone();
    cfg.layers = Some(layers_of(
        "windows.layerFolders",
        image_layers,
        layer_ids,
        |folder| winpath::join(folder, "layer.vhd"),
    )?);
    set_network(&mut cfg, windows.network.as_ref());

    // Bind mounts are shared into the utility VM below the folder the caller
    // names with `uvmpath=`, and the guest's spec mounts them from there.
    let mut guest_spec = spec.raw.clone();
    for (index, mount) in mounts.iter().enumerate() {
        if mount.kind != "bind" {
            continue;
        }
        let mut uvm_path = None;
        let mut read_only = false;
        let mut kept = Vec::new();
        for option in &mount.options {
            let (key, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
            match key {
                "uvmpath" if option.contains('=') => uvm_path = Some(value.to_string()),
                "ro" => {
                    read_only = true;
                    kept.push(option.clone());
                }
                "rw" | "rbind" => kept.push(option.clone()),
                _ => {
                    return Err(HcsConfigError::LcowMountOption {
                        index,
                        option: option.clone(),
                    })
                }
            }
        }
        let Some(uvm_path) = uvm_path.filter(|p| !p.is_empty()) else {
            return Err(HcsConfigError::LcowMountNoUvmPath {
                index,
                source_path: mount.source.clone(),
            });
        };
        let in_uvm = winpath::posix_join(&uvm_path, &mount.destination);
        cfg.mapped_directories.push(MappedDir {
            host_path: mount.source.clone(),
            container_path: in_uvm.clone(),
            create_in_utility_vm: true,
            read_only,
            ..Default::default()
        });
        if let Some(entry) = guest_spec
            .get_mut("mounts")
            .and_then(|m| m.get_mut(index))
            .and_then(Value::as_object_mut)
        {
            entry.insert("source".into(), Value::String(in_uvm));
            entry.insert("options".into(), kept.into());
        }
    }

    Ok(Document {
        config: cfg,
        flavor: Flavor::Linux,
        servicing: windows.servicing,
        guest_spec: Some(guest_spec),
        warnings: Vec::new(),
    })
}

fn hv_runtime(boot: &LcowBoot) -> HvRuntime {
    match boot {
        LcowBoot::Vhdx { path } => HvRuntime {
            image_path: path.clone(),
            boot_source: "Vhd".into(),
            writable_boot_source: false,
            ..Default::default()
        },
        LcowBoot::Kernel {
            dir,
            kernel,
            initrd,
            boot_parameters,
        } => HvRuntime {
            image_path: dir.clone(),
            linux_kernel_file: kernel.clone(),
            linux_initrd_file: initrd.clone(),
            linux_boot_parameters: boot_parameters.clone(),
            ..Default::default()
        },
    }
}
