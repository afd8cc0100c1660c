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
