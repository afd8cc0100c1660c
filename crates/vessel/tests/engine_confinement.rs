//! Docker's confinement, end to end through the stock docker CLI and a
//! real vesseld: what a default container cannot do, checked from inside
//! it and from the host (its process's capabilities, the spec its shim
//! was given), what `--privileged` and `--cap-add`/`--cap-drop` open, and
//! the refusal of every option Vessel does not carry out.

mod engine_support;

use engine_support::*;

/// A capability set of `/proc/PID/status` (`CapEff`, `CapBnd`, ...).
fn caps(status: &str, set: &str) -> u64 {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{set}:")))
        .unwrap_or_else(|| panic!("no {set} in {status}"));
    u64::from_str_radix(line.trim(), 16).unwrap()
}

/// Docker's 14 default capabilities.
const DEFAULT_CAPS: u64 = 0xa80425fb;

fn spec_of(e: &Engine, name: &str) -> serde_json::Value {
    let id = e.inspect(name, "{{.Id}}");
    let path = e
        .root()
        .join("containers")
        .join(id)
        .join("bundle/config.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A block device of the host, as `major:minor`.
fn a_host_disk() -> String {
    std::fs::read_dir("/sys/dev/block")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .expect("the host has a block device")
}

#[test]
fn a_default_container_is_confined_as_dockers_is() {
    let e = Engine::start();
    let (major, minor) = a_host_disk()
        .split_once(':')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let script = format!(
        "grep CapEff /proc/self/status
         mkdir /m; mount -t tmpfs x /m && echo MOUNTED
         unshare -m true && echo UNSHARED
         echo 1 > /proc/sysrq-trigger && echo SYSRQ
         echo 1 > /proc/sys/vm/drop_caches && echo PROCSYS
         mknod /tmp/disk b {major} {minor} && head -c 1 /tmp/disk > /dev/null && echo DISK
         echo x > /tmp/m.ko; insmod /tmp/m.ko; echo insmod=$?
         echo keys=$(wc -c < /proc/keys) firmware=$(ls /sys/firmware | wc -l)
         echo ports=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
         grep ' /sys/fs/cgroup' /proc/self/mountinfo
         echo 1 > /sys/fs/cgroup/pids/pids.max && echo CGROUPS
         echo pids=$(cat /sys/fs/cgroup/pids/pids.current)"
    );
    let out = e.docker(&["run", "--rm", "busybox", "sh", "-c", &script]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(caps(&stdout(&out), "CapEff"), DEFAULT_CAPS, "{text}");
    for opened in ["MOUNTED", "UNSHARED", "SYSRQ", "PROCSYS", "DISK", "CGROUPS"] {
        assert!(!stdout(&out).contains(opened), "{opened}: {text}");
    }
    // A kernel without modules answers ENOSYS before it checks
    // CAP_SYS_MODULE, which the container does not have either way.
    assert!(!stdout(&out).contains("insmod=0"), "{text}");
    assert_eq!(caps(&stdout(&out), "CapEff") & (1 << 16), 0);
    assert!(stdout(&out).contains("keys=0 firmware=0"), "{text}");
    // Docker's sysctls of a network namespace of its own.
    assert!(stdout(&out).contains("ports=0"), "{text}");
    // Its own cgroups, read-only, over a tmpfs, one per v1 controller
    // hierarchy of the host: pids.current counts its own processes.
    assert!(
        stdout(&out).contains(" /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs "),
        "{text}"
    );
    assert!(
        stdout(&out).contains(" /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime - cgroup "),
        "{text}"
    );
    let pids: u32 = stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("pids="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!((1..10).contains(&pids), "{text}");

    // From the host: the process's sets, and the spec its shim was given.
    e.ok(&["run", "-d", "--name", "conf", "busybox", "sleep", "60"]);
    let pid = e.inspect("conf", "{{.State.Pid}}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(caps(&status, "CapEff"), DEFAULT_CAPS);
    assert_eq!(caps(&status, "CapBnd"), DEFAULT_CAPS);
    let spec = spec_of(&e, "conf");
    assert_eq!(
        spec["process"]["capabilities"]["bounding"]
            .as_array()
            .unwrap()
            .len(),
        14
    );
    let masked = spec["linux"]["maskedPaths"].as_array().unwrap();
    assert!(masked.contains(&"/proc/keys".into()) && masked.contains(&"/sys/firmware".into()));
    let rules = &spec["linux"]["resources"]["devices"];
    assert_eq!(
        rules[0],
        serde_json::json!({"allow": false, "type": "a", "access": "rwm"})
    );
    // A privileged exec gets every capability the host allows (its
    // seccomp filter stays the container's, as Docker's); the next exec
    // does not.
    let host = std::fs::read_to_string("/proc/self/status").unwrap();
    let out = e.docker(&[
        "exec",
        "--privileged",
        "conf",
        "grep",
        "-E",
        "Cap|Seccomp:",
        "/proc/self/status",
    ]);
    assert_eq!(
        caps(&stdout(&out), "CapEff"),
        caps(&host, "CapBnd"),
        "{out:?}"
    );
    assert!(stdout(&out).contains("Seccomp:\t2"), "{out:?}");
    // CAP_SYS_NICE: a higher priority (setpriority, which the filter
    // allows); mount stays refused by the filter, as in Docker.
    let script = "renice -n -5 -p $$ && echo NICE; mkdir /m; mount -t tmpfs x /m && echo MOUNTED";
    let out = e.docker(&["exec", "--privileged", "conf", "sh", "-c", script]);
    assert_eq!(stdout(&out), "NICE\n", "{out:?}");
    let out = e.docker(&["exec", "conf", "sh", "-c", script]);
    assert_eq!(stdout(&out), "", "{out:?}");
    let out = e.ok(&["exec", "conf", "grep", "CapEff", "/proc/self/status"]);
    assert_eq!(caps(&out, "CapEff"), DEFAULT_CAPS);
    // A user other than root keeps the bounding set only, as Docker's.
    let out = e.docker(&[
        "run",
        "--rm",
        "-u",
        "1000",
        "busybox",
        "grep",
        "Cap",
        "/proc/self/status",
    ]);
    assert_eq!(caps(&stdout(&out), "CapEff"), 0, "{out:?}");
    assert_eq!(caps(&stdout(&out), "CapBnd"), DEFAULT_CAPS, "{out:?}");
}

#[test]
fn privileged_gets_the_hosts_bounding_set_and_every_device() {
    let e = Engine::start();
    let host = std::fs::read_to_string("/proc/self/status").unwrap();
    let out = e.docker(&[
        "run", "--rm", "--privileged", "busybox", "sh", "-c",
        "grep CapEff /proc/self/status; mkdir /m; mount -t tmpfs x /m && echo MOUNTED; ls /dev/null /dev/kmsg",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        caps(&stdout(&out), "CapEff"),
        caps(&host, "CapBnd"),
        "{out:?}"
    );
    assert!(
        stdout(&out).contains("MOUNTED") && stdout(&out).contains("/dev/kmsg"),
        "{out:?}"
    );
    // The vessel CLI takes docker's flags too.
    e.ok(&[
        "run",
        "-d",
        "--privileged",
        "--name",
        "priv",
        "busybox",
        "sleep",
        "60",
    ]);
    let spec = spec_of(&e, "priv");
    assert!(spec["linux"]["maskedPaths"].is_null(), "{spec}");
    assert!(
        spec["linux"]["devices"].as_array().unwrap().len() > 5,
        "{spec}"
    );
    assert_eq!(
        e.inspect("priv", "{{json .HostConfig.MaskedPaths}}"),
        "null"
    );
}

#[test]
fn cap_add_and_cap_drop_open_and_close_exactly_what_they_name() {
    let e = Engine::start();
    let out = e.docker(&[
        "run",
        "--rm",
        "--cap-add",
        "net_admin",
        "--cap-drop",
        "CAP_CHOWN",
        "busybox",
        "sh",
        "-c",
        "grep CapEff /proc/self/status; touch /f; chown 1 /f && echo CHOWNED",
    ]);
    let net_admin = 1 << 12;
    let chown = 1;
    assert_eq!(
        caps(&stdout(&out), "CapEff"),
        (DEFAULT_CAPS | net_admin) & !chown,
        "{out:?}"
    );
    assert!(!stdout(&out).contains("CHOWNED"), "{out:?}");
    let out = e.ok(&[
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "KILL",
        "busybox",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    assert_eq!(caps(&out, "CapEff"), 1 << 5, "{out}");
    let out = e.docker(&["run", "--rm", "--cap-add", "NOPE", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert!(
        stderr(&out).contains("unknown capability: \"CAP_NOPE\""),
        "{out:?}"
    );
}

#[test]
fn an_option_vessel_does_not_carry_out_is_refused_and_leaves_nothing() {
    let e = Engine::start();
    for (args, named) in [
        (
            &["--link", "other:db"][..],
            "HostConfig.Links: legacy links",
        ),
        (&["-p", "[::1]:8080:80"][..], "HostIp"),
        (
            &["--health-cmd", "true", "--health-interval", "1us"][..],
            "Interval in Healthcheck cannot be less than 1ms",
        ),
        (
            &["--log-driver", "asdf"][..],
            "HostConfig.LogConfig.Type: \"asdf\"",
        ),
        (&["--runtime", "runc"][..], "HostConfig.Runtime: \"runc\""),
    ] {
        e.assert_run_refused(|a| e.docker(a), args, named);
    }
}
