//! `save` and `load` through the docker CLI and vessel's: round trips,
//! Docker's tarball as other tools write it, OCI layouts, and archives
//! made to climb out of their directory.

mod engine_support;
mod registry_support;

use std::process::Command;

use engine_support::*;
use registry_support::*;

/// A two-layer OCI layout image with a whiteout, tagged `v1`.
fn layout(dir: &std::path::Path) -> Layout {
    let l = Layout::new(dir, "v1");
    l.add_layer(&busybox_layer());
    l.add_layer(&layer(&[
        ("etc/", ""),
        ("etc/kept", "kept"),
        ("bin/.wh.cat", ""),
    ]));
    l.config(&["--config.cmd=sh"]);
    l
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(out.status.success(), "skopeo {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_saved_image_loads_back_as_itself_and_other_tools_read_the_archive() {
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let l = layout(work.path());
    // In through Docker's tarball as skopeo writes it (per-layer folders).
    let docker_tar = work.path().join("docker.tar");
    skopeo(&[
        "copy",
        &format!("oci:{}", l.image()),
        &format!("docker-archive:{}:app:v1", docker_tar.display()),
    ]);
    let out = e.docker(&["load", "-i", docker_tar.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "Loaded image: app:v1\n");
    let id = e.inspect("app:v1", "{{.Id}}");
    let layers = e.inspect("app:v1", "{{json .RootFS.Layers}}");
    let run = "cat /etc/kept; test -e /bin/cat || echo no cat";
    assert_eq!(
        e.ok(&["run", "--rm", "app:v1", "sh", "-c", run]),
        "keptno cat\n"
    );

    // Out, and back in: the same image, under the same name.
    let saved = work.path().join("saved.tar");
    e.ok(&["save", "-o", saved.to_str().unwrap(), "app:v1"]);
    e.ok(&["rmi", "app:v1"]);
    let out = e.vessel(&["load", "-i", saved.to_str().unwrap()]);
    assert_eq!(stdout(&out), "Loaded image: app:v1\n", "{out:?}");
    assert_eq!(e.inspect("app:v1", "{{.Id}}"), id);
    assert_eq!(e.inspect("app:v1", "{{json .RootFS.Layers}}"), layers);

    // The archive is Docker's tarball and an OCI layout at once.
    let info: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        &format!("docker-archive:{}", saved.display()),
    ]))
    .unwrap();
    assert_eq!(info["Layers"].to_string(), layers);
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let st = Command::new("tar")
        .arg("-C")
        .arg(&unpacked)
        .arg("-xf")
        .arg(&saved)
        .status()
        .unwrap();
    assert!(st.success());
    let oci: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        &format!("oci:{}", unpacked.display()),
    ]))
    .unwrap();
    assert_eq!(oci["Layers"].to_string(), layers);
    // Each layer file is the exact tar its diff id names.
    for l in serde_json::from_str::<Vec<String>>(&layers).unwrap() {
        let file = unpacked.join("blobs/sha256").join(&l[7..]);
        assert_eq!(sha256(&std::fs::read(file).unwrap()), l);
    }
    // Saved by id: no name goes with it.
    e.ok(&["save", "-o", saved.to_str().unwrap(), &id]);
    e.ok(&["rmi", "app:v1"]);
    let out = e.ok(&["load", "-i", saved.to_str().unwrap()]);
    assert_eq!(out, format!("Loaded image ID: {id}\n"));
}

#[test]
fn an_oci_layout_loads_and_a_missing_archive_is_named() {
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let l = layout(work.path());
    let tar = work.path().join("layout.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&l.path)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let out = e.ok(&["load", "-i", tar.to_str().unwrap()]);
    let id = out
        .trim()
        .strip_prefix("Loaded image ID: ")
        .expect(&out)
        .to_string();
    assert_eq!(
        e.ok(&["run", "--rm", &id, "ls", "/etc/kept"]),
        "/etc/kept\n"
    );
    let out = e.vessel(&["load", "-i", "/nonexistent.tar"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/nonexistent.tar"), "{out:?}");
}

/// An archive of raw entries: `(name, type, link target, data)`.
fn archive(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        let mut h = tar::Header::new_gnu();
        let raw = &mut h.as_gnu_mut().unwrap().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(data.len() as u64);
        if !link.is_empty() {
            let raw = &mut h.as_gnu_mut().unwrap().linkname;
            raw[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn archives_that_climb_out_or_lie_are_refused_and_leave_nothing() {
    use tar::EntryType::{Regular, Symlink};
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let target = format!("../../../../../../../..{}/escaped", outside.display());
    let abs = format!("{}/escaped", outside.display());
    let images_before = e.ok(&["images", "-q"]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (archive(&[(&target, Regular, "", b"x")]), "its path leaves"),
        (archive(&[(&abs, Regular, "", b"x")]), "its path leaves"),
        (
            archive(&[
                ("out", Symlink, outside.to_str().unwrap(), b""),
                ("out/escaped", Regular, "", b"x"),
            ]),
            "symbolic link",
        ),
        // manifest.json pointing at the host's files: read inside only.
        (
            archive(&[("manifest.json", Symlink, "/etc/passwd", b"")]),
            "manifest.json",
        ),
        (
            archive(&[(
                "manifest.json",
                Regular,
                "",
                br#"[{"Config":"/etc/hostname","Layers":[]}]"#,
            )]),
            "\"/etc/hostname\": no such file",
        ),
        (
            archive(&[("hello", Regular, "", b"x")]),
            "neither manifest.json",
        ),
    ];
    for (bytes, why) in cases {
        let file = work.path().join("bad.tar");
        std::fs::write(&file, bytes).unwrap();
        let out = e.docker(&["load", "-i", file.to_str().unwrap()]);
        assert!(!out.status.success(), "{why}: {out:?}");
        assert!(stderr(&out).contains(why), "{why}: {out:?}");
        assert!(!outside.join("escaped").exists(), "{why}: wrote outside");
        let scratch: Vec<_> = std::fs::read_dir(e.root().join("tmp"))
            .unwrap()
            .flatten()
            .collect();
        assert!(scratch.is_empty(), "{why}: scratch left");
        assert_eq!(e.ok(&["images", "-q"]), images_before, "{why}");
    }

    // A layer that is not the one its config names.
    let l = layout(work.path());
    let good = work.path().join("good.tar");
    skopeo(&[
        "copy",
        &format!("oci:{}", l.image()),
        &format!("docker-archive:{}:liar:v1", good.display()),
    ]);
    let dir = work.path().join("liar");
    std::fs::create_dir(&dir).unwrap();
    Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-xf")
        .arg(&good)
        .status()
        .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let top = manifest[0]["Layers"][1].as_str().unwrap();
    std::fs::write(dir.join(top), archive(&[("etc/kept", Regular, "", b"lie")])).unwrap();
    let bad = work.path().join("liar.tar");
    Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-cf")
        .arg(&bad)
        .arg(".")
        .status()
        .unwrap();
    let out = e.docker(&["load", "-i", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("its content's digest is"), "{out:?}");
    assert!(!e.docker(&["image", "inspect", "liar:v1"]).status.success());
}
