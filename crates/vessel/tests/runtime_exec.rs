//! Extra processes in a running container.

mod support;

use support::*;

#[test]
fn exec_runs_with_its_own_stdio_env_cwd_user_and_exit_code() {
    let env = Env::new();
    let id = unique("exec");
    env.start(&id, &spec(&["sleep", "60"]));
    let out = env.run(&[
        "exec",
        &id,
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 5",
    ]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");

    let out = env.ok(&[
        "exec",
        "-e",
        "GREETING=hi",
        "-w",
        "/tmp",
        "-u",
        "nobody",
        &id,
        "--",
        "sh",
        "-c",
        "echo $GREETING $(pwd) $(id -u):$(id -g) $PATH",
    ]);
    assert_eq!(out, "hi /tmp 65534:65534 /usr/sbin:/usr/bin:/sbin:/bin\n");
    let out = env.ok(&["exec", "-u", "1234:5", &id, "--", "id"]);
    assert!(out.starts_with("uid=1234 gid=5"), "{out}");

    let out = env.run_with_stdin(&["exec", &id, "--", "cat"], b"piped\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "piped\n");

    // Exec output is the caller's, not the container log's.
    let log = std::fs::read_to_string(env.root.join(&id).join("container.log")).unwrap();
    assert!(!log.contains("out"), "{log}");

    let out = env.run(&["exec", "-u", "nosuchuser", &id, "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"nosuchuser\""));

    let out = env.run(&["exec", &id, "--", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127));
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}

#[test]
fn exec_into_a_stopped_container_is_refused() {
    let env = Env::new();
    let id = unique("execstopped");
    env.start(&id, &spec(&["true"]));
    env.wait_stopped(&id);
    let out = env.run(&["exec", &id, "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not running"));
    env.ok(&["delete", &id]);
}

#[test]
fn ps_lists_the_containers_processes() {
    let env = Env::new();
    let id = unique("ps");
    env.start(&id, &spec(&["sh", "-c", "sleep 60 & sleep 61"]));
    let out = env.ok(&["ps", &id]);
    assert!(
        out.contains("sleep 60") && out.contains("sleep 61"),
        "{out}"
    );
    assert!(out.lines().nth(1).unwrap().contains("root"), "{out}");
    env.ok(&["delete", "--force", &id]);
}
