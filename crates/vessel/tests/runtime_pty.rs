//! A container whose process has a terminal.

mod support;

use support::*;

#[test]
fn a_terminal_process_sees_a_pty_on_its_stdio_and_as_its_console() {
    let env = Env::new();
    let mut s = spec(&[
        "sh",
        "-c",
        "tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; stty size; \
         grep -c ' /dev/console ' /proc/self/mountinfo; \
         (: </dev/tty) 2>/dev/null && echo controlling || echo no-controlling-tty",
    ]);
    s["process"]["terminal"] = true.into();
    s["process"]["consoleSize"] = serde_json::json!({"height": 30, "width": 100});
    // A shared root is something only libcontainer's init makes: the
    // first process makes its terminal itself in one, libcontainer in the
    // other.
    let mut through_libcontainer = s.clone();
    through_libcontainer["linux"]["rootfsPropagation"] = "shared".into();
    for (name, s, made_by) in [
        ("pty", &s, "no"),
        (
            "ptylc",
            &through_libcontainer,
            "linux.rootfsPropagation shared",
        ),
    ] {
        let id = unique(name);
        let stdout = env.run_kept(&id, s);
        // The terminal is the session's own (its Ctrl-C and job control
        // reach the process).
        assert_eq!(
            stdout, "/dev/pts/0\r\nboth-tty\r\n30 100\r\n1\r\ncontrolling\r\n",
            "{id}"
        );
        assert_eq!(
            created_log_field(&env, &id, "mounts_by_libcontainer"),
            made_by
        );
        env.ok(&["delete", &id]);
        assert_gone(&env, &id);
    }
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
