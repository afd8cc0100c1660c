//! `--init`, end to end through the stock docker CLI and a real vesseld:
//! Vessel's init runs as pid 1 (bound at /sbin/docker-init, as Docker's),
//! runs the command as its child, passes a stop's signal on, reaps
//! orphans, and exits as the command did.

mod engine_support;

use engine_support::*;

#[test]
fn the_init_is_pid_1_and_the_command_its_child() {
    let e = Engine::start();
    let out = e.docker(&["run", "--rm", "--init", "busybox", "ps", "-o", "pid,args"]);
    let text = stdout(&out);
    assert!(
        text.contains("    1 /sbin/docker-init -- ps -o pid,args"),
        "{out:?}"
    );
    assert!(text.contains("    2 ps -o pid,args"), "{out:?}");
    // Bound read-only, never part of the image.
    let out = e.docker(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "grep docker-init /proc/self/mountinfo; echo x > /sbin/docker-init",
    ]);
    assert!(stdout(&out).contains(" /sbin/docker-init ro,"), "{out:?}");
    assert!(stderr(&out).contains("Read-only file system"), "{out:?}");
    // The command's exit is the container's; a missing command is the
    // init's to report, as Docker's.
    let out = e.docker(&["run", "--rm", "--init", "busybox", "sh", "-c", "exit 5"]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let out = e.docker(&["run", "--rm", "--init", "busybox", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    assert!(stderr(&out).contains("no-such-command"), "{out:?}");
    e.ok(&["create", "--init", "--name", "made", "busybox", "true"]);
    assert_eq!(
        e.inspect("made", "{{.HostConfig.Init}} {{.Path}}"),
        "true true"
    );
}

#[test]
fn a_stop_reaches_the_command_and_orphans_are_reaped() {
    let e = Engine::start();
    // pid 1 ignores SIGTERM unless it handles it: sleep as pid 1 would
    // wait for the SIGKILL (137); under the init it dies of the SIGTERM.
    e.docker(&[
        "run", "-d", "--init", "--name", "sleeper", "busybox", "sleep", "300",
    ]);
    let out = e.docker(&["stop", "-t", "60", "sleeper"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(e.inspect("sleeper", "{{.State.ExitCode}}"), "143");
    // A grandchild whose parent is gone becomes the init's and is reaped:
    // no zombie is left.
    let script = "sh -c 'sleep 0.2 &'; sleep 1; ps -o stat,args";
    let out = e.docker(&["run", "--rm", "--init", "busybox", "sh", "-c", script]);
    assert!(out.status.success(), "{out:?}");
    let listing = stdout(&out);
    let zombies: Vec<&str> = listing.lines().filter(|l| l.starts_with('Z')).collect();
    assert!(zombies.is_empty(), "{out:?}");
}
