//! The first process makes its mount namespace itself (the spec's mounts,
//! /dev, pivot_root, read-only and masked paths) unless the spec needs
//! something only libcontainer's init does. Both ways must give the same
//! container, and a mount must never land outside the rootfs.

mod support;

use std::path::Path;

use serde_json::json;
use support::*;

/// Who made the container's mounts, from the shim's log: "no" when the
/// first process did, else why libcontainer did.
fn mounts_by_libcontainer(env: &Env, id: &str) -> String {
    created_log_field(env, id, "mounts_by_libcontainer")
}

/// A copy of the busybox rootfs that a test may change.
fn own_rootfs(env: &Env) -> std::path::PathBuf {
    let dir = env.dir.path().join("rootfs");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(rootfs())
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// A container's view of its mounts without what differs between two
/// containers of the same spec: mount IDs and anonymous device numbers.
fn mounts_seen(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .map(|l| {
            // Without the optional fields (propagation peers), up to `-`.
            let (mount, fs) = l.split_once(" - ").unwrap_or((l, ""));
            let mount: Vec<&str> = mount.split(' ').skip(3).take(3).collect();
            format!("{} - {fs}", mount.join(" "))
        })
        .collect()
}

#[test]
fn the_first_processs_own_mounts_match_libcontainers() {
    let env = Env::new();
    let host_dir = env.dir.path().join("data");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("f"), "from the host\n").unwrap();
    let host_file = env.dir.path().join("note");
    std::fs::write(&host_file, "a file bound in\n").unwrap();

    let script = "cat /proc/self/mountinfo; echo ==; for f in /dev/*; do stat -c '%n %F %a %t:%T %u:%g' $f; done; \
        for l in fd ptmx stdout; do readlink /dev/$l; done; hostname; cat /deep/data/f /etc/note; ls /sys/firmware | wc -l; \
        touch / 2>/dev/null || echo root read-only; echo x > /proc/sys/kernel/domainname 2>/dev/null || echo sys read-only; \
        echo x > /deep/data/g 2>/dev/null || echo data read-only";
    let mut s = spec(&["sh", "-c", script]);
    s["mounts"] = json!([
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]},
        {"destination": "/deep/data", "type": "bind", "source": host_dir, "options": ["rbind", "ro"]},
        {"destination": "/etc/note", "type": "bind", "source": host_file, "options": ["bind"]}
    ]);
    s["linux"]["maskedPaths"] = json!([
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/sys/firmware",
        "/proc/none"
    ]);
    s["linux"]["readonlyPaths"] = json!([
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/none"
    ]);
    s["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600, "uid": 0, "gid": 0}]);
    s["root"] = json!({"path": own_rootfs(&env), "readonly": true});
    // A shared root is something only libcontainer's init makes: the same
    // container otherwise (but for the mounts' peer groups).
    let mut through_libcontainer = s.clone();
    through_libcontainer["linux"]["rootfsPropagation"] = "shared".into();

    let own = unique("ownmounts");
    let theirs = unique("lcmounts");
    let own_out = env.run_kept(&own, &s);
    let their_out = env.run_kept(&theirs, &through_libcontainer);
    assert_eq!(mounts_by_libcontainer(&env, &own), "no");
    assert_eq!(
        mounts_by_libcontainer(&env, &theirs),
        "linux.rootfsPropagation shared"
    );

    let (own_mounts, own_rest) = own_out.split_once("==\n").unwrap();
    let (their_mounts, their_rest) = their_out.split_once("==\n").unwrap();
    assert_eq!(mounts_seen(own_mounts), mounts_seen(their_mounts));
    assert_eq!(own_rest, their_rest);
    // What both must be.
    for want in [
        " / ro,",
        " /deep/data ro,",
        " /etc/note rw,",
        " /proc/sys ro,",
        " /sys/firmware ro,",
    ] {
        assert!(own_mounts.contains(want), "{want} in\n{own_mounts}");
    }
    for want in [
        "/dev/null character special file 666 1:3 0:0\n",
        "/dev/fuse character special file 600 a:e5 0:0\n",
        "/dev/pts directory 755",
        "/proc/self/fd\npts/ptmx\n/proc/self/fd/1\nvessel-test\nfrom the host\na file bound in\n0\nroot read-only\nsys read-only\ndata read-only\n",
    ] {
        assert!(own_rest.contains(want), "{want:?} in\n{own_rest}");
    }
    for id in [&own, &theirs] {
        env.ok(&["delete", id]);
        assert_gone(&env, id);
    }
}

#[test]
fn a_mount_through_a_symlink_in_the_image_stays_in_the_rootfs() {
    let env = Env::new();
    let rootfs = own_rootfs(&env);
    // On the host this names a real directory; in the image, a link to it
    // must resolve inside the rootfs.
    let host_side = env.dir.path().join("host-side");
    std::fs::create_dir_all(&host_side).unwrap();
    let inside = rootfs.join(host_side.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inside).unwrap();
    std::os::unix::fs::symlink(&host_side, rootfs.join("absolute")).unwrap();
    std::os::unix::fs::symlink("../../../../../../..", rootfs.join("up")).unwrap();

    let mut s = spec(&[
        "sh",
        "-c",
        "touch /absolute/made /data/too && grep -E ' /(data|[^ ]*host-side) ' /proc/self/mountinfo",
    ]);
    s["root"] = json!({"path": rootfs, "readonly": true});
    // Not the spec's tmpfs over /tmp: `host-side` is under the host's /tmp.
    s["mounts"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["destination"] != "/tmp");
    let mounts = s["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/absolute", "type": "tmpfs", "source": "tmpfs"}));
    mounts.push(json!({"destination": "/up/data", "type": "tmpfs", "source": "tmpfs"}));
    let id = unique("symlinked");
    let out = env.run_kept(&id, &s);
    assert_eq!(mounts_by_libcontainer(&env, &id), "no");
    let host_side_str = host_side.to_str().unwrap();
    assert!(
        out.contains(&format!(" {host_side_str} rw,")),
        "the tmpfs is not over the rootfs's {host_side_str}:\n{out}"
    );
    assert!(out.contains(" /data rw,"), "{out}");
    assert!(rootfs.join("data").is_dir());
    // Nothing reached the host's directory, and the rootfs's own is empty:
    // the file went to the tmpfs over it.
    assert_eq!(std::fs::read_dir(&host_side).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&inside).unwrap().count(), 0);
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn proc_over_a_symlink_is_refused_and_leaves_nothing() {
    let env = Env::new();
    let rootfs = own_rootfs(&env);
    std::fs::remove_dir(rootfs.join("proc")).unwrap();
    std::os::unix::fs::symlink("/tmp", rootfs.join("proc")).unwrap();
    let mut s = spec(&["true"]);
    s["root"] = json!({"path": rootfs, "readonly": true});
    let stderr = env.fails("run", &unique("procsymlink"), &s);
    assert!(
        stderr.contains("/proc") && stderr.contains("directory"),
        "{stderr}"
    );
    assert!(Path::new(&rootfs).join("proc").is_symlink());
}

#[test]
fn a_device_outside_dev_is_refused_and_leaves_nothing() {
    let env = Env::new();
    let mut s = spec(&["true"]);
    s["linux"]["devices"] = json!([{"path": "/etc/fuse", "type": "c", "major": 10, "minor": 229}]);
    let stderr = env.fails("run", &unique("baddevice"), &s);
    assert!(
        stderr.contains("linux.devices") && stderr.contains("/etc/fuse"),
        "{stderr}"
    );
}

#[test]
fn a_missing_working_directory_is_made_both_ways() {
    let env = Env::new();
    let rootfs = own_rootfs(&env);
    let mut s = spec(&["sh", "-c", "pwd; stat -c '%a %U' ."]);
    s["root"] = json!({"path": rootfs, "readonly": true});
    s["process"]["cwd"] = "/work/here".into();
    let mut through_libcontainer = s.clone();
    through_libcontainer["process"]["cwd"] = "/work/there".into();
    through_libcontainer["linux"]["rootfsPropagation"] = "shared".into();
    // On a mount that covers it, it is made on the mount.
    let mut on_a_mount = s.clone();
    on_a_mount["process"]["cwd"] = "/tmp/under/the/tmpfs".into();
    on_a_mount["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    for (name, s, cwd, made_by) in [
        ("cwd", &s, "/work/here", "no"),
        (
            "cwdlc",
            &through_libcontainer,
            "/work/there",
            "linux.rootfsPropagation shared",
        ),
        ("cwdtmpfs", &on_a_mount, "/tmp/under/the/tmpfs", "no"),
    ] {
        let id = unique(name);
        assert_eq!(env.run_kept(&id, s), format!("{cwd}\n755 root\n"), "{id}");
        assert_eq!(mounts_by_libcontainer(&env, &id), made_by);
        env.ok(&["delete", &id]);
        assert_gone(&env, &id);
    }
    assert!(rootfs.join("work/here").is_dir());
    // A working directory that is a file is refused, naming it.
    let mut s = s.clone();
    s["process"]["cwd"] = "/etc/passwd".into();
    let stderr = env.fails("run", &unique("cwdfile"), &s);
    assert!(stderr.contains("process.cwd /etc/passwd"), "{stderr}");
}
