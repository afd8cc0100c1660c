//! Why a spec could not be turned into an HCS document.

use thiserror::Error;

use crate::layer_id::LayerIdError;

/// Every way a spec can be refused. Messages name the field and the value.
#[derive(Debug, Error)]
pub enum HcsConfigError {
    #[error("spec: {reason}")]
    SpecSyntax { reason: String },
    #[error("{field}: {reason}")]
    SpecField { field: String, reason: String },
    #[error("windows: the 2016 key {legacy:?} and the runtime-spec key {oci:?} cannot be mixed")]
    MixedWindowsShapes { legacy: String, oci: String },
    #[error("windows: a Windows container needs a windows section")]
    MissingWindows,
    #[error("windows: a Linux container on Windows (LCOW) needs the runtime-spec 1.0 windows section, not the 2016 one")]
    LcowNeedsOciShape,
    #[error("windows.layerFolders: at least {min} layer folder(s) needed, found {found}")]
    TooFewLayerFolders { min: usize, found: usize },
    #[error("windows.hyperv.utilityVMPath: {path:?} given, but the utility VM image can only be found from the layers")]
    ExplicitUtilityVmPath { path: String },
    #[error("windows.layerFolders: no layer folder holds a UtilityVM folder ({searched})")]
    UtilityVmNotFound { searched: String },
    #[error("windows.layerFolders: cannot look for {path:?}: {reason}")]
    UtilityVmLookup { path: String, reason: String },
    #[error("root.path: {path:?} must be empty for a Hyper-V container")]
    RootPathWithHyperV { path: String },
    #[error(r"root.path: {path:?} is not a volume GUID path of the form \\?\Volume{{GUID}}\")]
    RootPathNotVolumeGuid { path: String },
    #[error("root.readonly: true is not supported for a Windows container")]
    ReadonlyRoot,
    #[error("mounts[{index}].type: {kind:?} must be empty for a Windows container")]
    MountTypeSet { index: usize, kind: String },
    #[error("mounts[{index}].destination: named pipe {destination:?} needs Windows build 16210 or later, host build is {build}")]
    PipeMountUnsupported {
        index: usize,
        destination: String,
        build: u32,
    },
    #[error("mounts[{index}].destination: named pipe {destination:?} needs the host's Windows build (--os-build)")]
    PipeMountUnknownBuild { index: usize, destination: String },
    #[error("mounts[{index}].options: {option:?} is not supported for a bind mount of a Linux container on Windows (allowed: rw, ro, rbind, uvmpath=DIR)")]
    LcowMountOption { index: usize, option: String },
    #[error("mounts[{index}].options: a bind mount of a Linux container on Windows needs uvmpath=DIR (source {source_path:?})")]
    LcowMountNoUvmPath { index: usize, source_path: String },
    #[error("lcow: a Linux container on Windows needs the utility VM's boot files (--uvm-vhdx, or --uvm-dir with --uvm-kernel and --uvm-initrd)")]
    LcowBootMissing,
    #[error("windows.networking.port_bindings: {port:?}: protocol {protocol:?} is not tcp or udp")]
    NatProtocol { port: String, protocol: String },
    #[error("windows.networking.port_bindings: {port:?}: {count} host ports given, Windows NAT takes one")]
    NatManyHostPorts { port: String, count: usize },
    #[error("windows.networking.port_bindings: {port:?}: host IP {host_ip:?} given, Windows NAT takes none")]
    NatHostIp { port: String, host_ip: String },
    #[error("windows.networking.port_bindings: {port:?}: host port {value:?} is not a number")]
    NatHostPortNotNumber { port: String, value: String },
    #[error(
        "windows.networking.port_bindings: {port:?}: container port {value:?} is not a number"
    )]
    NatContainerPortNotNumber { port: String, value: String },
    #[error("windows.networking.port_bindings: {port:?}: port {value} is outside 0-65535")]
    NatPortRange { port: String, value: i64 },
    #[error("process: the spec has no process")]
    MissingProcess,
    #[error("process.args: empty, there is no command to run")]
    EmptyArgs,
    #[error("{field}[{index}]: {cause}")]
    LayerId {
        field: &'static str,
        index: usize,
        cause: LayerIdError,
    },
    #[error("{field}: {path:?} cannot be found off Windows without --windows-root, and only drive paths (C:\\...) can")]
    UnmappedWindowsPath { field: String, path: String },
}
