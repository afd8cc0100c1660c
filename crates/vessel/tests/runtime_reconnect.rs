//! The shim outlives whoever started it; a later caller finds the state,
//! the exit status and the logs intact.

mod support;

use support::*;

#[test]
fn a_new_caller_reconnects_and_reads_the_exit_code_and_logs() {
    let env = Env::new();
    let id = unique("reconnect");
    // `create` and `start` are separate processes that have exited.
    env.start(
        &id,
        &spec(&["sh", "-c", "echo before; sleep 0.3; echo after; exit 7"]),
    );
    let state = env.state(&id);
    assert_eq!(state["status"], "running");
    let shim_pid: i64 = std::fs::read_to_string(env.root.join(&id).join("shim.pid"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(alive(shim_pid));
    assert_eq!(env.wait_stopped(&id), 7);
    let exit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.root.join(&id).join("exit.json")).unwrap())
            .unwrap();
    assert_eq!(exit["code"], 7);
    let log = std::fs::read_to_string(env.root.join(&id).join("container.log")).unwrap();
    assert!(
        log.contains("\"before\\n\"") && log.contains("\"after\\n\""),
        "{log}"
    );
    assert!(alive(shim_pid), "the shim keeps serving until delete");
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn list_shows_every_container() {
    let env = Env::new();
    let a = unique("lista");
    let b = unique("listb");
    env.start(&a, &spec(&["sleep", "60"]));
    env.start(&b, &spec(&["true"]));
    env.wait_stopped(&b);
    let out = env.ok(&["list"]);
    let line = |id: &str| out.lines().find(|l| l.starts_with(id)).unwrap().to_string();
    assert!(line(&a).contains("running"), "{out}");
    assert!(line(&b).contains("stopped"), "{out}");
    env.ok(&["delete", "--force", &a]);
    env.ok(&["delete", &b]);
}
