//! Pause and resume, read from the freezer on the host.

mod support;

use support::*;

fn freezer_state(id: &str) -> String {
    let v1 = format!("/sys/fs/cgroup/freezer/vessel/{id}/freezer.state");
    std::fs::read_to_string(v1).unwrap().trim().to_string()
}

#[test]
fn pause_freezes_and_resume_thaws() {
    let env = Env::new();
    let id = unique("pause");
    env.start(&id, &spec(&["sleep", "60"]));
    env.ok(&["pause", &id]);
    assert_eq!(freezer_state(&id), "FROZEN");
    assert_eq!(env.state(&id)["status"], "paused");

    let out = env.run(&["exec", &id, "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("paused"));
    let out = env.run(&["pause", &id]);
    assert!(!out.status.success(), "pausing twice is refused");

    env.ok(&["resume", &id]);
    assert_eq!(freezer_state(&id), "THAWED");
    assert_eq!(env.state(&id)["status"], "running");
    env.ok(&["exec", &id, "--", "true"]);

    // A running container is not deleted without --force.
    let out = env.run(&["delete", &id]);
    assert!(!out.status.success());
    env.ok(&["pause", &id]);
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}
