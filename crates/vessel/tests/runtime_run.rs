//! `vessel runtime run` in the foreground: the shim starts the container
//! itself, streams it on the socket it answered on, and removes it after
//! the exit (unless `--keep`), with or without its caller.

mod support;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// The shim's pid, from its state directory.
fn shim_pid(env: &Env, id: &str) -> i64 {
    std::fs::read_to_string(env.root.join(id).join("shim.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Clock ticks of CPU time `pid` has used (user + system).
fn cpu_ticks(pid: i64) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn a_failed_start_fails_the_run_and_leaves_nothing() {
    let env = Env::new();
    let id = unique("runbadstart");
    let mut s = spec(&["sleep", "30"]);
    // libcontainer fails the start when a poststart hook fails.
    s["hooks"] = serde_json::json!({"poststart": [{"path": "/bin/false"}]});
    let stderr = env.fails("run", &id, &s);
    assert!(stderr.contains("starting the container"), "{stderr}");
}

#[test]
fn keep_leaves_the_stopped_container_with_its_exit_code() {
    let env = Env::new();
    let id = unique("runkeep");
    let b = env.bundle(&id, &spec(&["sh", "-c", "echo kept; exit 5"]));
    let out = env.run(&["run", "--keep", "--bundle", b.to_str().unwrap(), &id]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kept\n");
    let state = env.state(&id);
    assert_eq!(state["status"], "stopped");
    assert_eq!(state["exit"]["code"], 5);
    assert!(!cgroup_dirs(&id).is_empty(), "kept with its cgroups");
    env.ok(&["delete", &id]);
    assert_gone(&env, &id);
}

#[test]
fn a_run_whose_caller_is_killed_still_removes_its_container() {
    let env = Env::new();
    let id = unique("runorphan");
    let mut child = spawn_run(&env, &id, &spec(&["sh", "-c", "echo ready; sleep 1"]));
    drop(child.stdin.take());
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    let shim = shim_pid(&env, &id);
    child.kill().unwrap();
    child.wait().unwrap();
    // The shim notices its caller is gone without spinning on it: a busy
    // loop would use about every tick of these 300 ms.
    let before = cpu_ticks(shim);
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(shim), "the shim outlives its caller");
    let used = cpu_ticks(shim) - before;
    assert!(used < 10, "the shim used {used} ticks while idle");
    // The container ends on its own; the run it belonged to removes it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.root.join(&id).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_gone(&env, &id);
    while alive(shim) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(shim), "the shim exits with its container");
}

#[test]
fn help_and_mistakes_come_from_the_whole_command_line() {
    // Subcommands' arguments are only built for the command being run;
    // its help and errors are still whole, global options (--host) too.
    let help = Command::new(vessel_bin())
        .args(["runtime", "run", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--host") && text.contains("--bundle"),
        "{text}"
    );
    let wrong = Command::new(vessel_bin())
        .args(["runtime", "run", "--no-such-flag", "x"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    let text = String::from_utf8_lossy(&wrong.stderr);
    assert!(text.contains("--no-such-flag"), "{text}");
}

/// Starts `vessel runtime run` of `spec` with piped stdin and stdout.
fn spawn_run(env: &Env, id: &str, spec: &serde_json::Value) -> std::process::Child {
    let b = env.bundle(id, spec);
    env.command(&["run", "--bundle", b.to_str().unwrap(), id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_caller_that_dies_closes_the_processs_stdin() {
    // The process reads stdin until its end; the caller is killed while
    // our end of its stdin stays open: the shim ends the process's stdin
    // for it, and the run removes its container.
    let env = Env::new();
    let id = unique("runstdin");
    let mut child = spawn_run(&env, &id, &spec(&["sh", "-c", "echo ready; cat"]));
    let _stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.root.join(&id).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_gone(&env, &id);
}

#[test]
fn a_slow_caller_gets_all_the_output_and_the_exit_code() {
    // More output than the shim queues for an attached client; the caller
    // reads nothing for a while.
    let env = Env::new();
    let id = unique("runslow");
    let mut child = spawn_run(
        &env,
        &id,
        &spec(&["sh", "-c", "head -c 8000000 /dev/zero; exit 3"]),
    );
    drop(child.stdin.take());
    std::thread::sleep(Duration::from_millis(1500));
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert_eq!(out.len(), 8_000_000);
    assert_eq!(child.wait().unwrap().code(), Some(3));
    assert_gone(&env, &id);
}

#[test]
fn a_create_that_fails_after_the_first_process_is_ready_ran_nothing() {
    // A root so long that the shim's control socket cannot be bound: the
    // create fails at the end, and the command, which would leave a file
    // behind, never ran.
    let env = Env::new();
    let root = env.dir.path().join("r".repeat(100));
    let id = unique("runlate");
    let seen = env.dir.path().join("seen");
    std::fs::create_dir_all(&seen).unwrap();
    let mut s = spec(&["touch", "/seen/ran"]);
    s["mounts"].as_array_mut().unwrap().push(serde_json::json!({
        "destination": "/seen", "type": "bind", "source": seen, "options": ["rbind", "rw"]
    }));
    let b = env.bundle(&id, &s);
    let out = Command::new(vessel_bin())
        .args(["runtime", "--root", root.to_str().unwrap()])
        .args(["run", "--bundle", b.to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("control socket"), "{stderr}");
    assert!(!seen.join("ran").exists(), "the command ran");
    assert!(!root.join(&id).exists());
    assert!(cgroup_dirs(&id).is_empty());
}
