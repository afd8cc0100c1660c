//! `cp` both ways through the stock docker CLI and the `vessel` CLI
//! against a real vesseld (the archive API): files, directories and
//! symlinks, running and stopped containers, volumes, owners, Docker's
//! path rules and errors.

mod engine_support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use engine_support::*;

/// A host tree: `top/sub/f` ("data", owned 1234:1234, mode 640) and
/// `top/link -> sub/f`.
fn tree(dir: &Path) -> std::path::PathBuf {
    let top = dir.join("top");
    std::fs::create_dir_all(top.join("sub")).unwrap();
    std::fs::write(top.join("sub/f"), "data").unwrap();
    std::os::unix::fs::symlink("sub/f", top.join("link")).unwrap();
    nix::unistd::chown(&top.join("sub/f"), Some(1234.into()), Some(1234.into())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(top.join("sub/f"), std::fs::Permissions::from_mode(0o640)).unwrap();
    top
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    stdout(&out)
}

#[test]
fn files_directories_and_links_go_both_ways_as_with_docker() {
    let e = Engine::start();
    let host = tempfile::tempdir().unwrap();
    let top = tree(host.path());
    e.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "60"]);
    let top_arg = top.display().to_string();
    // In: the directory under its name in a directory that is there,
    // owned by root unless -a; the link kept as a link.
    ok(e.docker(&["cp", &top_arg, "box:/tmp"]));
    let listed = ok(e.docker(&[
        "exec",
        "box",
        "sh",
        "-c",
        "cat /tmp/top/sub/f; stat -c '%u %a' /tmp/top/sub/f; readlink /tmp/top/link",
    ]));
    assert_eq!(listed, "data0 640\nsub/f\n");
    ok(e.docker(&["cp", "-a", &top_arg, "box:/kept"]));
    assert_eq!(
        ok(e.docker(&["exec", "box", "stat", "-c", "%u", "/kept/sub/f"])),
        "1234\n"
    );
    // SRC/. copies the contents; a missing destination takes the name.
    ok(e.docker(&["cp", &format!("{top_arg}/."), "box:/contents"]));
    assert_eq!(
        ok(e.docker(&["exec", "box", "ls", "/contents"])),
        "link\nsub\n"
    );
    ok(e.docker(&[
        "cp",
        &top.join("sub/f").display().to_string(),
        "box:/etc/renamed",
    ]));
    assert_eq!(
        ok(e.docker(&["exec", "box", "cat", "/etc/renamed"])),
        "data"
    );
    // Out: a file, a directory (its link kept), to a new name.
    let back = host.path().join("back");
    ok(e.docker(&["cp", "box:/tmp/top", &back.display().to_string()]));
    assert_eq!(std::fs::read_to_string(back.join("sub/f")).unwrap(), "data");
    assert_eq!(
        std::fs::read_link(back.join("link")).unwrap(),
        Path::new("sub/f")
    );
    ok(e.docker(&[
        "cp",
        "box:/etc/hostname",
        &host.path().join("h").display().to_string(),
    ]));
    let id = e.inspect("box", "{{.Id}}");
    assert_eq!(
        std::fs::read_to_string(host.path().join("h")).unwrap(),
        format!("{}\n", &id[..12])
    );
    // The same through vessel's cp.
    let vback = host.path().join("vback");
    e.ok(&["cp", "box:/tmp/top", &vback.display().to_string()]);
    assert_eq!(
        std::fs::read_to_string(vback.join("sub/f")).unwrap(),
        "data"
    );
    e.ok(&[
        "cp",
        &top.join("sub/f").display().to_string(),
        "box:/tmp/vf",
    ]);
    assert_eq!(ok(e.docker(&["exec", "box", "cat", "/tmp/vf"])), "data");
    // Errors name the path.
    let out = e.docker(&["cp", "box:/nope", host.path().to_str().unwrap()]);
    assert!(
        stderr(&out).contains("Could not find the file /nope in container box"),
        "{out:?}"
    );
    let out = e.vessel(&["cp", "box:/nope", host.path().to_str().unwrap()]);
    assert!(
        stderr(&out).contains("Could not find the file /nope in container box"),
        "{out:?}"
    );
    let out = e.docker(&["cp", &top_arg, "box:/etc/hostname"]);
    assert!(!out.status.success(), "{out:?}");
}

#[test]
fn a_stopped_containers_files_and_volumes_are_copied_too() {
    let e = Engine::start();
    let host = tempfile::tempdir().unwrap();
    let top = tree(host.path());
    e.ok(&[
        "create",
        "--name",
        "idle",
        "-v",
        "store:/store",
        "busybox",
        "sh",
        "-c",
        "cat /store/top/sub/f /etc/added",
    ]);
    ok(e.docker(&["cp", &top.display().to_string(), "idle:/store"]));
    let file = host.path().join("added");
    std::fs::write(&file, "more\n").unwrap();
    ok(e.docker(&["cp", &file.display().to_string(), "idle:/etc/added"]));
    // What went into the volume is the volume's; the rest the container's.
    let data = ok(e.docker(&["volume", "inspect", "-f", "{{.Mountpoint}}", "store"]));
    assert_eq!(
        std::fs::read_to_string(Path::new(data.trim()).join("top/sub/f")).unwrap(),
        "data"
    );
    assert_eq!(ok(e.docker(&["start", "-a", "idle"])), "datamore\n");
    let out_file = host.path().join("out");
    ok(e.docker(&["cp", "idle:/etc/added", &out_file.display().to_string()]));
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "more\n");
    assert_eq!(std::fs::metadata(&out_file).unwrap().size(), 5);
    // A read-only root takes files only in its writable mounts.
    e.ok(&[
        "create",
        "--name",
        "ro",
        "--read-only",
        "-v",
        "rw:/rw",
        "busybox",
        "true",
    ]);
    let out = e.docker(&["cp", &file.display().to_string(), "ro:/etc/x"]);
    assert!(
        stderr(&out).contains("container rootfs is marked read-only"),
        "{out:?}"
    );
    ok(e.docker(&["cp", &file.display().to_string(), "ro:/rw/x"]));
    // Nothing of the copies is left mounted or in the scratch space.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&e.root().display().to_string()),
        "{mounts}"
    );
    let tmp: Vec<_> = std::fs::read_dir(e.root().join("tmp"))
        .unwrap()
        .flatten()
        .map(|d| d.file_name())
        .collect();
    assert!(
        !tmp.iter().any(|n| n.to_string_lossy().starts_with("copy-")),
        "{tmp:?}"
    );
}
