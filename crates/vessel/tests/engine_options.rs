//! Docker's run options that change a container's confinement, end to
//! end through a real vesseld: each opens exactly what it says, checked
//! from inside the container (and from the host where that is where it
//! shows), and a bad value is refused by name, leaving nothing.

mod engine_support;

use engine_support::*;
use std::process::Output;

/// `sh -c SCRIPT` in a `docker run --rm` with `opts`; its stdout, which
/// must be a success.
fn run(e: &Engine, opts: &[&str], script: &str) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend(opts);
    args.extend(["busybox", "sh", "-c", script]);
    let out = e.docker(&args);
    assert!(out.status.success(), "{opts:?}: {out:?}");
    stdout(&out)
}

#[test]
fn file_system_and_limit_options_open_what_they_say() {
    let e = Engine::start();
    let out = run(
        &e,
        &[
            "--read-only",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/tmp:rw,size=64k",
        ],
        "touch /x 2>/dev/null && echo ROOT-WRITTEN; touch /tmp/a /run/b && echo TMP-OK;
         echo x >> /etc/hosts 2>/dev/null && echo HOSTS-WRITTEN; grep ' /tmp ' /proc/mounts",
    );
    assert!(
        !out.contains("ROOT-WRITTEN") && !out.contains("HOSTS-WRITTEN"),
        "{out}"
    );
    assert!(out.contains("TMP-OK") && out.contains("size=64k"), "{out}");
    let out = run(
        &e,
        &[
            "--ulimit",
            "nofile=100:200",
            "--ulimit",
            "nproc=50",
            "--shm-size",
            "1m",
            "--oom-score-adj",
            "500",
            "--cpuset-cpus",
            "0",
        ],
        "ulimit -n; ulimit -Hn; ulimit -u; grep ' /dev/shm ' /proc/mounts;
         cat /proc/self/oom_score_adj; grep Cpus_allowed_list /proc/self/status",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..3], ["100", "200", "50"], "{out}");
    assert!(lines[3].contains("size=1024k"), "{out}");
    assert_eq!(lines[4], "500", "{out}");
    assert!(lines[5].ends_with("\t0"), "{out}");
    let out = run(
        &e,
        &[
            "-u",
            "1000:1000",
            "--group-add",
            "5",
            "--group-add",
            "44",
            "--security-opt",
            "no-new-privileges",
            "--sysctl",
            "net.ipv4.ip_forward=1",
        ],
        "id -G; grep NoNewPrivs /proc/self/status; cat /proc/sys/net/ipv4/ip_forward",
    );
    assert_eq!(out, "1000 5 44\nNoNewPrivs:\t1\n1\n", "{out}");
    // A group by name is the container's own /etc/group's (the kernel
    // keeps the groups sorted).
    let named = ["-u", "1000", "--group-add", "44", "--group-add", "daemon"];
    assert_eq!(run(&e, &named, "id -G"), "0 1 44\n");
    let out = e.docker(&[
        "run",
        "--name",
        "nogroup",
        "--group-add",
        "nosuch",
        "busybox",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert!(stderr(&out).contains("group \"nosuch\""), "{out:?}");
    e.ok(&["rm", "nogroup"]);
    // Root by name keeps root's capabilities; -1 is no limit (core's hard
    // limit is none here already: raising one needs CAP_SYS_RESOURCE).
    let root = run(&e, &["-u", "root:0"], "grep CapEff /proc/self/status");
    assert_eq!(root, "CapEff:\t00000000a80425fb\n");
    let unlimited = run(&e, &["--ulimit", "core=-1:-1"], "ulimit -c");
    assert_eq!(unlimited, "unlimited\n");
    // A stop signal is checked at create.
    let out = e.docker(&["create", "--stop-signal", "NOPE", "busybox", "true"]);
    assert!(stderr(&out).contains("StopSignal: \"NOPE\""), "{out:?}");
    // Without the option, none of it.
    let out = run(
        &e,
        &[],
        "grep NoNewPrivs /proc/self/status; ulimit -Hn; id -G",
    );
    assert!(
        out.starts_with("NoNewPrivs:\t0\n") && out.ends_with("\n0\n"),
        "{out}"
    );
}

#[test]
fn device_and_name_options_open_what_they_say() {
    let e = Engine::start();
    // A node the defaults do not allow (loop-control, 10:237), read-only:
    // opened for reading, not for writing.
    let out = run(
        &e,
        &[
            "--device",
            "/dev/loop-control:/dev/lc:r",
            "--add-host",
            "foo:10.0.0.1",
            "--dns",
            "10.0.0.2",
            "--dns-search",
            "example.com",
            "--dns-option",
            "ndots:2",
        ],
        "head -c 0 /dev/lc && echo READ; echo x > /dev/lc 2>/dev/null || echo NO-WRITE;
         grep foo /etc/hosts; cat /etc/resolv.conf",
    );
    assert_eq!(
        out,
        "READ\nNO-WRITE\n10.0.0.1\tfoo\nsearch example.com\nnameserver 10.0.0.2\noptions ndots:2\n"
    );
    // A rule opens a device the defaults close: /dev/fuse's numbers.
    let script = "mknod /tmp/f c 10 229; head -c 0 /tmp/f 2>&1 | grep -c 'not permitted'; true";
    assert_eq!(run(&e, &[], script), "1\n");
    let opened = run(&e, &["--device-cgroup-rule", "c 10:229 rwm"], script);
    assert_eq!(opened, "0\n");
}

#[test]
fn namespace_options_join_the_host_or_a_peer() {
    let e = Engine::start();
    let host_ns = |kind: &str| std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap();
    let host_name = nix::unistd::gethostname().unwrap().into_string().unwrap();
    let out = run(
        &e,
        &["--ipc", "host", "--pid", "host", "--uts", "host"],
        "hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts",
    );
    let want = format!(
        "{host_name}\n{}\n{}\n",
        host_ns("ipc").display(),
        host_ns("uts").display()
    );
    assert_eq!(out, want);
    // The pid namespace of the host: its pid 1 is the host's.
    let out = run(&e, &["--pid", "host"], "cat /proc/1/comm");
    let host_init = std::fs::read_to_string("/proc/1/comm").unwrap();
    assert_eq!(out, host_init);
    let out = run(
        &e,
        &["--cgroupns", "private"],
        "readlink /proc/self/ns/cgroup",
    );
    assert_ne!(out.trim(), host_ns("cgroup").display().to_string());

    e.ok(&["run", "-d", "--name", "peer", "busybox", "sleep", "60"]);
    let pid = e.inspect("peer", "{{.State.Pid}}");
    let peer_ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let out = run(
        &e,
        &["--pid", "container:peer"],
        "readlink /proc/self/ns/pid; ps -o comm | grep -c sleep",
    );
    let want = format!("{}\n1\n", peer_ns.display());
    assert_eq!(out, want);
}

#[test]
fn bad_values_are_refused_by_name_and_leave_nothing() {
    let e = Engine::start();
    for (opts, named) in [
        (
            &["--ipc", "container:nosuch"][..],
            "No such container: nosuch",
        ),
        (
            &["--sysctl", "kernel.modprobe=x"][..],
            "HostConfig.Sysctls: kernel.modprobe=x",
        ),
        (
            &["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"][..],
            "net.ipv4.ip_forward=1",
        ),
        (&["--ulimit", "bogus=1"][..], "invalid ulimit type: bogus"),
        (&["--oom-score-adj", "2000"][..], "HostConfig.OomScoreAdj"),
        (&["--cpuset-cpus", "99"][..], "HostConfig.CpusetCpus"),
        (
            &["--security-opt", "bogus"][..],
            "HostConfig.SecurityOpt[0]",
        ),
        (
            &["--security-opt", "apparmor=docker-default"][..],
            "HostConfig.SecurityOpt[0]",
        ),
        (&["--group-add", "a:b"][..], "HostConfig.GroupAdd[0]"),
        (&["--cgroupns", "bogus"][..], "HostConfig.CgroupnsMode"),
        (&["--device", "/nonexistent"][..], "HostConfig.Devices[0]"),
        (
            &["--add-host", "foo:nowhere"][..],
            "HostConfig.ExtraHosts[0]",
        ),
        (
            &["--device-cgroup-rule", "x"][..],
            "HostConfig.DeviceCgroupRules[0]",
        ),
    ] {
        // The vessel CLI checks nothing itself: the daemon refuses.
        e.assert_run_refused(|a| e.vessel(a), opts, named);
    }
}

#[test]
fn labels_are_kept_and_filterable() {
    let e = Engine::start();
    e.ok(&[
        "run", "-d", "--name", "web", "-l", "app=web", "-l", "tier", "busybox", "sleep", "60",
    ]);
    let out = e.docker(&[
        "run", "-d", "--name", "db", "--label", "app=db", "busybox", "sleep", "60",
    ]);
    assert!(out.status.success(), "{out:?}");
    e.ok(&["run", "--name", "done", "-l", "app=web", "busybox", "true"]);
    assert_eq!(
        e.inspect("web", "{{json .Config.Labels}}"),
        r#"{"app":"web","tier":""}"#
    );
    let names = |out: Output| {
        assert!(out.status.success(), "{out:?}");
        let mut n: Vec<String> = stdout(&out).lines().map(String::from).collect();
        n.sort();
        n
    };
    fn f<'a>(filters: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["ps", "-a", "--format", "{{.Names}}"];
        for x in filters {
            args.extend(["--filter", *x]);
        }
        args
    }
    assert_eq!(names(e.docker(&f(&["label=app=web"]))), ["done", "web"]);
    assert_eq!(
        names(e.vessel(&f(&["label=app=web", "label=tier"]))),
        ["web"]
    );
    assert_eq!(names(e.docker(&f(&["status=exited"]))), ["done"]);
    assert_eq!(names(e.docker(&f(&["name=d", "status=running"]))), ["db"]);
    let out = e.docker(&["ps", "--filter", "publish=80"]);
    assert!(stderr(&out).contains("invalid filter 'publish'"), "{out:?}");
}

#[test]
fn a_memory_limit_limits_swap_as_dockers_does() {
    let e = Engine::start();
    let memsw = |name: &str| {
        let id = e.inspect(name, "{{.Id}}");
        let path = format!("/sys/fs/cgroup/memory/vessel/{id}/memory.memsw.limit_in_bytes");
        std::fs::read_to_string(path).map(|s| s.trim().to_string())
    };
    if !std::path::Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists() {
        // Only a cgroup v1 host with swap accounting shows it this way.
        return;
    }
    e.ok(&[
        "run", "-d", "--name", "m", "--memory", "64m", "busybox", "sleep", "60",
    ]);
    assert_eq!(memsw("m").unwrap(), (128u64 << 20).to_string());
    assert_eq!(
        e.inspect("m", "{{.HostConfig.MemorySwap}}"),
        (128u64 << 20).to_string()
    );
    // Above the swap limit, the memory limit needs a new one too.
    let out = e.vessel(&["update", "--memory", "200m", "m"]);
    assert!(
        stderr(&out).contains("HostConfig.MemorySwap: 134217728 is below"),
        "{out:?}"
    );
    e.ok(&["update", "--memory", "200m", "--memory-swap", "400m", "m"]);
    assert_eq!(memsw("m").unwrap(), (400u64 << 20).to_string());
    e.ok(&[
        "run",
        "-d",
        "--name",
        "n",
        "--memory",
        "64m",
        "--memory-swap",
        "-1",
        "busybox",
        "sleep",
        "60",
    ]);
    assert!(memsw("n").unwrap().parse::<u64>().unwrap() > 1 << 40);
    let out = e.vessel(&[
        "run",
        "--memory",
        "64m",
        "--memory-swap",
        "32m",
        "busybox",
        "true",
    ]);
    assert!(
        stderr(&out).contains("HostConfig.MemorySwap: 33554432 is below"),
        "{out:?}"
    );
}

#[test]
fn the_none_log_driver_keeps_no_log_and_others_are_refused() {
    let e = Engine::start();
    // Attached, the output still comes; no log file is kept, and reading
    // the log is Docker's 501.
    let out = e.docker(&[
        "run",
        "--name",
        "quiet",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "hi",
    ]);
    assert_eq!(stdout(&out), "hi\n", "{out:?}");
    assert_eq!(
        e.inspect("quiet", "{{.HostConfig.LogConfig.Type}}:{{.LogPath}}"),
        "none:"
    );
    let id = e.inspect("quiet", "{{.Id}}");
    let dir = e.root().join("containers").join(&id);
    assert!(!dir.join(format!("{id}-json.log")).exists());
    let out = e.docker(&["logs", "quiet"]);
    assert!(
        stderr(&out).contains("configured logging driver does not support reading"),
        "{out:?}"
    );
    e.ok(&[
        "run",
        "-d",
        "--name",
        "quiet2",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "hi",
    ]);
    let out = e.vessel(&["logs", "quiet2"]);
    assert!(!out.status.success(), "{out:?}");
    e.ok(&["rm", "-f", "quiet", "quiet2"]);
    let cli = |args: &[&str]| e.docker(args);
    e.assert_run_refused(
        cli,
        &["--log-driver", "syslog"],
        "HostConfig.LogConfig.Type",
    );
}

#[test]
fn a_shareable_containers_ipc_and_shm_are_joined_by_name() {
    let e = Engine::start();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "donor",
        "--ipc",
        "shareable",
        "--shm-size",
        "2m",
        "busybox",
        "sh",
        "-c",
        "echo shared > /dev/shm/f; sleep 60",
    ]);
    e.eventually("the donor writes /dev/shm/f", || {
        run(
            &e,
            &["--ipc", "container:donor"],
            "cat /dev/shm/f 2>/dev/null",
        ) == "shared\n"
    });
    let pid = e.inspect("donor", "{{.State.Pid}}");
    let donor_ns = std::fs::read_link(format!("/proc/{pid}/ns/ipc")).unwrap();
    let out = run(
        &e,
        &["--ipc", "container:donor"],
        "readlink /proc/self/ns/ipc; df -k /dev/shm | tail -1",
    );
    assert!(
        out.starts_with(&format!("{}\n", donor_ns.display())),
        "{out}"
    );
    assert!(out.contains(" 2048 "), "{out}");
    // The donor's /dev/shm is a mount on the host while it runs only.
    let id = e.inspect("donor", "{{.Id}}");
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .contains(&format!("{id}/mounts/shm"))
    };
    assert!(mounted());
    e.ok(&["stop", "-t", "1", "donor"]);
    assert!(!mounted());
    // A private container's IPC is not for others to join.
    e.ok(&["run", "-d", "--name", "private", "busybox", "sleep", "60"]);
    let out = e.docker(&[
        "run",
        "--rm",
        "--ipc",
        "container:private",
        "busybox",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert!(stderr(&out).contains("non-shareable IPC"), "{out:?}");
    let out = e.docker(&["run", "--rm", "--ipc", "container:donor", "busybox", "true"]);
    assert!(stderr(&out).contains("not running"), "{out:?}");
    e.ok(&["rm", "-f", "donor", "private"]);
    assert!(!mounted());
}
