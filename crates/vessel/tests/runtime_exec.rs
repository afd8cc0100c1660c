//! Extra processes in a running container.

mod support;

use serde_json::{json, Value};
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
    // Its exit is on disk too, for a caller that comes back later.
    let execs = env.root.join(&id).join("execs");
    let recorded: Vec<Value> = std::fs::read_dir(&execs)
        .unwrap()
        .flatten()
        .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
        .collect();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["code"], 5);

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

    // Docker's code for an exec that cannot start, missing or not: 126
    // (a first process's missing command is 127).
    let out = env.run(&["exec", &id, "--", "no-such-command"]);
    assert_eq!(out.status.code(), Some(126));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exec 'no-such-command' not found"),
        "{stderr}"
    );
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}

/// What a process says about itself: its cgroups, namespaces, capability
/// sets, seccomp mode and no_new_privs, read from inside the container.
const SELF_REPORT: &str = "cat /proc/self/cgroup; \
    for n in mnt net ipc uts pid; do readlink /proc/self/ns/$n; done; \
    grep -E '^(CapBnd|CapPrm|CapEff|Seccomp|NoNewPrivs):' /proc/self/status";

/// The same, read from the host for the process `pid`.
fn host_report(pid: i64) -> String {
    let mut out = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    for n in ["mnt", "net", "ipc", "uts", "pid"] {
        let link = std::fs::read_link(format!("/proc/{pid}/ns/{n}")).unwrap();
        out.push_str(&format!("{}\n", link.display()));
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    for line in status.lines() {
        let key = line.split(':').next().unwrap_or("");
        if ["CapBnd", "CapPrm", "CapEff", "Seccomp", "NoNewPrivs"].contains(&key) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn an_exec_joins_the_first_processs_cgroups_namespaces_and_confinement() {
    let env = Env::new();
    let id = unique("execjoin");
    let mut s = spec(&["sleep", "60"]);
    let caps = json!(["CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_DAC_OVERRIDE"]);
    s["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
    s["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}]);
    s["linux"]["resources"] = json!({"pids": {"limit": 50}});
    env.start(&id, &s);
    let init = env.state(&id)["pid"].as_i64().unwrap();

    let inside = env.ok(&["exec", &id, "--", "sh", "-c", SELF_REPORT]);
    assert_eq!(inside, host_report(init));
    assert!(inside.contains("Seccomp:\t2"), "{inside}");
    assert!(inside.contains("NoNewPrivs:\t1"), "{inside}");
    let limits = env.ok(&[
        "exec",
        &id,
        "--",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; echo $$",
    ]);
    let lines: Vec<&str> = limits.lines().collect();
    assert_eq!(lines[..2], ["512", "1024"]);
    assert_ne!(
        lines[2], "1",
        "the exec is not the container's first process"
    );
    env.ok(&["delete", "--force", &id]);
    assert_gone(&env, &id);
}

#[test]
fn an_exec_that_needs_libcontainer_still_runs() {
    // An I/O priority is set by libcontainer's tenant path only.
    let env = Env::new();
    let id = unique("exectenant");
    let mut s = spec(&["sleep", "60"]);
    s["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 4});
    env.start(&id, &s);
    let out = env.run(&[
        "exec",
        "-e",
        "A=b",
        &id,
        "--",
        "sh",
        "-c",
        "echo $A; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "b\n");
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
