//! From spec to HCS document: the rules Docker's libcontainerd applied.
//!
//! Three translations, chosen by the spec: a Windows container from a
//! runtime-spec 1.0 spec (`windows`), one from Docker's 2016 spec
//! (`legacy`), and a Linux container in a utility VM (`lcow`). Each
//! returns the ContainerConfig and what the init process needs from it.

mod lcow;
mod legacy;
mod nat;
mod process;
mod resources;
mod windows;

pub use process::{exec_process, init_process};

use crate::error::HcsConfigError;
use crate::layer_id::LayerIdSource;
use crate::schema::ContainerConfig;
use crate::spec::{Spec, WindowsSection};
use crate::winpath::WindowsFs;

/// The owner tag HCS records, so management stacks can tell their
/// containers apart.
pub const DEFAULT_OWNER: &str = "vessel";

/// The name of the container NAT device preconfigured on 2016 hosts.
pub const DEFAULT_CONTAINER_NAT: &str = "ContainerNAT";

/// Facts about the Windows host the document is meant for.
#[derive(Debug, Clone)]
pub struct HostFacts {
    /// Logical processors; a larger CPU count is clamped to it.
    pub cpu_count: u64,
    /// The host's Windows build, if known (named pipe mounts need 16210).
    pub os_build: Option<u32>,
    /// Where the host's Windows paths can be looked at.
    pub windows_fs: WindowsFs,
}

/// How the utility VM of a Linux container boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LcowBoot {
    /// From a VHDX image.
    Vhdx { path: String },
    /// From a kernel and initrd in one folder.
    Kernel {
        dir: String,
        kernel: String,
        initrd: String,
        boot_parameters: String,
    },
}

/// Per-container choices made by the caller rather than the spec.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub id: String,
    pub owner: String,
    /// Servicing, for the 2016 spec (where it was a create option).
    pub servicing: bool,
    /// Name of the container NAT device (2016 NAT networking).
    pub container_nat: String,
    /// Required for a Linux container.
    pub lcow_boot: Option<LcowBoot>,
}

impl BuildOptions {
    /// Defaults for container `id`.
    pub fn new(id: impl Into<String>) -> Self {
        BuildOptions {
            id: id.into(),
            owner: DEFAULT_OWNER.to_string(),
            servicing: false,
            container_nat: DEFAULT_CONTAINER_NAT.to_string(),
            lcow_boot: None,
        }
    }
}

/// Which kind of compute system the document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Windows,
    Linux,
}

/// A built ContainerConfig and what starting its first process needs.
#[derive(Debug, Clone)]
pub struct Document {
    pub config: ContainerConfig,
    pub flavor: Flavor,
    /// A servicing container runs no stdio.
    pub servicing: bool,
    /// LCOW: the spec as the guest must see it (mount sources rewritten).
    pub guest_spec: Option<serde_json::Value>,
    /// Adjustments made to the request, for the user to see.
    pub warnings: Vec<String>,
}

/// Builds the ContainerConfig for `spec`, with every check Docker made.
pub fn container_config(
    spec: &Spec,
    opts: &BuildOptions,
    host: &HostFacts,
    layer_ids: &dyn LayerIdSource,
) -> Result<Document, HcsConfigError> {
    if spec.has_linux {
        return lcow::build(spec, opts, layer_ids);
    }
    match &spec.windows {
        None => Err(HcsConfigError::MissingWindows),
        Some(WindowsSection::Oci(windows, mounts)) => {
            windows::build(spec, windows, mounts, opts, host, layer_ids)
        }
        Some(WindowsSection::Legacy(windows, mounts)) => {
            legacy::build(spec, windows, mounts, opts, host, layer_ids)
        }
    }
}

/// `Layers` entries for `folders`, each ID from the folder's name; `path`
/// says which path HCS is given for a folder.
fn layers_of(
    field: &'static str,
    folders: &[String],
    layer_ids: &dyn LayerIdSource,
    path: impl Fn(&str) -> String,
) -> Result<Vec<crate::schema::Layer>, HcsConfigError> {
    folders
        .iter()
        .enumerate()
        .map(|(index, folder)| {
            let id = layer_ids
                .layer_id(crate::winpath::base_name(folder))
                .map_err(|cause| HcsConfigError::LayerId {
                    field,
                    index,
                    cause,
                })?;
            Ok(crate::schema::Layer {
                id: id.to_string(),
                path: path(folder),
            })
        })
        .collect()
}
