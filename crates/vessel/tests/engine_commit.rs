//! `commit` and `export` through the docker CLI and vessel's: a running
//! container paused while its changes are read, a stopped one, the
//! changes as a layer (whiteouts included, the runtime's mount points
//! left out), and the whole filesystem as a tar that imports again.

mod engine_support;

use std::process::Command;

use engine_support::*;

/// The entries of the tar at `path`.
fn entries(bytes: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(bytes);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

/// A running container that made a file and a directory and deleted one
/// of the image's.
fn changed(e: &Engine, name: &str) {
    e.ok(&[
        "run",
        "-d",
        "--name",
        name,
        "-e",
        "X=1",
        "busybox",
        "sh",
        "-c",
        "echo hi > /made; mkdir /d; echo x > /d/f; rm /bin/vi; touch /ready; sleep 60",
    ]);
    e.eventually("the container's changes", || {
        e.docker(&["exec", name, "test", "-e", "/ready"])
            .status
            .success()
    });
}

#[test]
fn a_running_container_is_committed_paused_with_its_changes_as_one_layer() {
    let e = Engine::start();
    changed(&e, "c1");
    let id = e.inspect("c1", "{{.Id}}");
    let out = e.docker(&[
        "commit",
        "-c",
        "ENV Y=2",
        "-c",
        r#"CMD ["cat", "/made"]"#,
        "-c",
        "EXPOSE 8080",
        "-m",
        "a message",
        "-a",
        "me <me@example.com>",
        "c1",
        "made:1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let image = stdout(&out).trim().to_string();
    assert_eq!(e.inspect("made:1", "{{.Id}}"), image);
    assert_eq!(e.inspect("c1", "{{.State.Status}}"), "running");
    let actions: Vec<String> = e.actions("c1");
    let from = actions.iter().position(|a| a == "pause").expect("paused");
    assert_eq!(
        actions[from..from + 3],
        ["pause", "commit", "unpause"],
        "{actions:?}"
    );

    // The image: the container's config with the changes over it.
    assert_eq!(e.ok(&["run", "--rm", "made:1"]), "hi\n");
    assert_eq!(
        e.ok(&["run", "--rm", "made:1", "sh", "-c", "echo $X $Y"]),
        "1 2\n"
    );
    assert!(!e
        .docker(&["run", "--rm", "made:1", "test", "-e", "/bin/vi"])
        .status
        .success());
    assert_eq!(
        e.inspect("made:1", "{{.Comment}} / {{.Author}}"),
        "a message / me <me@example.com>"
    );
    assert_eq!(e.inspect("made:1", "{{.Container}}"), id);
    assert_eq!(
        e.inspect("made:1", "{{json .Config.ExposedPorts}}"),
        r#"{"8080/tcp":{}}"#
    );
    let base_layers = e.inspect("busybox", "{{len .RootFS.Layers}}");
    let layers = e.inspect("made:1", "{{len .RootFS.Layers}}");
    assert_eq!(
        layers.parse::<usize>().unwrap(),
        base_layers.parse::<usize>().unwrap() + 1
    );
    let history = e.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}|{{.Comment}}",
        "made:1",
    ]);
    assert!(
        history
            .lines()
            .next()
            .unwrap()
            .ends_with("sleep 60|a message"),
        "{history}"
    );

    // The new layer holds the changes and nothing of the runtime's.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("made.tar");
    e.ok(&["save", "-o", saved.to_str().unwrap(), "made:1"]);
    let mut archive = tar::Archive::new(std::fs::File::open(&saved).unwrap());
    archive.unpack(dir.path().join("x")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("x/manifest.json")).unwrap())
            .unwrap();
    let top = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap();
    let listed = entries(&std::fs::read(dir.path().join("x").join(top)).unwrap());
    for want in ["made", "d", "d/f", "bin/.wh.vi", "ready"] {
        assert!(listed.iter().any(|l| l == want), "{want} not in {listed:?}");
    }
    for unwanted in [
        "etc/hostname",
        "etc/hosts",
        "etc/resolv.conf",
        "proc",
        "sys",
    ] {
        assert!(
            !listed.iter().any(|l| l == unwanted),
            "{unwanted} in {listed:?}"
        );
    }
}

#[test]
fn a_stopped_container_commits_and_exports_and_the_export_imports_again() {
    let e = Engine::start();
    changed(&e, "c2");
    e.ok(&["stop", "-t", "0", "c2"]);
    let out = e.vessel(&["commit", "--pause=false", "c2", "stopped:1"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(e.ok(&["run", "--rm", "stopped:1", "cat", "/d/f"]), "x\n");
    assert!(!e.actions("c2").iter().any(|a| a == "pause"));

    // The export: the image's files and the container's changes merged.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c2.tar");
    e.ok(&["export", "-o", file.to_str().unwrap(), "c2"]);
    let listed = entries(&std::fs::read(&file).unwrap());
    for want in ["made", "d/f", "bin/busybox", "bin/sh", "etc/passwd"] {
        assert!(listed.iter().any(|l| l == want), "{want} not in export");
    }
    assert!(
        !listed
            .iter()
            .any(|l| l.starts_with("bin/vi") || l.contains(".wh.")),
        "{listed:?}"
    );
    let again = Command::new("docker")
        .args(["import", file.to_str().unwrap(), "exported:1"])
        .env("DOCKER_HOST", e.host())
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    assert_eq!(e.ok(&["run", "--rm", "exported:1", "cat", "/made"]), "hi\n");
    assert!(!e
        .docker(&["run", "--rm", "exported:1", "test", "-e", "/bin/vi"])
        .status
        .success());
}

#[test]
fn a_commit_that_cannot_be_made_makes_nothing() {
    let e = Engine::start();
    e.ok(&["create", "--name", "c3", "busybox", "true"]);
    let before = e.ok(&["images", "-q"]);
    let out = e.docker(&["commit", "nothere", "x:1"]);
    assert!(
        stderr(&out).contains("No such container: nothere"),
        "{out:?}"
    );
    let out = e.docker(&["commit", "-c", "RUN true", "c3", "x:1"]);
    assert!(
        stderr(&out).contains("run is not a valid change command"),
        "{out:?}"
    );
    let out = e.docker(&["commit", "-c", "EXPOSE 99999", "c3", "x:1"]);
    assert!(
        stderr(&out).contains("invalid containerPort: 99999"),
        "{out:?}"
    );
    assert_eq!(e.ok(&["images", "-q"]), before);
    // A container never started has no changes: its image, one empty
    // layer more.
    e.ok(&["commit", "c3", "fresh:1"]);
    assert_eq!(e.ok(&["run", "--rm", "fresh:1", "echo", "ok"]), "ok\n");
    // A VOLUME committed makes the next container an anonymous volume.
    e.ok(&["commit", "-c", "VOLUME /data", "c3", "vol:1"]);
    let out = e.docker(&["create", "--name", "c4", "vol:1", "true"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!stderr(&out).contains("WARNING"), "{out:?}");
    assert_eq!(
        e.inspect("c4", "{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}"),
        "volume /data"
    );
}

#[test]
fn prune_removes_what_no_container_uses_and_df_counts_it() {
    let e = Engine::start();
    // Three images, each with a layer of its own.
    let made = |name: &str, bytes: usize, tag: Option<&str>| {
        let script = format!("head -c {bytes} /dev/zero > /blob");
        e.ok(&["run", "--name", name, "busybox", "sh", "-c", &script]);
        let mut args = vec!["commit", name];
        args.extend(tag);
        e.ok(&args).trim().to_string()
    };
    let dangling = made("m1", 300_000, None);
    made("m2", 400_000, Some("kept:1"));
    e.ok(&["create", "--name", "user", "kept:1", "true"]);
    let unused = made("m3", 500_000, Some("unused:1"));

    let df = e.ok(&["system", "df", "--format", "json"]);
    let df: serde_json::Value = serde_json::from_str(df.lines().next().unwrap()).unwrap();
    assert_eq!(df["Type"], "Images");
    assert_eq!(df["TotalCount"], "4", "{df}");
    assert_eq!(df["Active"], "2", "{df}");

    // The listing's filters see the same.
    let short = |id: &str| id["sha256:".len().."sha256:".len() + 12].to_string();
    let dangling_rows = e.docker(&["images", "-q", "-f", "dangling=true"]);
    assert_eq!(stdout(&dangling_rows), format!("{}\n", short(&dangling)));
    assert_eq!(
        e.ok(&[
            "images",
            "--format",
            "{{.Repository}}",
            "-f",
            "reference=kep*"
        ]),
        "kept\n"
    );
    assert_eq!(
        e.ok(&["images", "-q", "-f", "reference=unused:1"]),
        format!("{}\n", short(&unused))
    );
    let since = e.ok(&[
        "images",
        "--format",
        "{{.Repository}}",
        "-f",
        "since=kept:1",
    ]);
    assert_eq!(since, "unused\n");
    let out = e.docker(&["images", "-f", "before=nothere"]);
    assert!(stderr(&out).contains("No such image: nothere"), "{out:?}");

    // Untagged and unused only.
    let out = e.docker(&["image", "prune", "-f"]);
    let text = stdout(&out);
    assert!(text.contains(&format!("deleted: {dangling}")), "{text}");
    assert!(!text.contains(&unused), "{text}");
    assert!(text.contains("Total reclaimed space: 300kB"), "{text}");
    assert!(!e.docker(&["image", "inspect", &dangling]).status.success());
    // Then every unused one; images with containers stay.
    let text = e.ok(&["image", "prune", "-a", "-f"]);
    assert!(
        text.contains("untagged: unused:1") && text.contains(&unused),
        "{text}"
    );
    assert!(text.contains("Total reclaimed space: 500kB"), "{text}");
    for kept in ["kept:1", "busybox"] {
        assert!(
            e.docker(&["image", "inspect", kept]).status.success(),
            "{kept}"
        );
    }
    let out = e.docker(&["image", "prune", "-f", "--filter", "dangling=maybe"]);
    assert!(
        stderr(&out).contains("invalid filter 'dangling=maybe'"),
        "{out:?}"
    );
}
