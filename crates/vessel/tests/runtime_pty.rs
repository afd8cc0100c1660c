//! A container whose process has a terminal.

mod support;

use support::*;

#[test]
fn a_terminal_process_sees_a_pty_on_its_stdio() {
    let env = Env::new();
    let id = unique("pty");
    let mut s = spec(&[
        "sh",
        "-c",
        "tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; stty size",
    ]);
    s["process"]["terminal"] = true.into();
    s["process"]["consoleSize"] = serde_json::json!({"height": 30, "width": 100});
    let b = env.bundle(&id, &s);
    let out = env.run(&["run", "--bundle", b.to_str().unwrap(), &id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("/dev/pts/0\r\n"), "{stdout:?}");
    assert!(stdout.contains("both-tty\r\n"), "{stdout:?}");
    assert_gone(&env, &id);
}

#[test]
fn a_terminal_can_be_resized_and_exec_gets_its_own() {
    let env = Env::new();
    let id = unique("ptyexec");
    env.start(&id, &spec(&["sleep", "60"]));
    let out = env.run(&["exec", "--tty", &id, "--", "sh", "-c", "tty; exit 4"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/dev/pts/"));
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}
