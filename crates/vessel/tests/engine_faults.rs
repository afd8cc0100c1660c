//! The fault suite, end to end through a real vesseld and real shims: the
//! daemon and shims killed at any moment, containers removed under their
//! shims, a full disk, bad requests and a crowd of clients. After each,
//! nothing a container printed is lost, and once the containers are
//! removed nothing of them is left: no shim, mount, cgroup or directory.

mod engine_support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use engine_support::*;

/// This engine's shims: `vessel-shim` processes that are its daemon's
/// children or hold a file under its directories open.
fn shims(e: &Engine) -> Vec<i32> {
    let daemon = e.daemon.as_ref().map(|d| d.id() as i32);
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        if !comm.ends_with("(vessel-shim") {
            continue;
        }
        let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<i32>().ok());
        let ours = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| target.starts_with(e.dir.path()));
        if ours || (daemon.is_some() && ppid == daemon) {
            found.push(pid);
        }
    }
    found
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
    assert_all_removed(&e, &[id]);
}
