//! The fault suite, end to end through a real vesseld and real shims: the
//! daemon and shims killed at any moment, containers removed under their
//! shims, a full disk, bad requests and a crowd of clients. After each,
//! nothing a container printed is lost, and once the containers are
//! removed nothing of them is left: no shim, mount, cgroup or directory.

mod engine_support;

use std::path::Path;
use std::time::Duration;

use engine_support::*;

/// This engine's shims: `vessel-shim` processes that are its daemon's
/// children or hold a file under its directories open.
fn shims(e: &Engine) -> Vec<i32> {
    let daemon = e.daemon.as_ref().map(|d| d.id() as i32);
    vessel_shims()
        .into_iter()
        .filter(|&(pid, ppid)| {
            let ours = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .any(|target| target.starts_with(e.dir.path()));
            ours || (daemon.is_some() && ppid == daemon)
        })
        .map(|(pid, _)| pid)
        .collect()
}

/// The PID of container `id`'s shim, from its state directory.
fn shim_pid(e: &Engine, id: &str) -> i32 {
    let file = e.exec_root().join("runtime").join(id).join("shim.pid");
    std::fs::read_to_string(&file)
        .unwrap_or_else(|err| panic!("{}: {err}", file.display()))
        .trim()
        .parse()
        .unwrap()
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Host mounts under the engine's directories.
fn mounts_under(dir: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| {
            l.split(' ')
                .nth(4)
                .is_some_and(|point| Path::new(point).starts_with(dir))
        })
        .map(str::to_string)
        .collect()
}

/// Removes every container and checks that nothing of `ids` is left: no
/// shim of this engine but the spare, no mount, no cgroup, no directory.
fn assert_all_removed(e: &Engine, ids: &[String]) {
    for id in e.ok(&["ps", "-aq"]).lines() {
        e.ok(&["rm", "-f", id]);
    }
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    let daemon = e.daemon.as_ref().unwrap().id() as i32;
    e.eventually("every container's shim to exit", || {
        shims(e).iter().all(|&pid| {
            // The spare waiting for the next container is the daemon's.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(&format!(" {daemon} ")))
        })
    });
    let left: Vec<_> = ids
        .iter()
        .filter(|id| !cgroup_dirs(id).is_empty())
        .collect();
    assert!(left.is_empty(), "cgroups left for {left:?}");
    let mounts: Vec<_> = mounts_under(e.dir.path())
        .into_iter()
        .filter(|m| ids.iter().any(|id| m.contains(id.as_str())))
        .collect();
    assert!(mounts.is_empty(), "mounts left: {mounts:?}");
    let records: Vec<_> = std::fs::read_dir(e.root().join("containers"))
        .unwrap()
        .flatten()
        .map(|d| d.file_name())
        .collect();
    assert!(records.is_empty(), "records left: {records:?}");
    e.eventually("every task's state to go", || {
        ids.iter()
            .all(|id| !e.exec_root().join("runtime").join(id).exists())
    });
}

#[test]
fn a_shim_whose_container_was_removed_under_it_removes_it_and_exits() {
    let mut e = Engine::start();
    let record = e.ok(&["run", "-d", "--name", "record", "busybox", "sleep", "300"]);
    let state = e.ok(&["run", "-d", "--name", "state", "busybox", "sleep", "300"]);
    let (record, state) = (record.trim().to_string(), state.trim().to_string());
    let shims = [shim_pid(&e, &record), shim_pid(&e, &state)];
    e.kill_daemon();
    // What another owner of these directories, or a hand, may do while no
    // daemon runs: one container's record, the other's task state, gone.
    std::fs::remove_dir_all(e.root().join("containers").join(&record)).unwrap();
    std::fs::remove_dir_all(e.exec_root().join("runtime").join(&state)).unwrap();
    e.eventually("both shims to exit", || !shims.iter().any(|&p| alive(p)));
    for id in [&record, &state] {
        assert!(cgroup_dirs(id).is_empty(), "{id}: {:?}", cgroup_dirs(id));
    }
    e.launch();
    // The record is all the daemon knows: the one without is gone, the
    // other lost its task and is reported exited.
    assert_eq!(e.ok(&["ps", "-a", "--format", "{{.Names}}"]), "state\n");
    assert_eq!(
        e.inspect("state", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 255"
    );
    assert_all_removed(&e, &[record, state]);
}

#[test]
fn a_killed_shim_leaves_its_container_exited_and_removable() {
    let e = Engine::start();
    let id = e.ok(&["run", "-d", "--name", "victim", "busybox", "sleep", "300"]);
    let id = id.trim().to_string();
    let shim = shim_pid(&e, &id);
    let procs = cgroup_dirs(&id)[0].join("cgroup.procs");
    assert!(!std::fs::read_to_string(&procs).unwrap().is_empty());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(shim),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    e.eventually("the container reported exited", || {
        e.inspect("victim", "{{.State.Status}}") == "exited"
    });
    assert_eq!(e.inspect("victim", "{{.State.ExitCode}}"), "255");
    // What the shim left was removed when its loss was seen: the
    // container's processes did not run on unsupervised.
    assert!(cgroup_dirs(&id).is_empty(), "{:?}", cgroup_dirs(&id));
    assert_all_removed(&e, &[id]);
}

/// Tells workers to stop when dropped, a panic's unwinding included.
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A small deterministic generator for the moments of the faults; the
/// seed is printed so that a failing run can be replayed.
struct Moments(u64);

impl Moments {
    fn new() -> Self {
        let seed = std::env::var("VESSEL_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("fault moments: VESSEL_FAULT_SEED={seed}");
        Moments(seed | 1)
    }

    /// A duration in `[lo, hi)` milliseconds.
    fn between(&mut self, lo: u64, hi: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(lo + self.0 % (hi - lo))
    }
}

/// The numbers of the `line N` lines of `log`, in order.
fn numbered(log: &str) -> Vec<u64> {
    log.lines()
        .filter_map(|l| l.strip_prefix("line ")?.parse().ok())
        .collect()
}

/// Container ids seen under the engine's directories (`e.dir`).
fn ids_on_disk(dir: &Path) -> Vec<String> {
    [dir.join("lib/containers"), dir.join("run/runtime")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect()
}

#[test]
fn the_daemon_killed_at_any_moment_loses_no_container_and_no_line() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    let mut e = Engine::start();
    let mut moments = Moments::new();
    let counters = ["count-a", "count-b", "count-c"];
    for name in counters {
        e.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "busybox",
            "sh",
            "-c",
            "i=0; while true; do echo line $i; i=$((i+1)); usleep 3000; done",
        ]);
    }
    let host = e.host();
    let dir = e.dir.path().to_path_buf();
    let stop = AtomicBool::new(false);
    let seen = Mutex::new(std::collections::BTreeSet::new());
    let wrong = Mutex::new(Vec::new());
    let (execs, runs) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let vessel = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vessel"))
            .args(args)
            .env("VESSEL_HOST", &host)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    std::thread::scope(|s| {
        // The workers stop however the crashes below end (a failed check
        // panics, and the scope waits for them before it reports).
        let _stop = StopOnDrop(&stop);
        // Execs and whole runs, all the time; one that succeeds must have
        // printed exactly what it was asked to.
        s.spawn(|| {
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let word = format!("exec-{n}");
                let out = vessel(&["exec", "count-a", "echo", &word]);
                execs.fetch_add(out.status.success() as usize, Ordering::Relaxed);
                if out.status.success() && stdout(&out) != format!("{word}\n") {
                    wrong.lock().unwrap().push(format!("{word}: {out:?}"));
                }
            }
        });
        s.spawn(|| {
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let word = format!("run-{n}");
                let out = vessel(&["run", "--rm", "busybox", "echo", &word]);
                runs.fetch_add(out.status.success() as usize, Ordering::Relaxed);
                if out.status.success() && stdout(&out) != format!("{word}\n") {
                    wrong.lock().unwrap().push(format!("{word}: {out:?}"));
                }
            }
        });
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                seen.lock().unwrap().extend(ids_on_disk(&dir));
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        for round in 0..6 {
            std::thread::sleep(moments.between(100, 900));
            e.kill_daemon();
            std::thread::sleep(moments.between(0, 300));
            e.launch();
            for name in counters {
                assert_eq!(
                    e.inspect(name, "{{.State.Status}}"),
                    "running",
                    "{name} after crash {round}\n{}",
                    e.daemon_log()
                );
            }
        }
    });
    let (execs, runs) = (execs.into_inner(), runs.into_inner());
    eprintln!("between the crashes: {execs} execs and {runs} runs whole");
    assert!(execs > 0 && runs > 0, "no exec or run got through");
    let wrong = wrong.into_inner().unwrap();
    assert!(wrong.is_empty(), "output lost or changed: {wrong:#?}");
    for name in counters {
        let lines = numbered(&e.ok(&["logs", name]));
        let expected: Vec<u64> = (0..lines.len() as u64).collect();
        assert!(
            lines.len() > 100 && lines == expected,
            "{name}: {} lines, first wrong at {:?}",
            lines.len(),
            lines.iter().zip(&expected).position(|(a, b)| a != b)
        );
    }
    let mut ids: Vec<String> = seen.into_inner().unwrap().into_iter().collect();
    ids.extend(ids_on_disk(&dir));
    assert_all_removed(&e, &ids);
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Writes `file` until its filesystem is full.
fn fill(file: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(file).unwrap();
    let block = vec![0u8; 1 << 16];
    loop {
        if let Err(e) = f.write_all(&block) {
            assert_eq!(e.raw_os_error(), Some(nix::libc::ENOSPC), "{e}");
            return;
        }
    }
}

#[test]
fn a_full_state_root_is_a_clear_error_and_leaves_no_half_record() {
    let mut e = Engine::start_on_tmpfs("32m");
    let id = e.ok(&["run", "-d", "--name", "before", "busybox", "sleep", "300"]);
    let id = id.trim().to_string();
    let records = e.root().join("containers");
    let files = names(&records.join(&id));
    fill(&e.root().join("fill"));

    let vessel = e.vessel(&["create", "--name", "late", "busybox", "true"]);
    let docker = e.docker(&["create", "--name", "late", "busybox", "true"]);
    for out in [&vessel, &docker] {
        assert_ne!(out.status.code(), Some(0), "{out:?}");
        assert!(
            stderr(out).contains("no space left on device"),
            "{}",
            stderr(out)
        );
    }
    let out = e.docker(&["rename", "before", "after"]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(stderr(&out).contains("no space left on device"), "{out:?}");
    assert_eq!(e.inspect("before", "{{.Name}}"), "/before");
    assert_eq!(e.ok(&["ps", "-a", "--format", "{{.Names}}"]), "before\n");
    assert_eq!(names(&records), std::slice::from_ref(&id));
    assert_eq!(names(&records.join(&id)), files);

    // With room again, all is as it was, and survives a restart.
    std::fs::remove_file(e.root().join("fill")).unwrap();
    let late = e.ok(&["create", "--name", "late", "busybox", "true"]);
    e.kill_daemon();
    e.launch();
    assert_eq!(
        e.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]),
        "late created\nbefore running\n"
    );
    assert_all_removed(&e, &[id, late.trim().to_string()]);
}

/// One request on the engine's socket: its status and body.
fn api(e: &Engine, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let socket = e.exec_root().join("vessel.sock");
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    write!(
        s,
        "{method} /v1.45{path} HTTP/1.1\r\nHost: vessel\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

#[test]
fn bad_requests_are_400_with_a_message_and_create_nothing() {
    let e = Engine::start();
    e.ok(&["run", "-d", "--name", "target", "busybox", "sleep", "300"]);
    let records = names(&e.root().join("containers"));
    let create = "/containers/create";
    let cases: &[(&str, &str, &str, &str)] = &[
        ("POST", create, r#"{"Image": "busybox","#, "not JSON"),
        ("POST", create, "[1]", "not a JSON object"),
        ("POST", create, r#"{"Image": 5}"#, "Image: invalid type"),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "Cmd": "ls"}"#,
            "Cmd: invalid type",
        ),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "HostConfig": {"Memory": "lots"}}"#,
            "HostConfig.Memory",
        ),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "HostConfig": {"Memory": -1}}"#,
            "HostConfig.Memory: -1",
        ),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "HostConfig": {"NanoCpus": -1}}"#,
            "HostConfig.NanoCpus: -1",
        ),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "HostConfig": {"CpuShares": -5}}"#,
            "HostConfig.CpuShares: -5",
        ),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "HostConfig": {"ShmSize": -1}}"#,
            "HostConfig.ShmSize: -1",
        ),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": -5, "Hard": -5}]}}"#,
            "HostConfig.Ulimits[0]",
        ),
        (
            "POST",
            create,
            r#"{"Image": "busybox", "StopSignal": "SIGBOGUS"}"#,
            "SIGBOGUS",
        ),
        (
            "POST",
            "/containers/create?name=bad/name",
            r#"{"Image": "busybox"}"#,
            "Invalid container name (bad/name)",
        ),
        (
            "POST",
            "/containers/target/kill?signal=FOO",
            "",
            "invalid signal: FOO",
        ),
        (
            "POST",
            "/containers/target/kill?signal=999",
            "",
            "invalid signal: 999",
        ),
        (
            "POST",
            "/containers/target/stop?t=abc",
            "",
            "t: \\\"abc\\\" is not a number",
        ),
        (
            "POST",
            "/containers/target/restart?t=soon",
            "",
            "t: \\\"soon\\\" is not a number",
        ),
        (
            "POST",
            "/containers/target/resize?h=x&w=80",
            "",
            "h: \\\"x\\\" is not a number",
        ),
        (
            "POST",
            "/containers/target/rename?name=bad/name",
            "",
            "Invalid container name",
        ),
        (
            "POST",
            "/containers/target/exec",
            r#"{"Cmd": "ls"}"#,
            "Cmd: invalid type",
        ),
        (
            "POST",
            "/containers/target/update",
            r#"{"Memory": -1}"#,
            "Memory: -1",
        ),
        (
            "POST",
            "/containers/target/wait?condition=bogus",
            "",
            "bogus",
        ),
        ("GET", "/containers/json?filters=notjson", "", "filters"),
    ];
    for (method, path, body, says) in cases {
        let (status, answer) = api(&e, method, path, body);
        assert_eq!(status, 400, "{method} {path} {body}: {answer}");
        let message: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let message = message["message"].to_string();
        assert!(message.contains(says), "{method} {path} {body}: {message}");
    }
    // Nothing made, nothing changed.
    assert_eq!(names(&e.root().join("containers")), records);
    assert_eq!(
        e.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]),
        "target running\n"
    );
}

/// The daemon's resident memory (KiB) and open descriptors.
fn daemon_usage(e: &Engine) -> (u64, usize) {
    let pid = e.daemon.as_ref().unwrap().id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (rss, fds)
}

#[test]
fn fifty_clients_for_a_minute_leave_the_daemons_memory_and_descriptors_flat() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    let e = Engine::start();
    // No process can be given an 8 MiB argument: refused, naming it.
    let huge = serde_json::json!({"Image": "busybox", "Cmd": ["echo", "x".repeat(8 << 20)]});
    let (status, answer) = api(
        &e,
        "POST",
        "/containers/create?name=huge",
        &huge.to_string(),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("Cmd: string 1"), "{answer}");
    // The largest command line a process can have: 5 MiB in 50 arguments.
    let large: Vec<String> = std::iter::once("true".to_string())
        .chain((0..50).map(|i| format!("{i:03}{}", "x".repeat(100 << 10))))
        .collect();
    let large = serde_json::json!({"Image": "busybox", "Cmd": large});
    let (status, answer) = api(
        &e,
        "POST",
        "/containers/create?name=large",
        &large.to_string(),
    );
    assert_eq!(status, 201, "{answer}");
    e.ok(&["run", "-d", "--name", "target", "busybox", "sleep", "300"]);

    let secs = std::env::var("VESSEL_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    // Once made, the views of the large record are kept: measured after.
    for path in ["/containers/json?all=1", "/containers/large/json"] {
        assert_eq!(api(&e, "GET", path, "").0, 200);
    }
    let before = daemon_usage(&e);
    let stop = AtomicBool::new(false);
    let requests = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for client in 0..50 {
            let (e, stop, requests, failures) = (&e, &stop, &requests, &failures);
            s.spawn(move || {
                for n in 0usize.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (what, (status, answer)) = match (client + n) % 8 {
                        0..=2 => ("list", api(e, "GET", "/containers/json?all=1", "")),
                        3 => ("inspect", api(e, "GET", "/containers/target/json", "")),
                        4 => ("inspect large", api(e, "GET", "/containers/large/json", "")),
                        5 => ("version", api(e, "GET", "/version", "")),
                        6 => ("images", api(e, "GET", "/images/json", "")),
                        _ => {
                            let body = r#"{"Image": "busybox", "Cmd": ["true"]}"#;
                            let made = api(e, "POST", "/containers/create", body);
                            let id = serde_json::from_str::<serde_json::Value>(&made.1)
                                .ok()
                                .and_then(|v| v["Id"].as_str().map(String::from));
                            match id {
                                Some(id) => (
                                    "remove",
                                    api(e, "DELETE", &format!("/containers/{id}?force=1"), ""),
                                ),
                                None => ("create", made),
                            }
                        }
                    };
                    requests.fetch_add(1, Ordering::Relaxed);
                    if !(200..300).contains(&status) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{what}: {status} {answer}"));
                    }
                }
            });
        }
        let _stop = StopOnDrop(&stop);
        std::thread::sleep(Duration::from_secs(secs));
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..1]
    );
    std::thread::sleep(Duration::from_secs(2));
    let after = daemon_usage(&e);
    eprintln!(
        "{} requests; daemon before {} KiB, {} fds; after {} KiB, {} fds",
        requests.into_inner(),
        before.0,
        before.1,
        after.0,
        after.1
    );
    assert!(
        after.1 <= before.1 + 4,
        "descriptors {before:?} -> {after:?}"
    );
    assert!(
        after.0 <= before.0 + (64 << 10),
        "memory (KiB) {before:?} -> {after:?}"
    );
    assert_eq!(
        e.ok(&["ps", "-a", "--format", "{{.Names}}"]),
        "target\nlarge\n"
    );
}
