//! Volumes through the stock docker CLI and the `vessel` CLI against a
//! real vesseld: named and anonymous volumes (the image's `VOLUME`
//! included) filled from the image, kept across containers, refused for
//! removal while in use, `rm -v`, prune, `--volumes-from`, `--mount`
//! with its options, the local driver's mounted filesystems, bind
//! propagation, events, and the references kept across a daemon's crash.

mod engine_support;

use std::process::Command;

use engine_support::*;

/// An image whose /srv/data (owned 5:6, mode 750, holding `f`) is a
/// `VOLUME`.
fn image_with_volume(e: &Engine) {
    e.ok(&[
        "run",
        "--name",
        "base",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /srv/data && echo from-image > /srv/data/f && chown 5:6 /srv/data && chmod 750 /srv/data",
    ]);
    e.ok(&["commit", "--change", "VOLUME /srv/data", "base", "withvol"]);
    e.ok(&["rm", "base"]);
}

fn volume_names(e: &Engine) -> Vec<String> {
    let out = e.docker(&["volume", "ls", "-q"]);
    assert!(out.status.success(), "{out:?}");
    stdout(&out).lines().map(String::from).collect()
}

fn run(e: &Engine, args: &[&str]) -> String {
    let out = e.docker(args);
    assert!(
        out.status.success(),
        "{args:?}: {out:?}\n{}",
        e.daemon_log()
    );
    stdout(&out)
}

#[test]
fn a_named_volume_is_filled_from_the_image_kept_and_not_removed_in_use() {
    let e = Engine::start();
    image_with_volume(&e);
    // Filled at create from the image's content there, its owner and mode
    // taken too; what one container writes the next one reads.
    let out = run(
        &e,
        &[
            "run",
            "--rm",
            "-v",
            "data:/srv/data",
            "withvol",
            "sh",
            "-c",
            "stat -c %u:%g:%a /srv/data; cat /srv/data/f; echo second > /srv/data/g",
        ],
    );
    assert_eq!(out, "5:6:750\nfrom-image\n");
    let out = run(
        &e,
        &[
            "run",
            "--rm",
            "-v",
            "data:/other",
            "busybox",
            "cat",
            "/other/g",
        ],
    );
    assert_eq!(out, "second\n");
    let mountpoint = run(&e, &["volume", "inspect", "-f", "{{.Mountpoint}}", "data"]);
    let mountpoint = mountpoint.trim();
    assert!(
        mountpoint.starts_with(&e.root().display().to_string()),
        "{mountpoint}"
    );
    assert_eq!(
        std::fs::read_to_string(format!("{mountpoint}/g")).unwrap(),
        "second\n"
    );
    // nocopy: an empty new volume stays empty.
    let out = run(
        &e,
        &[
            "run",
            "--rm",
            "-v",
            "bare:/srv/data:nocopy",
            "withvol",
            "ls",
            "-A",
            "/srv/data",
        ],
    );
    assert_eq!(out, "");
    // In use by a container, running or not: refused, named by its id.
    let id = run(
        &e,
        &[
            "run",
            "-d",
            "--name",
            "user",
            "-v",
            "data:/d:ro",
            "busybox",
            "sleep",
            "60",
        ],
    );
    let mounts = e.inspect("user", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.Mode}} {{.RW}} {{.Driver}}{{end}}");
    assert_eq!(mounts, "volume data /d ro false local");
    let out = e.docker(&["volume", "rm", "data"]);
    assert!(!out.status.success());
    let want = format!("remove data: volume is in use - [{}]", id.trim());
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    e.ok(&["stop", "-t", "0", "user"]);
    assert!(!e.vessel(&["volume", "rm", "data"]).status.success());
    e.ok(&["rm", "user"]);
    assert_eq!(e.ok(&["volume", "rm", "data"]), "data\n");
    assert!(!std::path::Path::new(mountpoint).exists());
    let out = e.docker(&["volume", "inspect", "data"]);
    assert!(stderr(&out).contains("no such volume"), "{out:?}");
    assert!(e.docker(&["volume", "rm", "-f", "data"]).status.success());
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_prune_and_named_ones_stay() {
    let e = Engine::start();
    image_with_volume(&e);
    run(&e, &["run", "--name", "a", "withvol", "true"]);
    let name = e.inspect("a", "{{range .Mounts}}{{.Name}}{{end}}");
    assert_eq!(name.len(), 64, "{name}");
    let labels = run(&e, &["volume", "inspect", "-f", "{{json .Labels}}", &name]);
    assert_eq!(labels.trim(), r#"{"com.docker.volume.anonymous":""}"#);
    assert_eq!(
        e.inspect("a", "{{json .Config.Volumes}}"),
        r#"{"/srv/data":{}}"#
    );
    // -v PATH makes one too; a bind over the image's VOLUME replaces it.
    run(
        &e,
        &[
            "run",
            "--name",
            "b",
            "-v",
            "/extra",
            "-v",
            "/tmp:/srv/data",
            "withvol",
            "true",
        ],
    );
    let kinds = e.inspect("b", "{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}");
    assert_eq!(kinds, "bind:/srv/data volume:/extra");
    let extra = e.inspect("b", "{{range .Mounts}}{{if .Name}}{{.Name}}{{end}}{{end}}");
    e.ok(&["rm", "-v", "b"]);
    assert!(!volume_names(&e).contains(&extra));
    assert!(volume_names(&e).contains(&name));
    // --rm removes its anonymous volumes.
    let before = volume_names(&e).len();
    run(&e, &["run", "--rm", "withvol", "true"]);
    assert_eq!(volume_names(&e).len(), before);
    // Prune: only unused anonymous volumes, unless -a.
    run(&e, &["volume", "create", "--label", "keep=1", "named"]);
    e.ok(&["rm", "a"]);
    let out = run(&e, &["volume", "prune", "-f"]);
    assert!(out.contains(&name), "{out}");
    assert_eq!(volume_names(&e), ["named"]);
    assert_eq!(
        run(&e, &["volume", "ls", "-q", "-f", "label=keep=1"]),
        "named\n"
    );
    assert_eq!(run(&e, &["volume", "ls", "-q", "-f", "label=keep=2"]), "");
    let out = run(&e, &["volume", "prune", "-af", "--filter", "label!=keep"]);
    assert!(!out.contains("named"), "{out}");
    let out = e.ok(&["volume", "prune", "-af"]);
    assert!(out.contains("Deleted Volumes:\nnamed\n"), "{out}");
    assert!(volume_names(&e).is_empty());
}

#[test]
fn volumes_from_mounts_another_containers_volumes_with_its_mode() {
    let e = Engine::start();
    run(
        &e,
        &[
            "run",
            "--name",
            "src",
            "-v",
            "shared:/data",
            "--mount",
            "type=tmpfs,dst=/scratch",
            "busybox",
            "sh",
            "-c",
            "echo hi > /data/x",
        ],
    );
    let out = run(
        &e,
        &[
            "run",
            "--rm",
            "--volumes-from",
            "src:ro",
            "busybox",
            "sh",
            "-c",
            "cat /data/x; touch /data/y 2>&1 || true; grep -c ' /scratch tmpfs' /proc/mounts",
        ],
    );
    assert!(out.starts_with("hi\n"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.ends_with("1\n"), "{out}");
    let out = e.docker(&["run", "--rm", "--volumes-from", "nosuch", "busybox", "true"]);
    assert!(
        stderr(&out).contains("HostConfig.VolumesFrom[0]"),
        "{out:?}"
    );
}

#[test]
fn mount_options_are_carried_out() {
    let e = Engine::start();
    // A tmpfs with a size and a mode.
    let out = run(
        &e,
        &[
            "run",
            "--rm",
            "--mount",
            "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770",
            "busybox",
            "sh",
            "-c",
            "stat -c %a /t; df -k /t | tail -1",
        ],
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1770"));
    assert!(
        lines.next().unwrap().split_whitespace().nth(1) == Some("2048"),
        "{out}"
    );
    // A read-only volume with labels made by --mount.
    let out = e.docker(&[
        "run",
        "--rm",
        "--mount",
        "src=m1,dst=/m,readonly,volume-label=team=x",
        "busybox",
        "touch",
        "/m/f",
    ]);
    assert!(stderr(&out).contains("Read-only file system"), "{out:?}");
    assert_eq!(
        run(&e, &["volume", "inspect", "-f", "{{.Labels.team}}", "m1"]),
        "x\n"
    );
    // A bind whose source is missing is refused; with -v it is made.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("made");
    let out = e.docker(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/x", missing.display()),
        "busybox",
        "true",
    ]);
    assert!(
        stderr(&out).contains("bind source path does not exist"),
        "{out:?}"
    );
    run(
        &e,
        &[
            "run",
            "--rm",
            "-v",
            &format!("{}:/x:z", missing.display()),
            "busybox",
            "touch",
            "/x/f",
        ],
    );
    assert!(missing.join("f").exists());
    // The local driver's own filesystem: mounted while a container uses
    // it, gone from the host after.
    run(
        &e,
        &[
            "volume",
            "create",
            "--opt",
            "type=tmpfs",
            "--opt",
            "device=tmpfs",
            "--opt",
            "o=size=3m",
            "fast",
        ],
    );
    let data = run(&e, &["volume", "inspect", "-f", "{{.Mountpoint}}", "fast"]);
    let data = data.trim().to_string();
    run(
        &e,
        &[
            "run", "-d", "--name", "u", "-v", "fast:/f", "busybox", "sleep", "60",
        ],
    );
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .contains(&format!(" {data} "))
    };
    assert!(mounted());
    let out = run(&e, &["exec", "u", "df", "-k", "/f"]);
    assert!(
        out.lines().last().unwrap().split_whitespace().nth(1) == Some("3072"),
        "{out}"
    );
    e.ok(&["rm", "-f", "u"]);
    e.eventually("the volume's tmpfs unmounted", || !mounted());
    // A bind of a host directory as a volume (`o=bind`), read-only.
    let shared_dir = tempfile::tempdir().unwrap();
    let device = format!("device={}", shared_dir.path().display());
    run(
        &e,
        &[
            "volume",
            "create",
            "--opt",
            "type=none",
            "--opt",
            &device,
            "--opt",
            "o=bind",
            "hostdir",
        ],
    );
    run(
        &e,
        &[
            "run",
            "--rm",
            "-v",
            "hostdir:/h",
            "busybox",
            "sh",
            "-c",
            "echo via-volume > /h/f",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(shared_dir.path().join("f")).unwrap(),
        "via-volume\n"
    );
    let bound = format!(" {} ", e.root().join("volumes/hostdir/_data").display());
    assert!(!std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(&bound));
    let out = e.docker(&["volume", "create", "--opt", "size=1m", "quota"]);
    assert!(
        stderr(&out).contains("quota size requested but no quota support"),
        "{out:?}"
    );
}

#[test]
fn bad_mounts_are_refused_by_name_and_leave_nothing() {
    let e = Engine::start();
    let docker = |a: &[&str]| e.docker(a);
    let vessel = |a: &[&str]| e.vessel(a);
    for (opts, named) in [
        (
            &["-v", "vol:ro"][..],
            "invalid volume specification: 'vol:ro'",
        ),
        (&["-v", "/a:/b:zz"], "HostConfig.Binds[0]: invalid mode: zz"),
        (&["-v", "/tmp:/"], "destination can't be '/'"),
        (&["--mount", "src=x,dst=/d"], "volume name is too short"),
        (&["-v", "/d/../"], "destination can't be '/'"),
        (&["-v", "v1:/d", "-v", "v2:/d"], "Duplicate mount point: /d"),
        (
            &["--mount", "type=tmpfs,src=x,dst=/t"],
            "field Source must not be specified",
        ),
        (
            &["--mount", "type=volume,dst=/v,volume-subpath=a"],
            "Subpath: not supported",
        ),
        (
            &["-v", "/d", "--volume-driver", "nfs"],
            "plugin \"nfs\" not found",
        ),
    ] {
        e.assert_run_refused(docker, opts, named);
        e.assert_run_refused(vessel, opts, named);
    }
    assert!(volume_names(&e).is_empty(), "{:?}", volume_names(&e));
}

/// Makes `dir` a tmpfs that is a shared mount of the host's, and unmounts
/// it when dropped.
struct SharedMount(tempfile::TempDir);

impl SharedMount {
    fn new() -> SharedMount {
        let dir = tempfile::tempdir().unwrap();
        let sh =
            |args: &[&str]| assert!(Command::new("mount").args(args).status().unwrap().success());
        sh(&["-t", "tmpfs", "tmpfs", dir.path().to_str().unwrap()]);
        sh(&["--make-shared", dir.path().to_str().unwrap()]);
        SharedMount(dir)
    }
}

impl Drop for SharedMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-R").arg(self.0.path()).status();
    }
}

#[test]
fn bind_propagation_works_where_the_host_allows_it() {
    let e = Engine::start();
    let private = tempfile::tempdir().unwrap();
    let out = e.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/d:rshared", private.path().display()),
        "busybox",
        "true",
    ]);
    let text = stderr(&out);
    let shared_host = !text.contains("is not a shared mount");
    if !shared_host {
        assert!(
            text.contains(&format!(
                "path {}",
                std::fs::canonicalize(private.path()).unwrap().display()
            )),
            "{text}"
        );
    }
    // A bind that holds the daemon's root is a slave; a private one is
    // refused, as Docker refuses it.
    let above = e.dir.path().display().to_string();
    run(
        &e,
        &[
            "create",
            "--name",
            "above",
            "-v",
            &format!("{above}:/c"),
            "busybox",
            "true",
        ],
    );
    assert_eq!(
        e.inspect("above", "{{range .Mounts}}{{.Propagation}}{{end}}"),
        "rslave"
    );
    let out = e.docker(&[
        "create",
        "-v",
        &format!("{above}:/c:rprivate"),
        "busybox",
        "true",
    ]);
    assert!(
        stderr(&out).contains("when mount source is within the daemon root"),
        "{out:?}"
    );
    let shared = SharedMount::new();
    let host = shared.0.path().display().to_string();
    // rshared: a mount made inside shows on the host.
    run(
        &e,
        &[
            "run",
            "--rm",
            "--privileged",
            "-v",
            &format!("{host}:/d:rshared"),
            "busybox",
            "sh",
            "-c",
            "mkdir /d/in && mount -t tmpfs inner /d/in && touch /d/in/from-container",
        ],
    );
    assert!(shared.0.path().join("in/from-container").exists());
    let _ = Command::new("umount")
        .arg(shared.0.path().join("in"))
        .status();
    // rslave: a mount made on the host later shows inside; rprivate not.
    for (mode, seen) in [("rslave", "yes"), ("rprivate", "no")] {
        let name = format!("prop-{mode}");
        run(
            &e,
            &[
                "run",
                "-d",
                "--name",
                &name,
                "-v",
                &format!("{host}:/d:{mode}"),
                "busybox",
                "sleep",
                "60",
            ],
        );
        std::fs::create_dir_all(shared.0.path().join("later")).unwrap();
        assert!(Command::new("mount")
            .args(["-t", "tmpfs", "later"])
            .arg(shared.0.path().join("later"))
            .status()
            .unwrap()
            .success());
        std::fs::write(shared.0.path().join("later/f"), "").unwrap();
        let out = run(
            &e,
            &[
                "exec",
                &name,
                "sh",
                "-c",
                "test -e /d/later/f && echo yes || echo no",
            ],
        );
        assert_eq!(out.trim(), seen, "{mode}");
        let _ = Command::new("umount")
            .arg(shared.0.path().join("later"))
            .status();
        e.ok(&["rm", "-f", &name]);
    }
}

#[test]
fn volume_events_and_references_survive_a_daemon_crash() {
    let mut e = Engine::start();
    run(&e, &["volume", "create", "kept"]);
    run(
        &e,
        &[
            "run", "-d", "--name", "holder", "-v", "kept:/k", "busybox", "sleep", "60",
        ],
    );
    let actions = |e: &Engine| -> Vec<String> {
        e.events("type=volume")
            .iter()
            .filter(|ev| ev["Actor"]["ID"] == "kept")
            .map(|ev| ev["Action"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(actions(&e), ["create", "mount"]);
    let mount = e
        .events("type=volume")
        .into_iter()
        .find(|ev| ev["Action"] == "mount")
        .unwrap();
    assert_eq!(mount["Actor"]["Attributes"]["destination"], "/k");
    assert_eq!(mount["Actor"]["Attributes"]["read/write"], "true");
    // The events before the crash are gone with it (as Docker's).
    e.kill_daemon();
    e.launch();
    let out = e.docker(&["volume", "rm", "kept"]);
    assert!(stderr(&out).contains("volume is in use"), "{out:?}");
    e.ok(&["rm", "-f", "holder"]);
    run(&e, &["volume", "rm", "kept"]);
    assert_eq!(actions(&e), ["unmount", "destroy"]);
    let df = run(
        &e,
        &["system", "df", "--format", "{{.Type}} {{.TotalCount}}"],
    );
    assert!(df.contains("Local Volumes 0"), "{df}");
}
