//! End to end through the real vesseld and the vessel CLI: where Docker's
//! behaviour is the specification. --format, rmi's conflicts, OOMKilled,
//! signals passed to an attached run, the process's environment and /etc
//! files, events' and logs' times and filters, a paused container killed.

mod engine_support;

use engine_support::*;

#[test]
fn listings_print_dockers_fields_and_formats() {
    let e = Engine::start();
    e.ok(&["run", "-d", "--name", "lister", "busybox", "sleep", "60"]);
    e.ok(&["create", "--name", "idle", "busybox", "true"]);
    let id = e.inspect("lister", "{{.Id}}");

    // Running ones only, one JSON object per line with docker's fields.
    let out = e.ok(&["ps", "--format", "json"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let mut keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "Command",
            "CreatedAt",
            "ID",
            "Image",
            "Labels",
            "LocalVolumes",
            "Mounts",
            "Names",
            "Networks",
            "Ports",
            "RunningFor",
            "Size",
            "State",
            "Status"
        ]
    );
    assert_eq!(row["ID"], id[..12]);
    assert_eq!(row["Names"], "lister");
    assert_eq!(row["Command"], "\"sleep 60\"");
    assert_eq!(row["State"], "running");
    assert_eq!(row["Networks"], "bridge");

    let mut states: Vec<String> = e
        .ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])
        .lines()
        .map(String::from)
        .collect();
    states.sort();
    assert_eq!(states, ["idle created", "lister running"]);
    let table = e.ok(&[
        "ps",
        "-a",
        "--no-trunc",
        "--format",
        "table {{.ID}}\\t{{.Names}}",
    ]);
    assert_eq!(
        table.lines().next(),
        Some(format!("{:<67}NAMES", "CONTAINER ID").as_str())
    );
    assert!(table.contains(&format!("{id}   lister\n")), "{table}");

    // A field a container row does not have is refused before any output.
    let out = e.vessel(&["ps", "--format", "{{.Nope}}"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("no field \"Nope\""), "{out:?}");

    let out = e.ok(&["images", "--format", "json"]);
    let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (&row["Repository"], &row["Tag"]),
        (&"busybox".into(), &"latest".into())
    );
    assert_eq!(
        e.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]),
        format!("busybox:latest {}\n", row["ID"].as_str().unwrap())
    );
    assert_eq!(
        e.ok(&[
            "inspect",
            "--format",
            "{{json .Config.Cmd}} {{.Name}}",
            "lister"
        ]),
        "[\"sleep\",\"60\"] /lister\n"
    );
    assert_eq!(
        e.ok(&[
            "inspect",
            "-f",
            "{{range .Config.Cmd}}<{{.}}>{{end}} {{index .Config.Cmd 0}} {{if .State.Running}}up{{end}} {{.Config.Cmd}}",
            "lister"
        ]),
        "<sleep><60> sleep up [sleep 60]\n"
    );
    e.ok(&["rm", "-f", "lister", "idle"]);
}

#[test]
fn rmi_keeps_an_image_its_containers_use() {
    let e = Engine::start();
    e.ok(&["run", "-d", "--name", "user", "busybox", "sleep", "60"]);
    let id = e.ok(&["images", "-q"]).trim().to_string();
    let full_id = e.ok(&["images", "-q", "--no-trunc"]).trim().to_string();
    let refused = |args: &[&str], why: &str| {
        let out = e.vessel(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(stderr(&out).contains(why), "{args:?}: {out:?}");
    };
    refused(&["rmi", "busybox"], "(must force) - container");
    refused(
        &["rmi", &id],
        "(cannot be forced) - image is being used by running container",
    );
    refused(&["rmi", "-f", &id], "(cannot be forced)");
    // Forced, the last tag goes; the image stays for the container.
    assert_eq!(
        e.ok(&["rmi", "-f", "busybox"]),
        "Untagged: busybox:latest\n"
    );
    assert_eq!(
        e.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]),
        format!("<none>:<none> {id}\n")
    );
    assert_eq!(
        e.ok(&["exec", "user", "cat", "/etc/group"]).lines().next(),
        Some("root:x:0:")
    );

    e.ok(&["kill", "user"]);
    e.ok(&["wait", "user"]);
    refused(
        &["rmi", &id],
        "(must be forced) - image is being used by stopped container",
    );
    // Already untagged, it stays while its container does, forced or not.
    refused(&["rmi", "-f", &id], "is kept for stopped container");
    // Still there: the stopped container starts again on it.
    e.ok(&["start", "user"]);
    assert_eq!(e.inspect("user", "{{.State.Running}}"), "true");

    e.ok(&["rm", "-f", "user"]);
    assert_eq!(e.ok(&["rmi", &id]), format!("Deleted: {full_id}\n"));
    assert!(std::fs::read_dir(e.root().join("image/layers/sha256"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn a_container_the_oom_killer_ends_is_marked_oom_killed() {
    let e = Engine::start();
    let out = e.vessel(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "8m",
        "busybox",
        "sh",
        "-c",
        "x=a; while :; do x=$x$x; done",
    ]);
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    assert_eq!(
        e.inspect("hog", "{{.State.OOMKilled}} {{.State.ExitCode}}"),
        "true 137"
    );
    assert_eq!(e.actions("hog"), ["create", "start", "oom", "die"]);
    // One that stays within its limit is not.
    e.ok(&["run", "--name", "fits", "--memory", "8m", "busybox", "true"]);
    assert_eq!(e.inspect("fits", "{{.State.OOMKilled}}"), "false");
}

#[test]
fn an_attached_run_passes_its_signals_to_the_container() {
    let e = Engine::start();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_vessel"))
        .args(["run", "--rm", "--name", "proxied", "busybox", "sh", "-c"])
        .arg("trap 'echo got TERM; exit 11' TERM; echo ready; while :; do sleep 0.1; done")
        .env("VESSEL_HOST", e.host())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    e.eventually("the container running", || {
        e.vessel(&["inspect", "-f", "{{.State.Running}}", "proxied"])
            .stdout
            == b"true\n"
    });
    // Past the trap: its first line is out.
    e.eventually("the trap set", || {
        e.ok(&["logs", "proxied"]).contains("ready")
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(11), "{out:?}");
    assert_eq!(stdout(&out), "ready\ngot TERM\n");
    assert_eq!(e.ok(&["ps", "-aq"]), "");
}

#[test]
fn the_process_is_set_up_as_dockers() {
    let e = Engine::start();
    let sh = |opts: &[&str], script: &str| {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&["busybox", "sh", "-c", script]);
        e.ok(&args)
    };
    // HOME is the user's, from the image's /etc/passwd.
    assert_eq!(sh(&[], "echo $HOME"), "/root\n");
    assert_eq!(sh(&["-u", "nobody"], "echo $HOME"), "/nonexistent\n");
    // A terminal gets TERM=xterm, unless one is given; no terminal, none.
    assert_eq!(sh(&["-t"], "echo $TERM"), "xterm\r\n");
    assert_eq!(sh(&["-t", "-e", "TERM=vt100"], "echo $TERM"), "vt100\r\n");
    assert_eq!(sh(&[], "echo ${TERM:-none}"), "none\n");
    // On the host's network, the host's name.
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(sh(&["--network", "host"], "hostname"), format!("{host}\n"));
    // --entrypoint "" clears the image's.
    assert_eq!(
        e.ok(&["run", "--rm", "--entrypoint", "", "busybox", "echo", "hi"]),
        "hi\n"
    );
    // Its own /etc/hostname, /etc/hosts and /etc/resolv.conf, kept in its
    // directory.
    assert_eq!(
        sh(
            &["--hostname", "web"],
            "cat /etc/hostname; head -1 /etc/hosts; \
             grep -q ^nameserver /etc/resolv.conf && echo resolvers; \
             grep -c '^nameserver 127' /etc/resolv.conf || true"
        ),
        // The host's loopback resolvers are dropped: unreachable here.
        "web\n127.0.0.1\tlocalhost\nresolvers\n0\n"
    );
    e.ok(&["create", "--name", "files", "busybox", "true"]);
    e.ok(&["start", "-a", "files"]);
    let hosts = e.inspect("files", "{{.HostsPath}}");
    assert!(
        hosts.starts_with(&e.root().display().to_string()),
        "{hosts}"
    );
    assert!(std::fs::read_to_string(&hosts)
        .unwrap()
        .contains("localhost"));
    e.ok(&["rm", "files"]);
    assert!(!std::path::Path::new(&hosts).exists());
    // -w makes a missing working directory.
    assert_eq!(sh(&["-w", "/made/here"], "pwd"), "/made/here\n");
    // -v makes a missing host directory.
    let made = e.dir.path().join("made/by/run");
    let bind = format!("{}:/x", made.display());
    assert_eq!(sh(&["-v", &bind], "ls -d /x"), "/x\n");
    assert!(made.is_dir());
    // -it wants a terminal to read from.
    let out = e.vessel(&["run", "--rm", "-it", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stderr(&out).contains("the input device is not a TTY"),
        "{out:?}"
    );
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    // An exec with a terminal gets TERM too.
    e.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "60"]);
    assert_eq!(
        e.ok(&["exec", "-t", "box", "sh", "-c", "echo $TERM"]),
        "xterm\r\n"
    );
    e.ok(&["rm", "-f", "box"]);
}

#[test]
fn times_and_filters_are_checked_and_until_alone_reads_the_past() {
    let e = Engine::start();
    e.ok(&["run", "--name", "past", "busybox", "echo", "old"]);
    // --until without --since: the kept events up to then.
    let out = e.ok(&[
        "events",
        "--until",
        "0s",
        "--filter",
        "container=past",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(out, "create\nstart\ndie\n");
    let scoped = e.ok(&[
        "events",
        "--until",
        "0s",
        "--filter",
        "scope=local",
        "--filter",
        "container=past",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(scoped, out);
    let out = e.vessel(&["events", "--since", "60s", "--until", "120s"]);
    assert!(stderr(&out).contains("cannot be after `until`"), "{out:?}");
    // With the older fields Docker still sends.
    let first = &e.events("container=past")[0];
    assert_eq!(first["status"], "create");
    assert_eq!(first["id"], first["Actor"]["ID"]);
    assert_eq!(first["from"], "busybox");
    for args in [
        &["events", "--since", "abc"][..],
        &["logs", "--since", "abc", "past"],
        &["logs", "--until", "yesterday", "past"],
    ] {
        let out = e.vessel(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(
            stderr(&out).contains("failed to parse value as time or duration"),
            "{out:?}"
        );
    }
    let out = e.vessel(&["events", "--until", "0s", "--filter", "bogus=1"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr(&out).contains("invalid filter 'bogus'"), "{out:?}");
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_paused_container_is_resumed_by_the_signal_that_ends_it() {
    let e = Engine::start();
    e.ok(&["run", "-d", "--name", "frozen", "busybox", "sleep", "60"]);
    e.ok(&["pause", "frozen"]);
    e.ok(&["kill", "frozen"]);
    assert_eq!(e.ok(&["wait", "frozen"]).trim(), "137");
    assert_eq!(
        e.actions("frozen"),
        ["create", "start", "pause", "kill", "unpause", "die"]
    );
    assert_eq!(
        e.inspect("frozen", "{{.State.Status}} {{.State.Paused}}"),
        "exited false"
    );
    // stop: the stop signal thaws it (sleep as pid 1 ignores it), then
    // SIGKILL ends it.
    e.ok(&["run", "-d", "--name", "frozen2", "busybox", "sleep", "60"]);
    e.ok(&["pause", "frozen2"]);
    e.ok(&["stop", "-t", "1", "frozen2"]);
    assert_eq!(
        e.inspect("frozen2", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
}

#[test]
fn tag_and_history_through_both_clis() {
    let e = Engine::start();
    let id = e.inspect("busybox", "{{.Id}}");
    let out = e.docker(&["tag", "busybox", "docker.io/mine/box:v1"]);
    assert!(out.status.success(), "{out:?}");
    e.ok(&["tag", "busybox", "127.0.0.1:5000/box:x"]);
    // Docker Hub's names are kept familiar; another registry's whole.
    assert_eq!(
        e.inspect("busybox", "{{json .RepoTags}}"),
        r#"["127.0.0.1:5000/box:x","busybox:latest","mine/box:v1"]"#
    );
    assert_eq!(e.inspect("mine/box:v1", "{{.Id}}"), id);
    let tags: Vec<String> = e
        .events("type=image")
        .iter()
        .filter(|ev| ev["Action"] == "tag")
        .map(|ev| {
            ev["Actor"]["Attributes"]["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(tags, ["mine/box:v1", "127.0.0.1:5000/box:x"]);
    // A tag moves; the image it named keeps its other names.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let tarball = std::process::Command::new("tar")
        .arg("-C")
        .arg(dir.path())
        .args(["-cf", "-", "."])
        .output()
        .unwrap()
        .stdout;
    let out = e.vessel_with_stdin(&["import", "-", "moved:latest"], Some(&tarball));
    assert!(out.status.success(), "{out:?}");
    e.ok(&["tag", "moved", "mine/box:v1"]);
    assert_ne!(e.inspect("mine/box:v1", "{{.Id}}"), id);
    // Refused by name, and an image that is not there is Docker's 404.
    let out = e.vessel(&["tag", "busybox", "Bad"]);
    assert!(stderr(&out).contains("invalid reference format"), "{out:?}");
    let out = e.docker(&["tag", "nope", "x"]);
    assert!(stderr(&out).contains("No such image: nope"), "{out:?}");

    for cli in [
        &e.docker(&["history", "busybox"]),
        &e.vessel(&["history", "busybox"]),
    ] {
        let shown = stdout(cli);
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 2, "{shown}");
        assert!(
            lines[0].starts_with("IMAGE") && lines[0].contains("CREATED BY"),
            "{shown}"
        );
        assert!(lines[1].starts_with(&id[7..19]), "{shown}");
    }
    let sizes = e.ok(&[
        "history",
        "--human=false",
        "--format",
        "{{.Size}}",
        "busybox",
    ]);
    assert_eq!(sizes.trim(), e.inspect("busybox", "{{.Size}}"));
    // The image is Docker's config, its id the digest of it as stored.
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let shown = e.inspect(
        "moved",
        "{{.Os}} {{.Architecture}} {{len .RootFS.Layers}} {{.Comment}}",
    );
    assert_eq!(shown, format!("linux {arch} 1 Imported from -"));
    let out = e.docker(&["history", "--format", "{{.Comment}}", "moved"]);
    assert_eq!(stdout(&out), "Imported from -\n", "{out:?}");
    let moved = e.inspect("moved", "{{.Id}}");
    let config = e.root().join(format!("image/images/{}.json", &moved[7..]));
    let digest = std::process::Command::new("sha256sum")
        .arg(&config)
        .output()
        .unwrap();
    assert!(stdout(&digest).starts_with(&moved[7..]), "{digest:?}");
}
