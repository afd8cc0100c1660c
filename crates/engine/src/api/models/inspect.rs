//! A container as `docker inspect` and `docker ps` show it: the record
//! turned into Docker's `ContainerInspectResponse` and
//! `ContainerSummary`, with what Vessel applies filled in (masked paths,
//! IPC and cgroup namespace modes, `/dev/shm`'s size), and every key
//! Docker 20.10 shows present, with Docker's default where Vessel has no
//! value of its own (`inspect_defaults.json`, taken from dockerd 20.10's
//! answer for a created container).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use bollard_stubs::models::{
    ContainerInspectResponse, ContainerState, ContainerStateStatusEnum, ContainerSummary,
    ContainerSummaryHostConfig, GraphDriverData, HostConfig, HostConfigCgroupnsModeEnum,
    MountPoint, MountPointTypeEnum,
};
use serde_json::Value;

use crate::container::mounts::Kind;
use crate::container::{Container, State, Status};
use crate::spec;

/// The keys of Docker 20.10's inspect, with its defaults.
fn defaults() -> &'static Value {
    static DEFAULTS: OnceLock<Value> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        serde_json::from_str(include_str!("inspect_defaults.json"))
            .expect("inspect_defaults.json is valid JSON")
    })
}

/// `GET /containers/{id}/json`. `exec_ids` are the container's execs that
/// have not exited.
pub fn inspect(c: &Container, exec_ids: Vec<String>) -> Value {
    let dir = Path::new(&c.log_path).parent();
    let etc = |name: &str| dir.map(|d| crate::etc::path(d, name).display().to_string());
    let mut config = c.config.clone();
    config.image = Some(c.image_name().to_string());
    let response = ContainerInspectResponse {
        id: Some(c.id.clone()),
        created: Some(c.created.clone()),
        path: Some(c.path.clone()),
        args: Some(c.args.clone()),
        state: Some(state(&c.state)),
        image: Some(c.image.clone()),
        resolv_conf_path: etc("resolv.conf"),
        hostname_path: etc("hostname"),
        hosts_path: etc("hosts"),
        // Docker's: only a driver that writes a file has a path.
        log_path: Some(match c.logs() {
            true => c.log_path.clone(),
            false => String::new(),
        }),
        name: Some(c.name.clone()),
        restart_count: Some(c.restart_count),
        driver: Some("overlay".into()),
        platform: Some("linux".into()),
        mount_label: Some(String::new()),
        process_label: Some(String::new()),
        app_armor_profile: Some(String::new()),
        exec_ids: (!exec_ids.is_empty()).then_some(exec_ids),
        host_config: Some(host_config(c)),
        graph_driver: Some(GraphDriverData {
            name: "overlay".into(),
            data: HashMap::new(),
        }),
        size_rw: None,
        size_root_fs: None,
        mounts: Some(mounts(c)),
        config: Some(config),
        network_settings: Some(super::network::container_settings(c)),
    };
    let mut v = serde_json::to_value(&response).unwrap_or_default();
    // Docker shows no data for a driver it has none for as null.
    v["GraphDriver"]["Data"] = Value::Null;
    fill(&mut v, defaults());
    for map in MAPS {
        sort_keys(v.pointer_mut(map));
    }
    // An endpoint's members Docker shows as null when unset.
    if let Some(Value::Object(networks)) = v.pointer_mut("/NetworkSettings/Networks") {
        for endpoint in networks.values_mut() {
            fill(endpoint, &ENDPOINT_NULLS);
        }
    }
    v
}

/// The members of inspect that are maps (the user's, by key): Docker
/// prints them sorted by key.
const MAPS: &[&str] = &[
    "/Config/Labels",
    "/HostConfig/Sysctls",
    "/HostConfig/Tmpfs",
    "/HostConfig/LogConfig/Config",
    "/HostConfig/StorageOpt",
    "/HostConfig/Annotations",
    "/NetworkSettings/Networks",
];

/// Sorts the keys of a map (a `HashMap` of Docker's types keeps none).
pub(super) fn sort_keys(map: Option<&mut Value>) {
    if let Some(Value::Object(m)) = map {
        let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        m.extend(entries);
    }
}

/// The members of an endpoint Docker shows as null when unset.
static ENDPOINT_NULLS: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || serde_json::json!({"IPAMConfig": null, "Links": null, "Aliases": null, "DriverOpts": null}),
);

/// Inserts every key of `defaults` missing from `v`, in objects at any
/// depth (not into lists).
fn fill(v: &mut Value, defaults: &Value) {
    let (Value::Object(v), Value::Object(defaults)) = (v, defaults) else {
        return;
    };
    for (k, d) in defaults {
        match v.get_mut(k) {
            Some(existing) => fill(existing, d),
            None => {
                v.insert(k.clone(), d.clone());
            }
        }
    }
}

fn state(s: &State) -> ContainerState {
    let status = match s.status {
        Status::Created => ContainerStateStatusEnum::CREATED,
        Status::Running => ContainerStateStatusEnum::RUNNING,
        Status::Paused => ContainerStateStatusEnum::PAUSED,
        Status::Restarting => ContainerStateStatusEnum::RESTARTING,
        Status::Removing => ContainerStateStatusEnum::REMOVING,
        Status::Exited => ContainerStateStatusEnum::EXITED,
        Status::Dead => ContainerStateStatusEnum::DEAD,
    };
    ContainerState {
        status: Some(status),
        running: Some(s.running),
        paused: Some(s.paused),
        restarting: Some(s.restarting),
        oom_killed: Some(s.oom_killed),
        dead: Some(s.dead),
        pid: Some(s.pid),
        exit_code: Some(s.exit_code),
        error: Some(s.error.clone()),
        started_at: Some(s.started_at.clone()),
        finished_at: Some(s.finished_at.clone()),
        health: s.health.clone(),
    }
}

/// The host config as recorded, with what Vessel applies to every
/// container in the members that show it.
fn host_config(c: &Container) -> HostConfig {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut hc = c.host_config.clone();
    if c.network_mode().is_empty() {
        // Records made before networks: their own namespace, only `lo`.
        hc.network_mode = Some("none".into());
    }
    hc.ipc_mode.get_or_insert_with(|| "private".into());
    hc.cgroupns_mode
        .get_or_insert(HostConfigCgroupnsModeEnum::HOST);
    hc.shm_size.get_or_insert(spec::SHM_SIZE);
    hc.runtime.get_or_insert_with(|| "vessel".into());
    let hidden = !spec::shows_all_system_paths(&hc);
    hc.masked_paths = hidden.then(|| strings(spec::MASKED_PATHS));
    hc.readonly_paths = hidden.then(|| strings(spec::READONLY_PATHS));
    hc
}

/// The mount points, in Docker's shape.
fn mounts(c: &Container) -> Vec<MountPoint> {
    let typ = |k: Kind| match k {
        Kind::Bind => MountPointTypeEnum::BIND,
        Kind::Volume => MountPointTypeEnum::VOLUME,
        Kind::Tmpfs => MountPointTypeEnum::TMPFS,
    };
    let given = |s: &str| (!s.is_empty()).then(|| s.to_string());
    c.mount_points
        .iter()
        .map(|p| MountPoint {
            typ: Some(typ(p.kind)),
            name: given(&p.name),
            source: Some(p.source.clone()),
            destination: Some(p.destination.clone()),
            driver: given(&p.driver),
            mode: Some(p.mode.clone()),
            rw: Some(p.rw),
            propagation: Some(p.propagation.clone()),
        })
        .collect()
}

/// A row of `GET /containers/json`.
pub fn summary(c: &Container, now: chrono::DateTime<chrono::Utc>) -> ContainerSummary {
    let created = chrono::DateTime::parse_from_rfc3339(&c.created)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let command = std::iter::once(c.path.as_str())
        .chain(c.args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    ContainerSummary {
        id: Some(c.id.clone()),
        names: Some(vec![c.name.clone()]),
        image: Some(c.image_name().to_string()),
        image_id: Some(c.image.clone()),
        command: Some(command),
        created: Some(created),
        ports: Some(super::network::summary_ports(c)),
        network_settings: Some(super::network::summary_settings(c)),
        labels: Some(c.config.labels.clone().unwrap_or_default()),
        state: Some(c.state.status.as_str().to_string()),
        status: Some(c.state.describe(now)),
        host_config: Some(ContainerSummaryHostConfig {
            network_mode: Some(c.network_mode().to_string()),
        }),
        mounts: Some(mounts(c)),
        ..Default::default()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::container::Config;

    pub(in crate::api::models) fn container() -> Container {
        Container {
            id: "a".repeat(64),
            created: "2026-01-01T00:00:00Z".into(),
            path: "sleep".into(),
            args: vec!["60".into()],
            state: State::default(),
            image: "sha256:1".into(),
            name: "/c1".into(),
            restart_count: 0,
            has_been_manually_stopped: false,
            log_path: "/var/lib/vessel/containers/a/a-json.log".into(),
            config: Config {
                image: Some("busybox".into()),
                ..Default::default()
            },
            host_config: HostConfig {
                binds: Some(vec!["/tmp:/data:ro".into()]),
                ..Default::default()
            },
            network_settings: Default::default(),
            mount_points: vec![crate::volume::parse::bind("/tmp:/data:ro").unwrap()],
        }
    }

    /// Every key dockerd 20.10 shows for a created container, at the top
    /// level and in Config, HostConfig, State and NetworkSettings.
    #[test]
    fn inspect_has_every_key_docker_has() {
        let v = inspect(&container(), Vec::new());
        let want = defaults();
        for (section, keys) in want.as_object().unwrap() {
            assert!(v.get(section).is_some(), "{section}");
            if let Value::Object(keys) = keys {
                for k in keys.keys() {
                    assert!(v[section].get(k).is_some(), "{section}.{k}");
                }
            }
        }
        assert!(v["HostConfig"].as_object().unwrap().len() >= 65);
        assert_eq!(v["State"]["Status"], "created");
        assert_eq!(v["HostConfig"]["CapAdd"], Value::Null);
        assert_eq!(v["HostConfig"]["Binds"][0], "/tmp:/data:ro");
        assert_eq!(v["Mounts"][0]["RW"], false);
        assert_eq!(v["NetworkSettings"]["Networks"]["none"]["IPAddress"], "");
        assert_eq!(
            v["NetworkSettings"]["Networks"]["none"]["Aliases"],
            Value::Null
        );
        assert_eq!(v["HostConfig"]["MaskedPaths"][3], "/proc/keys");
    }

    #[test]
    fn maps_print_sorted_by_key_as_dockers() {
        let mut c = container();
        let labels: HashMap<String, String> = ["zeta", "alpha", "mid"]
            .map(|k| (k.to_string(), String::new()))
            .into();
        c.config.labels = Some(labels);
        let v = inspect(&c, Vec::new());
        let keys: Vec<&String> = v["Config"]["Labels"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["alpha", "mid", "zeta"]);
        let row = super::super::views::summary_view(&c).with("\"Status\":\"\"".into());
        let row: Value = serde_json::from_slice(&row.concat()).unwrap();
        let keys: Vec<&String> = row["Labels"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["alpha", "mid", "zeta"]);
    }

    #[test]
    fn a_row_has_dockers_state_and_status() {
        let mut c = container();
        c.state.set_running(5, "2026-01-01T00:00:00Z");
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:03Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let row = serde_json::to_value(summary(&c, now)).unwrap();
        assert_eq!(row["State"], "running");
        assert_eq!(row["Status"], "Up 3 seconds");
        assert_eq!(row["Command"], "sleep 60");
        assert_eq!(row["Names"][0], "/c1");
    }
}
