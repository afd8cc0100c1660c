//! Restart policies through the stock docker CLI and the `vessel` CLI
//! against a real vesseld: Docker's back-off between starts, the
//! restart count, the `restarting` status, `stop` and `kill` ending the
//! loop, `update --restart`, the checks of a policy, and the policies
//! honoured when the daemon starts again after a `kill -9`.

mod engine_support;

use engine_support::*;

/// The times (ns) of the container's events with `action`, in order.
fn times(e: &Engine, name: &str, action: &str) -> Vec<i64> {
    e.events(&format!("container={name}"))
        .iter()
        .filter(|ev| ev["Action"] == action)
        .filter_map(|ev| ev["timeNano"].as_i64())
        .collect()
}

#[test]
fn on_failure_restarts_with_dockers_back_off_up_to_its_limit() {
    let e = Engine::start();
    let out = e.docker(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:3",
        "busybox",
        "sh",
        "-c",
        "exit 3",
    ]);
    assert!(out.status.success(), "{out:?}");
    e.eventually("three restarts, then exited", || {
        e.inspect("flaky", "{{.State.Status}} {{.RestartCount}}") == "exited 3"
    });
    assert_eq!(e.inspect("flaky", "{{.State.ExitCode}}"), "3");
    let dies = times(&e, "flaky", "die");
    let starts = times(&e, "flaky", "start");
    assert_eq!((dies.len(), starts.len()), (4, 4), "{dies:?} {starts:?}");
    // Each start follows the exit before it by the policy's delay (100,
    // 200, 400 ms) and what a start takes.
    for (i, want) in [100, 200, 400].iter().enumerate() {
        let gap = (starts[i + 1] - dies[i]) / 1_000_000;
        assert!(
            gap >= *want && gap < want + 300,
            "restart {i}: {gap} ms after the exit"
        );
    }
    // A success does not restart an on-failure container.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "fine",
        "--restart",
        "on-failure",
        "busybox",
        "true",
    ]);
    e.eventually("exited", || {
        e.inspect("fine", "{{.State.Status}}") == "exited"
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(e.inspect("fine", "{{.RestartCount}}"), "0");
}

#[test]
fn always_restarts_until_stopped_and_shows_restarting() {
    let e = Engine::start();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "loop",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "sleep 0.2; exit 1",
    ]);
    e.eventually("a restarting status", || {
        let row = stdout(&e.docker(&["ps", "--filter", "name=loop", "--format", "{{.Status}}"]));
        row.starts_with("Restarting (1) ")
    });
    e.eventually("two restarts", || {
        e.inspect("loop", "{{.RestartCount}}")
            .parse::<i64>()
            .unwrap_or(0)
            >= 2
    });
    assert_eq!(
        e.inspect("loop", "{{.HostConfig.RestartPolicy.Name}}"),
        "always"
    );
    let out = e.docker(&["stop", "-t", "1", "loop"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(e.inspect("loop", "{{.State.Status}}"), "exited");
    let count = e.inspect("loop", "{{.RestartCount}}");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(e.inspect("loop", "{{.State.Status}}"), "exited");
    assert_eq!(e.inspect("loop", "{{.RestartCount}}"), count);
    // A start by hand starts the count over.
    e.ok(&["start", "loop"]);
    assert_eq!(e.inspect("loop", "{{.RestartCount}}"), "0");
    e.ok(&["rm", "-f", "loop"]);
    // unless-stopped: any exit restarts it; a kill ends the loop.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "svc",
        "--restart",
        "unless-stopped",
        "busybox",
        "sh",
        "-c",
        "sleep 0.2",
    ]);
    e.eventually("a restart after a success", || {
        e.inspect("svc", "{{.RestartCount}}") != "0"
    });
    e.ok(&["kill", "svc"]);
    e.eventually("killed", || {
        e.inspect("svc", "{{.State.Running}}") == "false"
    });
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert_eq!(e.inspect("svc", "{{.State.Status}}"), "exited");
}

#[test]
fn policies_are_checked_and_updated() {
    let e = Engine::start();
    for (args, want) in [
        (
            &["--restart", "always", "--rm"][..],
            "can't create 'AutoRemove' container with restart policy",
        ),
        (
            &["--restart", "always:2"][..],
            "maximum retry count can only be used with 'on-failure'",
        ),
        (
            &["--restart", "on-failure:-1"][..],
            "maximum retry count cannot be negative",
        ),
    ] {
        let mut all = vec!["run", "-d"];
        all.extend(args);
        all.extend(["busybox", "true"]);
        let out = e.vessel(&all);
        assert!(
            !out.status.success() && stderr(&out).contains(want),
            "{args:?}: {out:?}"
        );
    }
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    e.ok(&["create", "--name", "later", "busybox", "sh", "-c", "exit 1"]);
    let out = e.docker(&["update", "--restart", "on-failure:1", "later"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        e.inspect(
            "later",
            "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure:1"
    );
    e.ok(&["start", "later"]);
    e.eventually("one restart", || {
        e.inspect("later", "{{.State.Status}} {{.RestartCount}}") == "exited 1"
    });
    e.ok(&["update", "--restart", "no", "later"]);
    assert_eq!(
        e.inspect("later", "{{.HostConfig.RestartPolicy.Name}}"),
        "no"
    );
}

#[test]
fn policies_go_on_after_the_daemon_is_killed_and_nothing_starts_twice() {
    let mut e = Engine::start();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "steady",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "60",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "looping",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "sleep 0.3; exit 1",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "quits",
        "--restart",
        "on-failure",
        "busybox",
        "sh",
        "-c",
        "sleep 0.5; exit 2",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "halted",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "60",
    ]);
    e.ok(&["stop", "-t", "0", "halted"]);
    let pid = e.inspect("steady", "{{.State.Pid}}");
    e.kill_daemon();
    // `quits` and `looping` exit while no daemon runs.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    e.launch();
    // A container that ran on is not started again; one that exited
    // meanwhile is, once; one stopped by hand stays stopped.
    assert_eq!(e.inspect("steady", "{{.State.Pid}}"), pid);
    e.eventually("quits running again", || {
        e.inspect("quits", "{{.State.Running}}") == "true"
    });
    e.eventually("looping running again", || {
        e.inspect("looping", "{{.State.Running}}") == "true"
    });
    for name in ["quits", "looping"] {
        let starts = times(&e, name, "start");
        assert!(!starts.is_empty(), "{name}");
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] > 90_000_000,
                "{name} started twice at once: {starts:?}"
            );
        }
    }
    assert_eq!(e.inspect("halted", "{{.State.Status}}"), "exited");
    assert_eq!(e.inspect("steady", "{{.RestartCount}}"), "0");
}
