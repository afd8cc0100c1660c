use super::*;

fn store() -> (tempfile::TempDir, Volumes) {
    let root = tempfile::tempdir().unwrap();
    let v = Volumes::open(&root.path().join("volumes"), &root.path().join("tmp")).unwrap();
    (root, v)
}

fn named(name: &str) -> CreateRequest {
    CreateRequest {
        name: Some(name.into()),
        ..Default::default()
    }
}

#[test]
fn volumes_are_made_once_kept_and_read_again() {
    let (root, vols) = store();
    let mut req = named("data");
    req.labels.insert("team".into(), "a".into());
    let (v, made) = vols.create(&req, None).unwrap();
    assert!(made && !v.anonymous());
    assert!(vols.data_dir("data").is_dir());
    // A second create of the name answers the same volume.
    let (again, made) = vols.create(&named("data"), Some("c1")).unwrap();
    assert!(!made);
    assert_eq!(again, v);
    let (anon, _) = vols.create(&CreateRequest::default(), None).unwrap();
    assert!(anon.anonymous() && anon.name.len() == 64);
    let reopened = Volumes::open(&root.path().join("volumes"), &root.path().join("tmp")).unwrap();
    assert_eq!(reopened.list().len(), 2);
    assert_eq!(reopened.get("data").unwrap().labels["team"], "a");
    let e = vols.create(&named("x"), None).unwrap_err().to_string();
    assert!(e.starts_with("create x: volume name is too short"), "{e}");
    let mut other = named("d2");
    other.driver = Some("nfs-plugin".into());
    assert!(matches!(
        vols.create(&other, None),
        Err(EngineError::InvalidParameter(_))
    ));
    assert!(!root.path().join("volumes/d2").exists());
}

#[test]
fn a_volume_in_use_is_not_removed() {
    let (root, vols) = store();
    vols.create(&named("data"), Some("c1")).unwrap();
    vols.reference("data", "c2");
    let e = vols.remove("data", true).unwrap_err();
    assert!(matches!(e, EngineError::Conflict(_)));
    assert_eq!(e.to_string(), "remove data: volume is in use - [c1, c2]");
    vols.release("data", "c1");
    vols.release("data", "c2");
    assert!(vols.remove("data", false).unwrap().is_some());
    assert!(!root.path().join("volumes/data").exists());
    assert_eq!(vols.remove("data", true).unwrap(), None);
    let e = vols.remove("data", false).unwrap_err().to_string();
    assert_eq!(e, "get data: no such volume");
}

#[test]
fn a_volume_with_a_filesystem_is_mounted_while_used() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let (_root, vols) = store();
    let mut req = named("fast");
    for (k, v) in [("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m")] {
        req.options.insert(k.into(), v.into());
    }
    vols.create(&req, None).unwrap();
    let dir = vols.mount("fast", "c1").unwrap();
    vols.mount("fast", "c2").unwrap();
    let fs = nix::sys::statfs::statfs(&dir).unwrap();
    assert_eq!(fs.filesystem_type(), nix::sys::statfs::TMPFS_MAGIC);
    assert_eq!(fs.blocks() * fs.block_size() as u64, 1 << 20);
    vols.unmount("fast", "c1");
    assert_eq!(
        nix::sys::statfs::statfs(&dir).unwrap().filesystem_type(),
        nix::sys::statfs::TMPFS_MAGIC
    );
    vols.unmount("fast", "c2");
    assert_ne!(
        nix::sys::statfs::statfs(&dir).unwrap().filesystem_type(),
        nix::sys::statfs::TMPFS_MAGIC
    );
}
