//! Output and exit codes of `vessel runtime run`.

mod support;

use support::*;

fn run(env: &Env, id: &str, args: &[&str]) -> std::process::Output {
    let b = env.bundle(id, &spec(args));
    env.run(&["run", "--bundle", b.to_str().unwrap(), id])
}

#[test]
fn output_reaches_stdout_and_stderr_and_exit_code_0() {
    let env = Env::new();
    let out = run(
        &env,
        &unique("ok"),
        &["sh", "-c", "echo hello; echo oops >&2"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
}

#[test]
fn the_containers_own_exit_code() {
    let env = Env::new();
    assert_eq!(
        run(&env, &unique("three"), &["sh", "-c", "exit 3"])
            .status
            .code(),
        Some(3)
    );
}

#[test]
fn a_command_that_is_not_found_exits_127() {
    let env = Env::new();
    let out = run(&env, &unique("nf"), &["no-such-command"]);
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("'no-such-command' not found"), "{stderr}");
}

#[test]
fn a_command_that_cannot_be_executed_exits_126() {
    let env = Env::new();
    let out = run(&env, &unique("nx"), &["/etc/passwd"]);
    assert_eq!(out.status.code(), Some(126));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be invoked"));
}

#[test]
fn a_container_killed_by_sigkill_exits_137() {
    let env = Env::new();
    let id = unique("k9");
    env.start(&id, &spec(&["sleep", "60"]));
    env.ok(&["kill", &id, "KILL"]);
    assert_eq!(env.wait_stopped(&id), 137);
    assert_eq!(env.state(&id)["exit"]["signal"], 9);
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn stdin_reaches_the_container_and_its_end_is_eof() {
    let env = Env::new();
    let id = unique("stdin");
    let b = env.bundle(&id, &spec(&["sh", "-c", "cat; echo done"]));
    let out = env.run_with_stdin(
        &["run", "--bundle", b.to_str().unwrap(), &id],
        b"from stdin\n",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from stdin\ndone\n");
}

#[test]
fn the_log_has_one_json_object_per_line() {
    let env = Env::new();
    let id = unique("log");
    let b = env.bundle(
        &id,
        &spec(&["sh", "-c", "echo one; echo two >&2; printf three"]),
    );
    env.ok(&["run", "--keep", "--bundle", b.to_str().unwrap(), &id]);
    let log = std::fs::read_to_string(env.root.join(&id).join("container.log")).unwrap();
    let entries: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut got: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["stream"].as_str().unwrap().into(),
                e["log"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("stderr".into(), "two\n".into()),
            ("stdout".into(), "one\n".into()),
            ("stdout".to_string(), "three".to_string())
        ]
    );
    for e in &entries {
        let t = e["time"].as_str().unwrap();
        assert_eq!(t.len(), 30, "RFC 3339 with nanoseconds: {t}");
    }
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn stop_sends_sigterm_then_sigkill_after_the_timeout() {
    let env = Env::new();
    let polite = unique("stopterm");
    env.start(&polite, &spec(&["sleep", "60"]));
    // PID 1 of a namespace dies of SIGTERM only with a handler; busybox
    // sleep has none, so this one needs the SIGKILL too.
    let stubborn = unique("stopkill");
    env.start(
        &stubborn,
        &spec(&[
            "sh",
            "-c",
            "trap 'exit 42' TERM; while :; do sleep 0.1; done",
        ]),
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(env.ok(&["stop", "-t", "5", &stubborn]).trim(), "42");
    let started = std::time::Instant::now();
    assert_eq!(env.ok(&["stop", "-t", "1", &polite]).trim(), "137");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    for id in [&polite, &stubborn] {
        env.ok(&["delete", id]);
        assert_gone(&env, id);
    }
}

#[test]
fn signals_sent_to_run_reach_the_container() {
    let env = Env::new();
    let id = unique("fwd");
    let b = env.bundle(
        &id,
        &spec(&[
            "sh",
            "-c",
            "trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 0.1; done",
        ]),
    );
    let mut child = env
        .command(&["run", "--bundle", b.to_str().unwrap(), &id])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(status.code(), Some(9));
    assert_gone(&env, &id);
}
