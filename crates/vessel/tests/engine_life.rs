//! The rest of a container's life through the stock docker CLI and the
//! `vessel` CLI against a real vesseld: `ps` with its filters and
//! `-n/-l/-s`, `container prune` with its filters, and `info`/`version`
//! with the host's facts.

mod engine_support;

use engine_support::*;

/// `docker ps ARGS --format {{.Names}}`, one name a line.
fn names(e: &Engine, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ps"];
    all.extend(args);
    all.extend(["--format", "{{.Names}}"]);
    let out = e.docker(&all);
    assert!(out.status.success(), "{args:?}: {out:?}");
    stdout(&out).lines().map(String::from).collect()
}

#[test]
fn ps_lists_the_last_created_their_sizes_and_what_each_filter_takes() {
    let e = Engine::start();
    // Made in this order: old, big (100 KiB written), up (running).
    e.ok(&["run", "--name", "old", "-l", "tier=a", "busybox", "true"]);
    e.ok(&[
        "run",
        "--name",
        "big",
        "-v",
        "/tmp:/data",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/f bs=1024 count=100 2>/dev/null",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "up",
        "--network",
        "none",
        "busybox",
        "sleep",
        "60",
    ]);
    assert_eq!(names(&e, &[]), ["up"]);
    assert_eq!(names(&e, &["-a"]), ["up", "big", "old"]);
    // -n and -l count stopped containers too, newest first.
    assert_eq!(names(&e, &["-n", "2"]), ["up", "big"]);
    assert_eq!(names(&e, &["-l"]), ["up"]);
    let vessel: Vec<String> = e
        .ok(&["ps", "-n", "2", "--format", "{{.Names}}"])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(vessel, ["up", "big"]);
    // -s: the writable layer, and with the image (the same for both CLIs).
    let sizes = |out: String| -> String {
        out.lines()
            .find(|l| l.starts_with("big "))
            .unwrap_or_default()
            .to_string()
    };
    let docker = sizes(stdout(&e.docker(&[
        "ps",
        "-as",
        "--format",
        "{{.Names}} {{.Size}}",
    ])));
    assert!(
        docker.starts_with("big 10") && docker.contains("kB (virtual "),
        "{docker}"
    );
    let own = sizes(e.ok(&["ps", "-as", "--format", "{{.Names}} {{.Size}}"]));
    assert_eq!(own, docker);
    let filtered = |f: &str| names(&e, &["-a", "--filter", f]);
    assert_eq!(filtered("before=big"), ["old"]);
    assert_eq!(filtered("since=old"), ["up", "big"]);
    assert_eq!(filtered("ancestor=busybox").len(), 3);
    assert!(filtered("ancestor=nosuchimage").is_empty());
    assert_eq!(filtered("label=tier=a"), ["old"]);
    assert_eq!(filtered("volume=/data"), ["big"]);
    assert_eq!(filtered("volume=/tmp"), ["big"]);
    assert_eq!(filtered("network=none"), ["up"]);
    assert_eq!(filtered("health=none").len(), 3);
    assert!(filtered("health=healthy").is_empty());
    assert_eq!(filtered("status=exited"), ["big", "old"]);
    // Bad values are refused in Docker's words.
    let out = e.docker(&["ps", "--filter", "health=bogus"]);
    assert!(
        stderr(&out).contains("Unrecognised filter value for health: bogus"),
        "{out:?}"
    );
    let out = e.docker(&["ps", "--filter", "status=bogus"]);
    assert!(
        stderr(&out).contains("Invalid filter 'status=bogus'"),
        "{out:?}"
    );
    let out = e.docker(&["ps", "--filter", "before=nosuch"]);
    assert!(!out.status.success(), "{out:?}");
    e.ok(&["rm", "-f", "up"]);
}

#[test]
fn container_prune_removes_the_stopped_ones_its_filters_take() {
    let e = Engine::start();
    e.ok(&["run", "--name", "keep", "-l", "keep=yes", "busybox", "true"]);
    e.ok(&[
        "run",
        "--name",
        "fat",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/f bs=1024 count=64 2>/dev/null",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "live",
        "--network",
        "none",
        "busybox",
        "sleep",
        "60",
    ]);
    let fat = e.inspect("fat", "{{.Id}}");
    // Nothing is older than an hour.
    let out = e.docker(&["container", "prune", "-f", "--filter", "until=1h"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(names(&e, &["-a"]).len(), 3);
    let out = e.docker(&["container", "prune", "-f", "--filter", "label!=keep"]);
    let text = stdout(&out);
    assert!(
        text.contains(&fat) && text.contains("Total reclaimed space: 65."),
        "{text}"
    );
    assert_eq!(names(&e, &["-a"]), ["live", "keep"]);
    assert!(!e.dir.path().join("root/containers").join(&fat).exists());
    // The vessel CLI's prune takes the rest; the running one stays.
    let text = e.ok(&["container", "prune", "-f"]);
    assert!(text.contains("Deleted Containers:"), "{text}");
    assert_eq!(names(&e, &["-a"]), ["live"]);
    // An empty prune answers null, as Docker's does.
    let host = e.host();
    let sock = host.trim_start_matches("unix://");
    let raw = std::process::Command::new("curl")
        .args([
            "-s",
            "-XPOST",
            "--unix-socket",
            sock,
            "http://x/containers/prune",
        ])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&raw).trim(),
        r#"{"ContainersDeleted":null,"SpaceReclaimed":0}"#
    );
    let prunes = e.events("type=container");
    assert!(
        prunes.iter().any(|ev| ev["Action"] == "prune"),
        "{prunes:?}"
    );
    let out = e.docker(&["container", "prune", "-f", "--filter", "until=xyz"]);
    assert!(
        stderr(&out).contains("failed to parse value as time or duration"),
        "{out:?}"
    );
    e.ok(&["rm", "-f", "live"]);
}

#[test]
fn info_and_version_tell_the_host_as_docker_does() {
    let e = Engine::start();
    let out = stdout(&e.docker(&["info"]));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    assert!(meminfo.contains("MemTotal"));
    assert!(!out.contains("Total Memory: 0B"), "{out}");
    assert!(out.contains("Total Memory: "), "{out}");
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let cgroup = format!("Cgroup Version: {}", if v2 { 2 } else { 1 });
    for want in [
        cgroup.as_str(),
        "Cgroup Driver: cgroupfs",
        "Runtimes: vessel",
        "Default Runtime: vessel",
        "seccomp",
        "Profile: default",
        "Kernel Version: ",
        "Live Restore Enabled: true",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let own = e.ok(&["info"]);
    assert!(
        own.contains(&cgroup) && own.contains("Total Memory: "),
        "{own}"
    );
    assert!(!own.contains("Total Memory: 0B"), "{own}");
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let version = e.ok(&["version"]);
    assert!(version.contains(kernel.trim()), "{version}");
    let docker = stdout(&e.docker(&["version", "--format", "{{.Server.KernelVersion}}"]));
    assert_eq!(docker.trim(), kernel.trim());
}

#[test]
fn diff_shows_what_a_container_changed_as_docker_does() {
    let e = Engine::start();
    let script = "touch /tmp/x; mkdir -p /newdir/sub; touch /newdir/sub/f; \
                  echo >> /etc/passwd; rm /bin/true; ln -s /x /lnk; mkdir /home/u";
    e.ok(&[
        "run",
        "--name",
        "d",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    // What dockerd 20.10 reports for the same script on the same image.
    let mut want = vec![
        "A /home/u",
        "A /lnk",
        "A /newdir",
        "A /newdir/sub",
        "A /newdir/sub/f",
        "A /tmp/x",
        "C /bin",
        "C /etc",
        "C /etc/passwd",
        "C /home",
        "C /tmp",
        "D /bin/true",
    ];
    want.sort();
    let sorted = |text: String| {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(stdout(&e.docker(&["diff", "d"]))), want);
    assert_eq!(sorted(e.ok(&["diff", "d"])), want);
    // No change (the runtime's mount stubs are none): nothing listed.
    e.ok(&[
        "run",
        "--name",
        "quiet",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    let out = e.docker(&["diff", "quiet"]);
    assert!(out.status.success() && stdout(&out).is_empty(), "{out:?}");
    let out = e.docker(&["diff", "nosuch"]);
    assert!(
        stderr(&out).contains("No such container: nosuch"),
        "{out:?}"
    );
}

#[test]
fn system_prune_takes_stopped_containers_unused_networks_and_dangling_images() {
    let e = Engine::start();
    for (cli, n) in [("docker", 1), ("vessel", 2)] {
        let (c, net) = (format!("gone{n}"), format!("spare{n}"));
        e.ok(&["run", "--name", &c, "--network", "none", "busybox", "true"]);
        e.ok(&["network", "create", &net]);
        e.ok(&[
            "run",
            "-d",
            "--name",
            "busy",
            "--network",
            "none",
            "busybox",
            "sleep",
            "60",
        ]);
        let out = match cli {
            "docker" => e.docker(&["system", "prune", "-f"]),
            _ => e.vessel(&["system", "prune", "-f"]),
        };
        let text = stdout(&out);
        assert!(out.status.success(), "{cli}: {out:?}");
        assert!(
            text.contains("Deleted Containers:") && text.contains(&net),
            "{cli}: {text}"
        );
        assert!(text.contains("Total reclaimed space:"), "{cli}: {text}");
        // The running container and the image it uses stay.
        assert_eq!(names(&e, &["-a"]), ["busy"]);
        let nets = stdout(&e.docker(&["network", "ls", "--format", "{{.Name}}"]));
        assert!(!nets.contains(&net), "{nets}");
        assert!(!e.ok(&["images", "-q"]).trim().is_empty());
        e.ok(&["rm", "-f", "busy"]);
    }
}

#[test]
fn logs_details_come_before_each_line_as_dockers_do() {
    let e = Engine::start();
    e.ok(&[
        "run",
        "--name",
        "talk",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "echo one; echo two",
    ]);
    // No log driver attributes: an empty prefix, then the line.
    assert_eq!(
        stdout(&e.docker(&["logs", "--details", "talk"])),
        " one\n two\n"
    );
    assert_eq!(e.ok(&["logs", "--details", "talk"]), " one\n two\n");
    let stamped = stdout(&e.docker(&["logs", "--details", "-t", "talk"]));
    assert!(stamped.lines().all(|l| l.contains("Z  ")), "{stamped}");
    assert_eq!(stdout(&e.docker(&["logs", "talk"])), "one\ntwo\n");
}

/// `count` lines `line 0`, `line 1`, ... as a container's command.
fn lines_script(count: usize) -> String {
    format!("i=0; while [ $i -lt {count} ]; do echo line $i; i=$((i+1)); done")
}

fn numbered(count: std::ops::Range<usize>) -> String {
    count.map(|i| format!("line {i}\n")).collect()
}

#[test]
fn a_rotated_log_keeps_every_line_whole_and_in_order() {
    let e = Engine::start();
    // Options Vessel does not carry out are refused by name.
    let docker = |a: &[&str]| e.docker(a);
    for (opts, named) in [
        (
            &["--log-opt", "max-size=0"][..],
            "max-size must be a positive number",
        ),
        (
            &["--log-opt", "bogus=1"],
            "unknown log opt 'bogus' for json-file log driver",
        ),
        (
            &["--log-opt", "compress=true"],
            "compress=\"true\": not supported",
        ),
    ] {
        e.assert_run_refused(docker, opts, named);
    }
    // Rotated many times, every file kept: every line, in order.
    e.ok(&[
        "run",
        "--name",
        "rot",
        "--network",
        "none",
        "--log-opt",
        "max-size=10k",
        "--log-opt",
        "max-file=60",
        "busybox",
        "sh",
        "-c",
        &lines_script(3000),
    ]);
    assert_eq!(stdout(&e.docker(&["logs", "rot"])), numbered(0..3000));
    assert_eq!(
        stdout(&e.docker(&["logs", "--tail", "2", "rot"])),
        numbered(2998..3000)
    );
    let log = e.inspect("rot", "{{.LogPath}}");
    let rotated: Vec<u64> = (1..)
        .map(|n| std::fs::metadata(format!("{log}.{n}")))
        .take_while(|m| m.is_ok())
        .map(|m| m.unwrap().len())
        .collect();
    assert!(rotated.len() > 10, "{rotated:?}");
    assert!(
        rotated.iter().all(|&n| (10_000..10_200).contains(&n)),
        "{rotated:?}"
    );
    // Followed while it rotates: nothing missed.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "fol",
        "--network",
        "none",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=500",
        "busybox",
        "sh",
        "-c",
        &lines_script(2000),
    ]);
    assert_eq!(stdout(&e.docker(&["logs", "-f", "fol"])), numbered(0..2000));
    // Two files: the newest lines, whole.
    e.ok(&[
        "run",
        "--name",
        "two",
        "--network",
        "none",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        &lines_script(500),
    ]);
    let kept = e.ok(&["logs", "two"]);
    let first: usize = kept.lines().next().unwrap()["line ".len()..]
        .parse()
        .unwrap();
    assert!(first > 400, "{first}");
    assert_eq!(kept, numbered(first..500));
}
