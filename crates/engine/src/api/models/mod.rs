//! Docker's API models as the API layer reads and writes them: the
//! generated types of `bollard-stubs` (moby's swagger, API 1.45), the
//! request bodies made of them, and what a request asks for beyond
//! Docker's defaults ([`non_default`]).

use bollard_stubs::models::{ContainerConfig, HostConfig, NetworkingConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod image;
mod inspect;
mod network;
mod support;
mod views;

pub use image::{image_inspect, image_summary, Names};
pub use inspect::{inspect, summary};
pub use network::{mode_network, network_resource};
pub use support::{check_create, check_exec};
pub use views::{exec_ids_piece, inspect_view, status_piece, summary_view};

/// The body of `POST /containers/create`: the container's config with its
/// host config and networking config inside.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct CreateBody {
    #[serde(flatten)]
    pub config: ContainerConfig,
    #[serde(
        rename = "HostConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub host_config: Option<HostConfig>,
    #[serde(
        rename = "NetworkingConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub networking_config: Option<NetworkingConfig>,
}

/// A member of a request that asks for something, with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The member's path in Docker's names (`HostConfig.CapAdd`).
    pub path: String,
    pub value: Value,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.value)
    }
}

/// Members whose value asks for nothing although it is not a zero:
/// what Docker's clients send for "as the daemon likes".
const DEFAULTS: &[(&str, &str)] = &[
    ("HostConfig.MemorySwappiness", "-1"),
    ("MemorySwappiness", "-1"),
    ("HostConfig.RestartPolicy.Name", "\"no\""),
    ("RestartPolicy.Name", "\"no\""),
    ("HostConfig.NetworkMode", "\"default\""),
    ("HostConfig.LogConfig.Type", "\"json-file\""),
    ("HostConfig.ConsoleSize", "[0,0]"),
    ("HostConfig.Isolation", "\"default\""),
    ("HostConfig.Runtime", "\"vessel\""),
];

/// Members that hold the user's own data (labels, environment, ...): a
/// map there is a value, not more members.
const VALUES: &[&str] = &[
    "Labels",
    "Volumes",
    "ExposedPorts",
    "HostConfig.LogConfig.Config",
    "HostConfig.PortBindings",
    "HostConfig.Tmpfs",
    "HostConfig.Sysctls",
    "HostConfig.StorageOpt",
    "HostConfig.Annotations",
];

/// Every member of `request` (a create or update body, or any part of
/// one) whose value is not Docker's default: not null, false, zero, empty,
/// nor one of [`DEFAULTS`]. Nested objects are walked; lists and the
/// user's maps are values.
pub fn non_default(request: &impl Serialize) -> Vec<Field> {
    serde_json::to_value(request)
        .map(|v| non_default_json(&v))
        .unwrap_or_default()
}

/// [`non_default`] of a request as it came, before it is read into
/// Docker's types: members those types do not know are named too.
pub fn non_default_json(request: &Value) -> Vec<Field> {
    let mut out = Vec::new();
    walk("", request, &mut out);
    out
}

fn walk(path: &str, v: &Value, out: &mut Vec<Field>) {
    match v {
        Value::Object(members) if !VALUES.contains(&path) => {
            for (k, v) in members {
                let path = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(&path, v, out);
            }
        }
        _ if is_default(path, v) => {}
        _ => out.push(Field {
            path: path.to_string(),
            value: v.clone(),
        }),
    }
}

fn is_default(path: &str, v: &Value) -> bool {
    let zero = match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    };
    zero || DEFAULTS
        .iter()
        .any(|(p, d)| *p == path && serde_json::from_str::<Value>(d).ok().as_ref() == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The docker CLI 28's body for `docker create busybox echo hello`.
    const CLI_CREATE: &str = r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["echo","hello"],"Image":"busybox","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}"#;

    fn paths(body: &CreateBody) -> Vec<String> {
        non_default(body).into_iter().map(|f| f.path).collect()
    }

    #[test]
    fn the_clis_plain_create_asks_only_for_what_it_says() {
        let body: CreateBody = serde_json::from_str(CLI_CREATE).unwrap();
        assert_eq!(
            paths(&body),
            ["AttachStdout", "AttachStderr", "Cmd", "Image"]
        );
    }

    #[test]
    fn each_option_is_named_with_its_value() {
        let mut body: CreateBody = serde_json::from_str(CLI_CREATE).unwrap();
        let hc = body.host_config.as_mut().unwrap();
        hc.cap_add = Some(vec!["NET_ADMIN".into()]);
        hc.restart_policy.as_mut().unwrap().name =
            Some(bollard_stubs::models::RestartPolicyNameEnum::ALWAYS);
        hc.memory_swappiness = Some(10);
        let fields = non_default(&body);
        let named: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        for want in [
            "HostConfig.CapAdd: [\"NET_ADMIN\"]",
            "HostConfig.RestartPolicy.Name: \"always\"",
            "HostConfig.MemorySwappiness: 10",
        ] {
            assert!(named.iter().any(|n| n == want), "{want} in {named:?}");
        }
    }

    #[test]
    fn an_update_with_zeros_asks_for_nothing() {
        let update: crate::daemon::UpdateConfig = serde_json::from_str(
            r#"{"Memory":0,"CpusetCpus":"","BlkioWeight":0,"Ulimits":null,
                "RestartPolicy":{"Name":"","MaximumRetryCount":0}}"#,
        )
        .unwrap();
        assert!(non_default(&update).is_empty());
    }
}
