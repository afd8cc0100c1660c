//! The shim creates most containers itself (its own cgroups, libcontainer's
//! init) and leaves the rest to libcontainer's builder. Both ways must give
//! the same container, read from the host.

mod support;

use serde_json::{json, Value};
use support::*;

/// How the shim created the container, from its log.
fn through_builder(env: &Env, id: &str) -> String {
    created_log_field(env, id, "through_builder")
}

/// What the host sees of a running container's cgroups: each v1
/// controller's files that a create writes.
fn cgroup_view(id: &str) -> Vec<(String, String)> {
    let files = [
        ("devices", "devices.list"),
        ("memory", "memory.limit_in_bytes"),
        ("memory", "memory.memsw.limit_in_bytes"),
        ("memory", "memory.soft_limit_in_bytes"),
        ("memory", "memory.swappiness"),
        ("cpu", "cpu.shares"),
        ("cpu", "cpu.cfs_quota_us"),
        ("cpu", "cpu.cfs_period_us"),
        ("cpuset", "cpuset.cpus"),
        ("cpuset", "cpuset.mems"),
        ("pids", "pids.max"),
        ("blkio", "blkio.throttle.read_bps_device"),
    ];
    files
        .iter()
        .filter_map(|(ctrl, file)| {
            let path = format!("/sys/fs/cgroup/{ctrl}/vessel/{id}/{file}");
            let text = std::fs::read_to_string(path).ok()?;
            Some((file.to_string(), text.trim().to_string()))
        })
        .collect()
}

fn limited_spec(args: &[&str]) -> Value {
    let mut s = spec(args);
    s["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "cgroup"}));
    s["linux"]["resources"] = json!({
        "devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}
        ],
        "memory": {"limit": 67108864, "reservation": 33554432, "swappiness": 10},
        "cpu": {"shares": 256, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 32},
        "blockIO": {"throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1048576}]}
    });
    s
}

#[test]
fn the_shims_own_create_matches_libcontainers() {
    let env = Env::new();
    let own = unique("own");
    let built = unique("built");
    let s = limited_spec(&["sleep", "60"]);
    // A hook is something only the builder runs: same container otherwise.
    let mut with_hook = s.clone();
    with_hook["hooks"] = json!({"createRuntime": [{"path": "/bin/true"}]});
    env.start(&own, &s);
    env.start(&built, &with_hook);
    assert_eq!(through_builder(&env, &own), "no");
    assert_eq!(through_builder(&env, &built), "hooks");

    let (own_view, built_view) = (cgroup_view(&own), cgroup_view(&built));
    assert!(own_view.len() >= 8, "{own_view:?}");
    assert_eq!(own_view, built_view);
    assert!(own_view.contains(&("memory.limit_in_bytes".into(), "67108864".into())));
    // The spec denied every device but /dev/null; the defaults were added.
    let devices = &own_view[0].1;
    assert!(devices.contains("c 1:3 rw"), "{devices}");
    assert!(devices.contains("c 136:* rwm"), "{devices}");
    assert!(!devices.contains("a *:* rwm"), "{devices}");

    for id in [&own, &built] {
        let pid = env.state(id)["pid"].as_i64().unwrap();
        let host = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        for ctrl in ["memory", "pids", "devices", "cpuset", "freezer", "blkio"] {
            let line = host
                .lines()
                .find(|l| l.split(':').nth(1).unwrap().split(',').any(|c| c == ctrl))
                .unwrap_or_else(|| panic!("{ctrl} missing from\n{host}"));
            assert!(line.ends_with(&format!("/vessel/{id}")), "{line}");
        }
        // Its own pid namespace, where it is pid 1.
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
        assert!(nspid.ends_with("\t1"), "{nspid}");
    }
    // A network namespace of its own, with its loopback up.
    let net = |pid: i64| std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let (own_pid, built_pid) = (
        env.state(&own)["pid"].as_i64().unwrap(),
        env.state(&built)["pid"].as_i64().unwrap(),
    );
    let host = std::fs::read_link("/proc/self/ns/net").unwrap();
    assert!(net(own_pid) != host && net(built_pid) != host && net(own_pid) != net(built_pid));
    for id in [&own, &built] {
        let lo = env.ok(&["exec", id, "--", "ip", "link", "show", "lo"]);
        assert!(lo.contains(",UP"), "{lo}");
    }
    // Inside, its cgroup namespace is rooted at its cgroups.
    for id in [&own, &built] {
        let inside = env.ok(&["exec", id, "--", "cat", "/proc/self/cgroup"]);
        let controllers = inside
            .lines()
            .filter(|l| !l.contains("name=") && !l.starts_with("0::"));
        for line in controllers {
            assert!(line.ends_with(":/"), "{inside}");
        }
    }
    for id in [&own, &built] {
        env.ok(&["delete", "--force", id]);
        assert_gone(&env, id);
    }
}

#[test]
fn a_limit_the_kernel_refuses_fails_the_create_and_leaves_nothing() {
    let env = Env::new();
    let id = unique("badlimit");
    let mut s = spec(&["true"]);
    s["linux"]["resources"] = json!({"cpu": {"cpus": "4096"}});
    let stderr = env.fails("create", &id, &s);
    assert!(
        stderr.contains("cpuset.cpus") && stderr.contains("4096"),
        "{stderr}"
    );
}

#[test]
fn a_failure_before_the_cgroups_are_joined_is_named_and_leaves_nothing() {
    // The first process takes its rlimits while the shim makes and joins
    // its cgroups; it fails here while the shim is still at that, and its
    // own reason is the error. Ten rounds, as the two race.
    let env = Env::new();
    for round in 0..10 {
        let id = unique(&format!("badrlimit{round}"));
        let mut s = spec(&["true"]);
        s["process"]["rlimits"] =
            json!([{"type": "RLIMIT_NOFILE", "hard": 2_000_000_000u64, "soft": 2_000_000_000u64}]);
        let stderr = env.fails("run", &id, &s);
        assert!(stderr.contains("process.rlimits"), "{stderr}");
    }
}

#[test]
fn a_failure_in_the_first_process_is_reported_by_name_and_leaves_nothing() {
    let env = Env::new();
    let id = unique("badinit");
    let mut s = spec(&["true"]);
    s["linux"]["sysctl"] = json!({"net.ipv4.vessel_no_such_key": "1"});
    let stderr = env.fails("create", &id, &s);
    assert!(stderr.contains("creating the container"), "{stderr}");
    assert!(
        stderr.contains("linux.sysctl net.ipv4.vessel_no_such_key"),
        "{stderr}"
    );
}

#[test]
fn a_network_sysctl_is_set_in_the_containers_own_namespace() {
    let env = Env::new();
    let id = unique("netsysctl");
    let mut s = spec(&["cat", "/proc/sys/net/ipv4/ip_forward"]);
    s["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    assert_eq!(env.run_kept(&id, &s), "1\n");
    assert_eq!(through_builder(&env, &id), "no");
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn an_id_mapped_mount_is_refused_not_ignored() {
    let env = Env::new();
    let id = unique("idmap");
    let mut s = spec(&["true"]);
    s["mounts"].as_array_mut().unwrap().push(json!(
        {"destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind", "idmap"]}
    ));
    let b = env.bundle(&id, &s);
    let out = env.run(&["create", "--bundle", b.to_str().unwrap(), &id]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("idmap"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_gone(&env, &id);
}
