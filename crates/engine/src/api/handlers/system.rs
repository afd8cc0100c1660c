//! `_ping`, `version`, `info`.

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
    json(
        StatusCode::OK,
        &json!({
            "Platform": {"Name": "Vessel"},
            "Components": [{"Name": "Engine", "Version": v, "Details": {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Os": "linux", "Arch": crate::image::host_architecture()}}],
            "Version": v,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "Os": "linux",
            "Arch": crate::image::host_architecture(),
            "KernelVersion": kernel_version(),
        }),
    )
}

pub(super) async fn info(d: Arc<Daemon>) -> Reply {
    blocking(move || {
        let all = d.read_all(true, |r| Some(r.container.state.clone()));
        let running = all.iter().filter(|s| s.running && !s.paused).count();
        let paused = all.iter().filter(|s| s.paused).count();
        let images = d.images.list()?.len();
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
                "LoggingDriver": "json-file",
                "CgroupDriver": "cgroupfs",
                "KernelVersion": kernel_version(),
                "OperatingSystem": "linux",
                "OSType": "linux",
                "Architecture": std::env::consts::ARCH,
                "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
                "DockerRootDir": d.paths.root.display().to_string(),
                "ServerVersion": env!("CARGO_PKG_VERSION"),
                "Name": "vessel",
            }),
        ))
    })
    .await
}
