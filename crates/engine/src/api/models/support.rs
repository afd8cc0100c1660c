//! What Vessel carries out of a create request, and the refusal of the
//! rest: every member a request sets beyond Docker's defaults (see
//! [`super::non_default`]) is either in [`CARRIED_OUT`] or refused with a
//! 400 that names it and its value. Nothing is silently dropped.

use crate::error::{EngineError, Result};

use super::Field;

/// The members of a create request Vessel carries out (a member, or all
/// below one when it ends with a dot). Their values are checked where
/// they are used (the record, the spec).
const CARRIED_OUT: &[&str] = &[
    // What runs, and how it is attached: the process, its environment
    // and its terminal.
    "Hostname",
    "Domainname",
    "User",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "Env",
    "Cmd",
    "Image",
    "WorkingDir",
    "Entrypoint",
    "Labels",
    "StopSignal",
    "StopTimeout",
    "Healthcheck.",
    // Only an image build reads these; a container has nothing to do.
    "OnBuild",
    "Shell",
    "ArgsEscaped",
    "HostConfig.Binds",
    // Volumes and mounts; the options Vessel does not carry out are
    // refused where they are read (`volume/parse.rs`).
    "Volumes",
    "HostConfig.Mounts",
    "HostConfig.VolumesFrom",
    "HostConfig.VolumeDriver",
    "HostConfig.NetworkMode",
    "HostConfig.AutoRemove",
    "HostConfig.RestartPolicy.",
    "HostConfig.LogConfig.Type",
    // Checked with the driver (`container/log_opts.rs`).
    "HostConfig.LogConfig.Config",
    "HostConfig.ConsoleSize",
    "HostConfig.ReadonlyRootfs",
    "HostConfig.Memory",
    "HostConfig.NanoCpus",
    "HostConfig.CpuShares",
    "HostConfig.CpuQuota",
    "HostConfig.CpuPeriod",
    "HostConfig.PidsLimit",
    "HostConfig.MemorySwap",
    "HostConfig.Privileged",
    "HostConfig.CapAdd",
    "HostConfig.CapDrop",
    "HostConfig.SecurityOpt",
    "HostConfig.Sysctls",
    "HostConfig.Ulimits",
    "HostConfig.Tmpfs",
    "HostConfig.ShmSize",
    "HostConfig.OomScoreAdj",
    "HostConfig.CpusetCpus",
    "HostConfig.CpusetMems",
    "HostConfig.GroupAdd",
    "HostConfig.IpcMode",
    "HostConfig.PidMode",
    "HostConfig.UTSMode",
    "HostConfig.CgroupnsMode",
    "HostConfig.ExtraHosts",
    "HostConfig.Dns",
    "HostConfig.DnsSearch",
    "HostConfig.DnsOptions",
    "HostConfig.Devices",
    "HostConfig.DeviceCgroupRules",
    "HostConfig.Init",
    // Networks and ports; the endpoints' members are checked where they
    // are read (`daemon/network.rs`).
    "ExposedPorts",
    "MacAddress",
    "HostConfig.PortBindings",
    "HostConfig.PublishAllPorts",
    "HostConfig.Links",
    "NetworkingConfig.",
];

/// Members that later work brings, with what brings them.
const LATER: &[(&str, &str)] = &[
    (
        "HostConfig.Runtime",
        "Vessel runs containers with its own runtime, vessel",
    ),
    (
        "HostConfig.Isolation",
        "Linux containers only support default",
    ),
];

fn covers(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('.') {
        Some(prefix) => path == prefix || path.starts_with(pattern),
        None => path == pattern || path.starts_with(&format!("{pattern}.")),
    }
}

/// The members of an exec's create request Vessel carries out.
const EXEC_CARRIED_OUT: &[&str] = &[
    // The Docker SDK for Python names the container again; the path's is
    // the one used.
    "Container",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "Tty",
    "ConsoleSize",
    "Env",
    "Cmd",
    "User",
    "WorkingDir",
    "Privileged",
    "DetachKeys",
];

/// Refuses the first member of `asked` (what a create request sets) that
/// Vessel does not carry out, naming it, its value and, for what later
/// work brings, what does.
pub fn check_create(asked: &[Field]) -> Result<()> {
    check(asked, CARRIED_OUT)
}

/// The same for the create request of an exec.
pub fn check_exec(asked: &[Field]) -> Result<()> {
    check(asked, EXEC_CARRIED_OUT)
}

fn check(asked: &[Field], carried_out: &[&str]) -> Result<()> {
    for field in asked {
        if carried_out.iter().any(|p| covers(p, &field.path)) {
            continue;
        }
        let why = LATER
            .iter()
            .find(|(p, _)| covers(p, &field.path))
            .map_or("Vessel does not support it yet", |(_, why)| why);
        return Err(EngineError::InvalidParameter(format!(
            "{field}: not supported: {why}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(body: serde_json::Value) -> Result<()> {
        check_create(&super::super::non_default_json(&body))
    }

    #[test]
    fn what_is_carried_out_passes() {
        let body = json!({"Image": "busybox", "Cmd": ["true"], "Tty": true,
            "Labels": {"a": "b"}, "HostConfig": {"Binds": ["/a:/b"], "Memory": 1 << 26,
            "LogConfig": {"Type": "json-file", "Config": {}}, "RestartPolicy": {"Name": "no"},
            "NetworkMode": "default", "MemorySwappiness": -1, "ConsoleSize": [24, 80],
            "Runtime": "vessel", "Isolation": "default",
            "PortBindings": {"80/tcp": [{"HostPort": "8080"}]}, "PublishAllPorts": true},
            "ExposedPorts": {"80/tcp": {}},
            "NetworkingConfig": {"EndpointsConfig": {"app": {"Aliases": ["a"]}}}});
        check(body).unwrap();
    }

    #[test]
    fn an_exec_that_asks_for_more_is_refused() {
        let asked = |body| super::super::non_default_json(&body);
        check_exec(&asked(json!({"Cmd": ["true"], "Tty": true, "User": "1",
            "ConsoleSize": [1, 2], "DetachKeys": "ctrl-x"})))
        .unwrap();
        let e = check_exec(&asked(json!({"Cmd": ["true"], "Bogus": "x"}))).unwrap_err();
        assert!(e.to_string().contains("Bogus"), "{e}");
    }

    #[test]
    fn the_rest_is_refused_by_name_and_value() {
        for (body, want) in [
            (
                json!({"HostConfig": {"BlkioWeight": 300}}),
                "HostConfig.BlkioWeight: 300",
            ),
            (
                json!({"HostConfig": {"KernelMemory": 1024}}),
                "HostConfig.KernelMemory: 1024",
            ),
            (
                json!({"HostConfig": {"Runtime": "runc"}}),
                "own runtime, vessel",
            ),
            (
                json!({"HostConfig": {"Isolation": "hyperv"}}),
                "only support default",
            ),
        ] {
            let e = check(body).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.to_string().contains(want), "{e} should say {want}");
        }
    }
}
