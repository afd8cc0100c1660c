//! Nothing is left behind: after delete, and after each kind of failure.

mod support;

use serde_json::json;
use support::*;

fn create(env: &Env, id: &str, spec: &serde_json::Value) -> std::process::Output {
    let b = env.bundle(id, spec);
    env.run(&["create", "--bundle", b.to_str().unwrap(), id])
}

#[test]
fn delete_removes_cgroups_state_and_processes() {
    let env = Env::new();
    let id = unique("del");
    env.start(&id, &spec(&["sleep", "60"]));
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    let shim_pid: i64 = std::fs::read_to_string(env.root.join(&id).join("shim.pid"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(alive(pid) && alive(shim_pid));
    assert!(!cgroup_dirs(&id).is_empty());
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!alive(pid), "the container's process outlived delete");
    assert!(!alive(shim_pid), "the shim outlived delete");
}

#[test]
fn a_missing_rootfs_is_refused_naming_it() {
    let env = Env::new();
    let id = unique("norootfs");
    let mut s = spec(&["true"]);
    s["root"]["path"] = json!("/nonexistent/rootfs");
    let stderr = env.fails("create", &id, &s);
    assert!(
        stderr.contains("root.path") && stderr.contains("/nonexistent/rootfs"),
        "{stderr}"
    );
}

#[test]
fn a_failure_inside_libcontainer_leaves_nothing() {
    let env = Env::new();
    let id = unique("badmount");
    let mut s = spec(&["true"]);
    s["mounts"].as_array_mut().unwrap().push(json!(
        {"destination": "/mnt", "type": "bind", "source": "/nonexistent/source", "options": ["rbind"]}
    ));
    env.fails("create", &id, &s);
}

#[test]
fn an_invalid_config_is_refused() {
    let env = Env::new();
    let id = unique("badjson");
    let b = env.dir.path().join(&id);
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(b.join("config.json"), "{not json").unwrap();
    let out = env.run(&["create", "--bundle", b.to_str().unwrap(), &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.json"));
    assert_gone(&env, &id);
}

#[test]
fn a_duplicate_id_is_refused_and_the_first_container_kept() {
    let env = Env::new();
    let id = unique("dup");
    env.start(&id, &spec(&["sleep", "60"]));
    let out = create(&env, &id, &spec(&["true"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(env.state(&id)["status"], "running");
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}

#[test]
fn a_failed_start_terminates_and_deletes() {
    let env = Env::new();
    let id = unique("badstart");
    let b = env.bundle(&id, &spec(&["true"]));
    env.ok(&["create", "--bundle", b.to_str().unwrap(), &id]);
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    // Break the channel libcontainer starts the first process through.
    std::fs::remove_file(
        env.root
            .join(&id)
            .join("libcontainer")
            .join(&id)
            .join("notify.sock"),
    )
    .unwrap();
    let out = env.run(&["start", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("starting the container"));
    // The start's own failure path removed everything.
    assert_gone(&env, &id);
    assert!(!alive(pid));
}

#[test]
fn a_container_whose_first_process_died_before_start_is_stopped() {
    let env = Env::new();
    let id = unique("diedearly");
    let b = env.bundle(&id, &spec(&["true"]));
    env.ok(&["create", "--bundle", b.to_str().unwrap(), &id]);
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(env.wait_stopped(&id), 137);
    let out = env.run(&["start", &id]);
    assert_eq!(out.status.code(), Some(1));
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn a_container_whose_shim_died_is_still_cleaned_up() {
    let env = Env::new();
    let id = unique("deadshim");
    env.start(&id, &spec(&["sleep", "60"]));
    let shim_pid: i32 = std::fs::read_to_string(env.root.join(&id).join("shim.pid"))
        .unwrap()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(shim_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(env.state(&id)["status"], "stopped");
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn poststop_hooks_run_on_delete() {
    let env = Env::new();
    let id = unique("poststop");
    let marker = env.dir.path().join("poststop-ran");
    let mut s = spec(&["true"]);
    s["hooks"] = json!({"poststop": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("cat > {}", marker.display())]
    }]});
    let b = env.bundle(&id, &s);
    let out = env.run(&["run", "--bundle", b.to_str().unwrap(), &id]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let state = std::fs::read_to_string(&marker).expect("the poststop hook did not run");
    assert!(
        state.contains(&id),
        "the hook got the container's state: {state}"
    );
    assert_gone(&env, &id);
}

#[test]
fn processes_left_in_the_cgroup_are_killed_on_delete() {
    // Without a pid namespace, a background process survives the first
    // process' exit; delete must still empty and remove the cgroup.
    let env = Env::new();
    let id = unique("straggler");
    let mut s = spec(&["sh", "-c", "sleep 60 & exit 0"]);
    s["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts"}, {"type": "ipc"}]);
    s["mounts"].as_array_mut().unwrap().truncate(2); // /proc and /dev
    env.start(&id, &s);
    assert_eq!(env.wait_stopped(&id), 0);
    let dirs = cgroup_dirs(&id);
    let procs = std::fs::read_to_string(dirs[0].join("cgroup.procs")).unwrap();
    let bg: Vec<i64> = procs.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(bg.len(), 1, "one process left behind: {procs}");
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!alive(bg[0]), "the background process outlived delete");
}
