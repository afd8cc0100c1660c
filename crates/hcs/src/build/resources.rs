//! Resource fields shared by both Windows spec shapes.

use crate::schema::ContainerConfig;

/// Sets `ProcessorCount`, clamped to the host's processors (the clamp is
/// made here rather than in the stored host config, so a container moved
/// to a larger host gets what it asked for). Returns a warning if clamped.
pub(super) fn set_cpu_count(
    cfg: &mut ContainerConfig,
    requested: u64,
    host_cpus: u64,
) -> Option<String> {
    let (count, warning) = if requested > host_cpus {
        (
            host_cpus,
            Some(format!(
                "windows.resources.cpu.count: {requested} CPUs requested, the host has {host_cpus}; using {host_cpus}"
            )),
        )
    } else {
        (requested, None)
    };
    cfg.processor_count = u32::try_from(count).unwrap_or(u32::MAX);
    warning
}

/// Bytes to whole megabytes, as `MemoryMaximumInMB` wants.
pub(super) fn bytes_to_mb(bytes: i64) -> i64 {
    bytes / 1024 / 1024
}
