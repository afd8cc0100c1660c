//! Images from a real registry on loopback, through the docker CLI:
//! pulls of multi-layer images with whiteouts and opaque directories, of
//! indexes by platform, by tag and by digest, and the bad cases.

mod engine_support;
mod registry_support;

use engine_support::*;
use registry_support::*;

/// A two-layer image: busybox and files, then a layer that deletes one
/// file (whiteout) and hides a directory's old content (opaque).
fn layered(r: &Registry, dir: &std::path::Path, repo: &str, extra: &[&str]) {
    let l = Layout::new(dir, "v1");
    l.add_layer(&busybox_layer());
    l.add_layer(&layer(&[
        ("etc/", ""),
        ("etc/gone", "old"),
        ("etc/kept", "kept"),
        ("data/", ""),
        ("data/old", "old"),
    ]));
    l.add_layer(&layer(&[
        ("etc/", ""),
        ("etc/.wh.gone", ""),
        ("data/", ""),
        ("data/.wh..wh..opq", ""),
        ("data/new", "new"),
    ]));
    l.config(&[
        "--config.cmd=sh",
        "--config.env=GREETING=hello",
        "--config.workingdir=/data",
        "--config.label=org.example=yes",
    ]);
    r.push(&l.path, "v1", repo, extra);
}

#[test]
fn a_pulled_image_is_the_registrys_config_and_runs_with_its_whiteouts() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    layered(&r, work.path(), "app", &[]);
    let name = format!("{}/app:v1", r.addr);

    let out = e.docker(&["pull", &name]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let manifest = r.manifest("app", "v1");
    let digest = r.manifest_digest("app", "v1");
    assert!(text.contains(&format!("Digest: {digest}")), "{text}");
    assert!(
        text.contains(&format!("Status: Downloaded newer image for {name}")),
        "{text}"
    );
    assert_eq!(text.matches("Pull complete").count(), 3, "{text}");

    // The image is the registry's config, byte for byte.
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config: serde_json::Value =
        serde_json::from_slice(&r.get(&format!("/v2/app/blobs/{config_digest}")).unwrap()).unwrap();
    assert_eq!(e.inspect(&name, "{{.Id}}"), config_digest);
    assert_eq!(
        e.inspect(&name, "{{json .RootFS.Layers}}"),
        config["rootfs"]["diff_ids"].to_string()
    );
    assert_eq!(
        e.inspect(&name, "{{json .RepoDigests}}"),
        format!("[\"{}/app@{digest}\"]", r.addr)
    );
    assert_eq!(
        e.inspect(&name, "{{json .RepoTags}}"),
        format!("[\"{name}\"]")
    );
    let listed = e.ok(&["images", "--digests"]);
    assert!(
        listed.lines().next().unwrap().contains("DIGEST"),
        "{listed}"
    );
    assert!(listed.contains(&digest), "{listed}");
    assert_eq!(e.inspect(&name, "{{.Config.WorkingDir}}"), "/data");
    assert_eq!(
        e.inspect(&name, "{{index .Config.Labels \"org.example\"}}"),
        "yes"
    );

    // The container sees the top layer's view: the whiteout and the
    // opaque directory hold.
    let script = "cat /etc/kept; echo; test -e /etc/gone || echo gone; ls; echo $GREETING";
    let out = e.ok(&["run", "--rm", &name, "sh", "-c", script]);
    assert_eq!(out, "kept\ngone\nnew\nhello\n");

    // Pulled again: nothing is fetched, and it says so.
    let again = stdout(&e.docker(&["pull", &name]));
    assert!(
        again.contains(&format!("Status: Image is up to date for {name}")),
        "{again}"
    );
    assert!(!again.contains("Pull complete"), "{again}");
    // By digest, the same image.
    let by_digest = format!("{}/app@{digest}", r.addr);
    e.ok(&["pull", &by_digest]);
    assert_eq!(e.inspect(&by_digest, "{{.Id}}"), config_digest);
    let events = e.events("type=image");
    assert!(
        events
            .iter()
            .any(|v| v["Action"] == "pull" && v["id"] == name.as_str()),
        "{events:?}"
    );
}

#[test]
fn run_pulls_an_image_that_is_not_here_yet() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    layered(&r, work.path(), "auto", &["--format", "v2s2"]);
    // The docker CLI's run, and vessel's.
    let out = e.docker(&[
        "run",
        "--rm",
        &format!("{}/auto:v1", r.addr),
        "cat",
        "/etc/kept",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "kept");
    assert!(stderr(&out).contains("Unable to find image"), "{out:?}");
    e.ok(&["rmi", &format!("{}/auto:v1", r.addr)]);
    let out = e.vessel(&[
        "run",
        "--rm",
        &format!("{}/auto:v1", r.addr),
        "cat",
        "/etc/kept",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "kept");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "Unable to find image '{}/auto:v1' locally",
            r.addr
        )),
        "{err}"
    );
    assert!(err.contains("Pull complete"), "{err}");
    // --pull never does not.
    e.ok(&["rmi", &format!("{}/auto:v1", r.addr)]);
    let out = e.vessel(&[
        "run",
        "--rm",
        "--pull",
        "never",
        &format!("{}/auto:v1", r.addr),
        "true",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("No such image"), "{out:?}");
}

#[test]
fn a_pull_of_what_the_registry_lacks_is_refused_by_name() {
    let r = Registry::start();
    let e = Engine::start();
    let name = format!("{}/nothing:here", r.addr);
    let out = e.docker(&["pull", &name]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("manifest for {name} not found: manifest unknown")),
        "{out:?}"
    );
}

#[test]
fn an_index_gives_each_platform_its_own_image() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let host_arch = e.inspect("busybox", "{{.Architecture}}");
    let other = if host_arch == "arm64" {
        "amd64"
    } else {
        "arm64"
    };
    let mut entries = Vec::new();
    for arch in [host_arch.as_str(), other] {
        let l = Layout::new(work.path(), arch);
        l.add_layer(&busybox_layer());
        l.add_layer(&layer(&[("arch", arch)]));
        l.config(&[
            "--architecture",
            arch,
            "--config.cmd=cat",
            "--config.cmd=/arch",
        ]);
        r.push(&l.path, arch, "multi", &[]);
        let digest = r.manifest_digest("multi", arch);
        let size = r.get(&format!("/v2/multi/manifests/{arch}")).unwrap().len();
        entries.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest, "size": size,
            "platform": {"os": "linux", "architecture": arch},
        }));
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    });
    let media = "application/vnd.oci.image.index.v1+json";
    r.put_manifest("multi", "latest", media, index.to_string().as_bytes());
    let name = format!("{}/multi", r.addr);

    e.ok(&["pull", &name]);
    assert_eq!(e.ok(&["run", "--rm", &name]), host_arch);
    let index_digest = r.manifest_digest("multi", "latest");
    assert_eq!(
        e.inspect(&name, "{{json .RepoDigests}}"),
        format!("[\"{name}@{index_digest}\"]")
    );

    let out = e.docker(&["pull", "--platform", &format!("linux/{other}"), &name]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(e.inspect(&name, "{{.Architecture}}"), other);

    let out = e.docker(&["pull", "--platform", "linux/s390x", &name]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no matching manifest for linux/s390x in the manifest list entries"),
        "{out:?}"
    );

    // A lone manifest of another platform: taken as it is unless a
    // platform is named, as Docker takes it.
    let lone = format!("{}/multi:{other}", r.addr);
    e.ok(&["pull", &lone]);
    assert_eq!(e.inspect(&lone, "{{.Architecture}}"), other);
    let out = e.docker(&["pull", "--platform", &format!("linux/{host_arch}"), &lone]);
    assert!(
        stderr(&out).contains("was found but does not match the specified platform"),
        "{out:?}"
    );
}

#[test]
fn zstd_layers_pull_as_gzip_ones_do() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    layered(&r, work.path(), "zst", &["--dest-compress-format", "zstd"]);
    let manifest = r.manifest("zst", "v1");
    let types: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert!(types.iter().all(|t| t.ends_with("+zstd")), "{types:?}");
    let name = format!("{}/zst:v1", r.addr);
    e.ok(&["pull", &name]);
    assert_eq!(e.ok(&["run", "--rm", &name, "cat", "/etc/kept"]), "kept");
}

/// Nothing of a failed pull is left but whole layers: no scratch files,
/// no image, no tag.
fn assert_no_partial_image(e: &Engine, name: &str) {
    let scratch: Vec<_> = std::fs::read_dir(e.root().join("tmp"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(scratch.is_empty(), "scratch left: {scratch:?}");
    assert!(!e.docker(&["image", "inspect", name]).status.success());
}

#[test]
fn a_blob_that_is_not_its_digest_is_refused_and_a_later_pull_works() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    layered(&r, work.path(), "bad", &[]);
    let manifest = r.manifest("bad", "v1");
    let top = manifest["layers"][2]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let file = r.blob_file(&top);
    let good = std::fs::read(&file).unwrap();
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    std::fs::write(&file, &bad).unwrap();

    let name = format!("{}/bad:v1", r.addr);
    let out = e.docker(&["pull", &name]);
    assert!(!out.status.success());
    let err = stderr(&out) + &stdout(&out);
    assert!(err.contains(&top) && err.contains("digest"), "{err}");
    assert_no_partial_image(&e, &name);

    std::fs::write(&file, &good).unwrap();
    e.ok(&["pull", &name]);
    assert_eq!(e.ok(&["run", "--rm", &name, "ls", "/data"]), "new\n");
}

#[test]
fn a_registry_that_drops_the_connection_mid_layer_fails_the_pull_cleanly() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let l = Layout::new(work.path(), "big");
    l.add_layer(&busybox_layer());
    l.add_layer(&layer(&[("noise", &"x".repeat(10))]));
    l.add_layer(&random_layer(4 << 20));
    r.push(&l.path, "big", "big", &[]);

    let proxy = Proxy::start(&r.addr, 1 << 20);
    let name = format!("{}/big:big", proxy.addr);
    let out = e.docker(&["pull", &name]);
    assert!(!out.status.success(), "{out:?}");
    let err = stderr(&out) + &stdout(&out);
    assert!(err.contains("layer sha256:"), "{err}");
    assert_no_partial_image(&e, &name);

    proxy.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    e.ok(&["pull", &name]);
    let out = e.ok(&["run", "--rm", &name, "sh", "-c", "wc -c < /random"]);
    assert_eq!(out.trim(), (4 << 20).to_string());
}

#[test]
fn a_pushed_image_pulls_back_by_digest_as_itself() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    layered(&r, work.path(), "src", &[]);
    let src = format!("{}/src:v1", r.addr);
    e.ok(&["pull", &src]);
    let id = e.inspect(&src, "{{.Id}}");
    let layers = e.inspect(&src, "{{json .RootFS.Layers}}");

    // Into another repository of the same registry: mounted, not sent.
    let dst = format!("{}/dst:v2", r.addr);
    e.ok(&["tag", &src, &dst]);
    let out = e.docker(&["push", &dst]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("The push refers to repository [{}/dst]", r.addr)),
        "{text}"
    );
    assert_eq!(text.matches("Mounted from src").count(), 3, "{text}");
    let digest = r.manifest_digest("dst", "v2");
    assert!(
        text.contains(&format!("v2: digest: {digest} size: ")),
        "{text}"
    );

    // Made anew from the store: a tag of a loaded image, into a new
    // registry, uploaded (chunked), then pulled back by digest.
    let r2 = Registry::start();
    let fresh = format!("{}/fresh:v3", r2.addr);
    e.ok(&["tag", &src, &fresh]);
    let out = e.vessel(&["push", &fresh]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out).matches("Pushed").count(), 3, "{out:?}");
    let again = e.ok(&["push", &fresh]);
    assert_eq!(again.matches("Layer already exists").count(), 3, "{again}");
    let digest = r2.manifest_digest("fresh", "v3");
    let manifest = r2.manifest("fresh", "v3");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(manifest["config"]["digest"], id.as_str());
    e.ok(&["rmi", &fresh, &src, &dst]);
    assert!(!e.docker(&["image", "inspect", &id]).status.success());
    let by_digest = format!("{}/fresh@{digest}", r2.addr);
    e.ok(&["pull", &by_digest]);
    assert_eq!(e.inspect(&by_digest, "{{.Id}}"), id);
    assert_eq!(e.inspect(&by_digest, "{{json .RootFS.Layers}}"), layers);
    assert_eq!(e.ok(&["run", "--rm", &by_digest, "ls", "/data"]), "new\n");

    let out = e.docker(&["push", &format!("{}/nothing:here", r.addr)]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("An image does not exist locally with the tag"),
        "{out:?}"
    );
}

#[test]
fn a_registry_that_wants_a_login_gets_the_clients_credentials() {
    let r = Registry::with_login("ann", "s3cret");
    let e = Engine::start();
    let config = tempfile::tempdir().unwrap();
    let docker = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = std::process::Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", e.host())
            .env("DOCKER_CONFIG", config.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    };
    let name = format!("{}/private:1", r.addr);
    e.ok(&["tag", "busybox", &name]);
    let out = docker(&["push", &name], None);
    assert!(!out.status.success(), "a push without a login: {out:?}");
    let said = stderr(&out) + &stdout(&out);
    assert!(
        said.contains("unauthorized: authentication required"),
        "{said}"
    );

    let out = docker(
        &["login", "-u", "ann", "--password-stdin", &r.addr],
        Some("wrong\n"),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unauthorized: incorrect username or password"),
        "{out:?}"
    );
    let out = docker(
        &["login", "-u", "ann", "--password-stdin", &r.addr],
        Some("s3cret\n"),
    );
    assert!(stdout(&out).contains("Login Succeeded"), "{out:?}");

    let out = docker(&["push", &name], None);
    assert!(out.status.success(), "{out:?}");
    e.ok(&["rmi", &name]);
    let out = docker(&["pull", &name], None);
    assert!(out.status.success(), "{out:?}");

    // vessel's login keeps them where docker's does, and its pull uses them.
    let out = docker(&["logout", &r.addr], None);
    assert!(out.status.success(), "{out:?}");
    e.ok(&["rmi", &name]);
    let vessel = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vessel"))
            .args(args)
            .env("VESSEL_HOST", e.host())
            .env("DOCKER_CONFIG", config.path())
            .output()
            .unwrap()
    };
    let out = vessel(&["pull", &name]);
    assert!(
        stderr(&out).contains("pull access denied")
            && stderr(&out).contains("authentication required"),
        "{out:?}"
    );
    let out = vessel(&["login", "-u", "ann", "-p", "s3cret", &r.addr]);
    assert!(stdout(&out).contains("Login Succeeded"), "{out:?}");
    let out = vessel(&["pull", &name]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn vessel_pull_draws_dockers_bars_on_a_terminal_and_lines_elsewhere() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    layered(&r, work.path(), "bars", &[]);
    let name = format!("{}/bars:v1", r.addr);
    // A terminal, by script(1): each layer's line redrawn in place.
    let command = format!(
        "{} --host {} pull {name}",
        env!("CARGO_BIN_EXE_vessel"),
        e.host()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\x1b[2K"), "no line redrawn: {text:?}");
    assert!(text.contains("Pull complete\x1b["), "{text:?}");
    assert!(
        text.contains(&format!("Status: Downloaded newer image for {name}")),
        "{text:?}"
    );
    // Not a terminal: one line per status, no bars, no escapes.
    e.ok(&["rmi", &name]);
    let out = e.ok(&["pull", &name]);
    assert!(
        !out.contains('\x1b') && !out.contains("Downloading"),
        "{out}"
    );
    assert_eq!(out.matches("Pull complete").count(), 3, "{out}");
}

#[test]
fn a_loopback_registry_that_answers_tls_is_spoken_to_over_https() {
    let r = Registry::with_tls();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    layered(&r, work.path(), "secure", &[]);
    let name = format!("{}/secure:v1", r.addr);
    // Its certificate is its own: loopback registries are insecure, as
    // Docker's 127.0.0.0/8 is, so HTTPS is tried first and not checked.
    let out = e.docker(&["pull", &name]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(e.ok(&["run", "--rm", &name, "ls", "/data"]), "new\n");
    let pushed = format!("{}/again:v1", r.addr);
    e.ok(&["tag", &name, &pushed]);
    e.ok(&["push", &pushed]);
    assert!(r.get("/v2/again/tags/list").is_some());
}

#[test]
fn pulls_at_once_of_images_that_share_layers_keep_every_tag() {
    let r = Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..4).map(|i| format!("{}/same{i}:t{i}", r.addr)).collect();
    for i in 0..4 {
        let l = Layout::new(work.path(), &format!("t{i}"));
        l.add_layer(&busybox_layer());
        l.add_layer(&layer(&[("own", &i.to_string())]));
        r.push(&l.path, &format!("t{i}"), &format!("same{i}"), &[]);
    }
    std::thread::scope(|s| {
        for name in &names {
            let e = &e;
            s.spawn(move || {
                let out = e.docker(&["pull", name]);
                assert!(out.status.success(), "{out:?}");
            });
        }
    });
    for (i, name) in names.iter().enumerate() {
        assert_eq!(e.ok(&["run", "--rm", name, "cat", "/own"]), i.to_string());
    }
    let listed = e.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(
        listed.lines().filter(|l| l.contains("/same")).count(),
        4,
        "{listed}"
    );
}

#[test]
fn a_daemon_killed_mid_pull_leaves_no_half_image_and_pulls_again() {
    let r = Registry::start();
    let mut e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let l = Layout::new(work.path(), "slow");
    l.add_layer(&busybox_layer());
    l.add_layer(&random_layer(3 << 20));
    r.push(&l.path, "slow", "slow", &[]);
    // 16 KiB every 2 ms: the big layer takes about 400 ms to come.
    let proxy = Proxy::start_paced(&r.addr, usize::MAX, std::time::Duration::from_millis(2));
    proxy.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    let name = format!("{}/slow:slow", proxy.addr);
    let host = e.host();
    let pulling = std::thread::spawn(move || {
        std::process::Command::new("docker")
            .args(["pull", &name])
            .env("DOCKER_HOST", host)
            .output()
            .unwrap()
    });
    let tmp = e.root().join("tmp");
    e.eventually("a layer being stored", || {
        std::fs::read_dir(&tmp).is_ok_and(|d| {
            d.flatten()
                .any(|f| f.file_name().to_string_lossy().starts_with("layer-"))
        })
    });
    e.kill_daemon();
    assert!(!pulling.join().unwrap().status.success());
    e.launch();
    let scratch: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|f| f.file_name())
        .collect();
    assert!(scratch.is_empty(), "left: {scratch:?}");
    let name = format!("{}/slow:slow", proxy.addr);
    assert!(!e.docker(&["image", "inspect", &name]).status.success());
    e.ok(&["pull", &name]);
    let out = e.ok(&["run", "--rm", &name, "sh", "-c", "wc -c < /random"]);
    assert_eq!(out.trim(), (3 << 20).to_string());
}
