//! Resource limits, read back from the cgroup files on the host.

mod support;

use serde_json::json;
use support::*;

fn cg(ctrl: &str, id: &str, file: &str) -> String {
    std::fs::read_to_string(format!("/sys/fs/cgroup/{ctrl}/vessel/{id}/{file}"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn linux_resources_are_applied() {
    let env = Env::new();
    let id = unique("limits");
    let mut s = spec(&["sleep", "60"]);
    s["linux"]["resources"] = json!({
        "memory": {"limit": 67108864},
        "pids": {"limit": 20},
        "cpu": {"quota": 50000, "period": 100000, "shares": 512}
    });
    env.start(&id, &s);
    assert_eq!(cg("memory", &id, "memory.limit_in_bytes"), "67108864");
    assert_eq!(cg("pids", &id, "pids.max"), "20");
    assert_eq!(cg("cpu", &id, "cpu.cfs_quota_us"), "50000");
    assert_eq!(cg("cpu", &id, "cpu.shares"), "512");

    env.ok(&["update", "--memory", "33554432", "--pids-limit", "10", &id]);
    assert_eq!(cg("memory", &id, "memory.limit_in_bytes"), "33554432");
    assert_eq!(cg("pids", &id, "pids.max"), "10");

    let stats: serde_json::Value = serde_json::from_str(&env.ok(&["stats", &id])).unwrap();
    assert!(
        stats["memory"]["memory"]["usage"].as_u64().unwrap() > 0,
        "{stats}"
    );
    assert_eq!(stats["pids"]["current"], 1);
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}

#[test]
fn windows_style_resources_are_mapped() {
    let env = Env::new();
    let id = unique("winres");
    let mut s = spec(&["sleep", "60"]);
    s["windows"] = json!({"resources": {
        "cpu": {"count": 1, "shares": 10000, "maximum": 5000},
        "memory": {"limit": 100663296},
        "storage": {"iops": 300, "bps": 1048576}
    }});
    env.start(&id, &s);
    assert_eq!(cg("cpuset", &id, "cpuset.cpus"), "0");
    assert_eq!(cg("cpu", &id, "cpu.shares"), "262144");
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(
        cg("cpu", &id, "cpu.cfs_quota_us"),
        (50_000 * cpus).to_string()
    );
    assert_eq!(cg("memory", &id, "memory.limit_in_bytes"), "100663296");
    // The writable layer here is the rootfs directory's device.
    let dev = {
        use std::os::unix::fs::MetadataExt;
        let d = std::fs::metadata(rootfs()).unwrap().dev();
        format!(
            "{}:{}",
            ((d >> 8) & 0xfff) | ((d >> 32) & !0xfff),
            (d & 0xff) | ((d >> 12) & !0xff)
        )
    };
    assert_eq!(
        cg("blkio", &id, "blkio.throttle.read_iops_device"),
        format!("{dev} 300")
    );
    assert_eq!(
        cg("blkio", &id, "blkio.throttle.write_bps_device"),
        format!("{dev} 1048576")
    );
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}

#[test]
fn an_out_of_range_windows_resource_is_refused_and_leaves_nothing() {
    let env = Env::new();
    let id = unique("badres");
    let mut s = spec(&["true"]);
    s["windows"] = json!({"resources": {"cpu": {"shares": 20000}}});
    let stderr = env.fails("create", &id, &s);
    assert!(
        stderr.contains("windows.resources.cpu.shares: 20000"),
        "{stderr}"
    );
}
