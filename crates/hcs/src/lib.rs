//! The Windows half of Vessel: the Host Compute Service (HCS) schema-v1
//! document for a container, built from an OCI runtime spec.
//!
//! A pure function of the spec and a few facts about the host, so it is
//! built and tested on every platform; only the HCS calls themselves (and
//! `NameToGuid`, see [`layer_id`]) need Windows.
#![cfg_attr(not(windows), forbid(unsafe_code))]

pub mod build;
pub mod error;
pub mod escape;
pub mod layer_id;
pub mod schema;
pub mod spec;
#[cfg(windows)]
mod vmcompute;
pub mod winpath;

pub use build::{
    container_config, exec_process, init_process, BuildOptions, Document, Flavor, HostFacts,
    LcowBoot,
};
pub use error::HcsConfigError;
pub use layer_id::{GivenLayerIds, Guid, HostLayerIds, LayerIdError, LayerIdSource};
pub use schema::{ContainerConfig, ProcessConfig};
pub use spec::Spec;
