//! `_ping`, `version`, `info`.

use std::path::Path;
use std::sync::Arc;

use hyper::StatusCode;
use serde_json::json;

use super::blocking;
use crate::api::{full, json, Reply, API_VERSION, MIN_API_VERSION};
use crate::daemon::Daemon;

pub(super) fn ping() -> Reply {
    let mut r = full(StatusCode::OK, "text/plain; charset=utf-8", "OK");
    let h = r.headers_mut();
    h.insert(
        "Docker-Experimental",
        "false".parse().expect("a valid header"),
    );
    h.insert("Swarm", "inactive".parse().expect("a valid header"));
    h.insert(
        "Cache-Control",
        "no-cache, no-store, must-revalidate"
            .parse()
            .expect("a valid header"),
    );
    h.insert("Pragma", "no-cache".parse().expect("a valid header"));
    r
}

fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

pub(super) fn version() -> Reply {
    let v = env!("CARGO_PKG_VERSION");
    let arch = crate::image::host_architecture();
    let kernel = kernel_version();
    json(
        StatusCode::OK,
        &json!({
            "Platform": {"Name": "Vessel"},
            "Components": [
                {"Name": "Engine", "Version": v, "Details": {
                    "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
                    "Os": "linux", "Arch": arch, "KernelVersion": kernel,
                    "GitCommit": GIT_COMMIT, "Experimental": "false",
                }},
                {"Name": "vessel-shim", "Version": v, "Details": {"GitCommit": GIT_COMMIT}},
                {"Name": "vessel-init", "Version": v, "Details": {"GitCommit": GIT_COMMIT}},
            ],
            "Version": v,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": GIT_COMMIT,
            "Os": "linux",
            "Arch": arch,
            "KernelVersion": kernel,
            "Experimental": false,
        }),
    )
}

/// `POST /build/prune` (`docker system prune`'s last step): Vessel
/// builds no images, so it keeps no build cache to free.
pub(super) fn build_prune() -> Reply {
    json(
        StatusCode::OK,
        &json!({"CachesDeleted": null, "SpaceReclaimed": 0}),
    )
}

/// The commit the engine was built from, where the build knew it.
const GIT_COMMIT: &str = match option_env!("VESSEL_GIT_COMMIT") {
    Some(c) => c,
    None => "",
};

pub(super) async fn info(d: Arc<Daemon>) -> Reply {
    blocking(move || {
        let all = d.read_all(true, |r| Some(r.container.state.clone()));
        let running = all.iter().filter(|s| s.running && !s.paused).count();
        let paused = all.iter().filter(|s| s.paused).count();
        let images = d.images.list()?.len();
        let host = Host::read(Path::new("/"));
        let v2 = host.cgroup_version == "2";
        let mut security = vec!["name=seccomp,profile=default".to_string()];
        if v2 {
            security.push("name=cgroupns".into());
        }
        let shim = d.shim_path().display().to_string();
        Ok(json(
            StatusCode::OK,
            &json!({
                "ID": "vessel",
                "Containers": all.len(),
                "ContainersRunning": running,
                "ContainersPaused": paused,
                "ContainersStopped": all.len() - running - paused,
                "Images": images,
                "Driver": "overlay",
                "DriverStatus": [["Backing Filesystem", "overlayfs layers"]],
                "Plugins": {
                    "Volume": [],
                    "Network": ["bridge", "host", "null"],
                    "Authorization": null,
                    "Log": ["json-file", "none"],
                },
                "MemoryLimit": true,
                "SwapLimit": d.host().swap_limit,
                "CpuCfsPeriod": true,
                "CpuCfsQuota": true,
                "CPUShares": true,
                "CPUSet": true,
                "PidsLimit": true,
                "OomKillDisable": !v2,
                "IPv4Forwarding": host.ipv4_forwarding,
                "Debug": false,
                "SystemTime": vessel_runtime::record::now_rfc3339(),
                "LoggingDriver": "json-file",
                "CgroupDriver": "cgroupfs",
                "CgroupVersion": host.cgroup_version,
                "KernelVersion": kernel_version(),
                "OperatingSystem": host.os_name,
                "OSVersion": host.os_version,
                "OSType": "linux",
                "Architecture": std::env::consts::ARCH,
                "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
                "MemTotal": host.mem_total,
                "DockerRootDir": d.paths.root.display().to_string(),
                "Name": host.name,
                "Labels": [],
                "ExperimentalBuild": false,
                "ServerVersion": env!("CARGO_PKG_VERSION"),
                "Runtimes": {"vessel": {"path": shim}},
                "DefaultRuntime": "vessel",
                "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false, "Error": "", "RemoteManagers": null},
                "LiveRestoreEnabled": true,
                "Isolation": "",
                "InitBinary": "vessel-init",
                "SecurityOptions": security,
                "Warnings": null,
            }),
        ))
    })
    .await
}

/// What `info` tells of the host.
#[derive(Debug, PartialEq)]
struct Host {
    mem_total: u64,
    os_name: String,
    os_version: String,
    name: String,
    cgroup_version: &'static str,
    ipv4_forwarding: bool,
}

impl Host {
    /// The host whose root file system is at `root`.
    fn read(root: &Path) -> Host {
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_default();
        let release = read("etc/os-release");
        let field = |key: &str| {
            release.lines().find_map(|l| {
                let v = l.strip_prefix(key)?.strip_prefix('=')?;
                Some(v.trim().trim_matches('"').to_string())
            })
        };
        Host {
            mem_total: crate::stats::host_memory(&read("proc/meminfo")),
            os_name: field("PRETTY_NAME").unwrap_or_else(|| "Linux".into()),
            os_version: field("VERSION_ID").unwrap_or_default(),
            name: read("proc/sys/kernel/hostname").trim().to_string(),
            cgroup_version: match root.join("sys/fs/cgroup/cgroup.controllers").exists() {
                true => "2",
                false => "1",
            },
            ipv4_forwarding: read("proc/sys/net/ipv4/ip_forward").trim() == "1",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_read_from_its_files() {
        let root = tempfile::tempdir().unwrap();
        let put = |p: &str, text: &str| {
            let path = root.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        put(
            "etc/os-release",
            "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n",
        );
        put("proc/meminfo", "MemTotal:       2048 kB\nMemFree: 1 kB\n");
        put("proc/sys/kernel/hostname", "box\n");
        put("proc/sys/net/ipv4/ip_forward", "1\n");
        put("sys/fs/cgroup/cgroup.controllers", "cpu io memory\n");
        assert_eq!(
            Host::read(root.path()),
            Host {
                mem_total: 2048 * 1024,
                os_name: "Debian GNU/Linux 12 (bookworm)".into(),
                os_version: "12".into(),
                name: "box".into(),
                cgroup_version: "2",
                ipv4_forwarding: true,
            }
        );
        // Nothing readable: still an answer.
        let empty = tempfile::tempdir().unwrap();
        let host = Host::read(empty.path());
        assert_eq!((host.mem_total, host.cgroup_version), (0, "1"));
        assert_eq!(host.os_name, "Linux");
    }
}
