//! A rootfs made of layers: the image read-only below, the container's
//! writable layer on top, merged by overlayfs.

mod support;

use serde_json::json;
use support::*;

#[test]
fn writes_land_in_the_writable_layer_and_the_mount_goes_with_the_container() {
    let env = Env::new();
    let id = unique("overlay");
    let top = env.dir.path().join("layer-top");
    std::fs::create_dir_all(top.join("etc")).unwrap();
    std::fs::write(top.join("etc/motd"), "from the top layer\n").unwrap();
    let mut s = spec(&[
        "sh",
        "-c",
        "cat /etc/motd; echo new > /created; rm /bin/vi; sleep 60",
    ]);
    s["root"] = json!({"path": "", "readonly": false});
    s["annotations"] = json!({"org.vessel.rootfs.layers": serde_json::to_string(&[top.to_str().unwrap(), rootfs().to_str().unwrap()]).unwrap()});
    env.start(&id, &s);
    let rootfs_mount = env.root.join(&id).join("rootfs");
    // Mounted in the shim's mount namespace, never in the host's.
    let shim: i64 = std::fs::read_to_string(env.root.join(&id).join("shim.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let in_shim = std::fs::read_to_string(format!("/proc/{shim}/mountinfo")).unwrap();
    assert!(
        in_shim.contains(&format!(" {} ", rootfs_mount.display())),
        "{in_shim}"
    );
    assert!(mounts_with(rootfs_mount.to_str().unwrap()).is_empty());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let upper = env.root.join(&id).join("upper");
    assert_eq!(
        std::fs::read_to_string(upper.join("created")).unwrap(),
        "new\n"
    );
    assert!(
        rootfs().join("bin/vi").exists(),
        "the image layer is untouched"
    );
    assert!(!rootfs().join("created").exists());
    let log = std::fs::read_to_string(env.root.join(&id).join("container.log")).unwrap();
    assert!(log.contains("from the top layer"), "{log}");
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
    // The shim unmounts and removes what it moved aside, then exits.
    for _ in 0..200 {
        if !alive(shim) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!alive(shim), "the shim outlived its delete");
    // Nothing but the compiled seccomp filters every container shares.
    let left: Vec<_> = std::fs::read_dir(&env.root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|name| name != ".seccomp")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
