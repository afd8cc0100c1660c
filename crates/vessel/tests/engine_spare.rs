//! End to end through the real vesseld: the spare shim it keeps started
//! ahead of the next container, and the cgroups that spare makes for it.

mod engine_support;

use engine_support::*;

/// The daemon's children that are shims still waiting for a request (a
/// container's shim has pointed its stdin at /dev/null).
fn spare_shims(e: &Engine) -> Vec<i32> {
    let daemon = e.daemon.as_ref().expect("the daemon runs").id() as i32;
    vessel_shims()
        .into_iter()
        .filter(|&(pid, ppid)| {
            let stdin = std::fs::read_link(format!("/proc/{pid}/fd/0")).unwrap_or_default();
            ppid == Some(daemon) && stdin.to_string_lossy().starts_with("pipe:")
        })
        .map(|(pid, _)| pid)
        .collect()
}

/// The placeholder cgroups of spare shim `pid`, in every hierarchy.
fn spare_cgroups(pid: i32) -> Vec<std::path::PathBuf> {
    std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .map(|h| h.path().join(format!("vessel/spare-{pid}")))
        .filter(|d| d.exists())
        .collect()
}

/// The spare shim, once it has made its cgroups.
fn spare_with_cgroups(e: &Engine) -> i32 {
    e.eventually("a spare shim in its cgroups", || {
        spare_shims(e)
            .first()
            .is_some_and(|&p| !spare_cgroups(p).is_empty())
    });
    spare_shims(e)[0]
}

/// Waits until spare `pid` has exited (`what`), then finds its cgroups
/// gone too.
fn gone_with_its_cgroups(e: &Engine, pid: i32, what: &str) {
    e.eventually(what, || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    assert!(spare_cgroups(pid).is_empty(), "{:?}", spare_cgroups(pid));
}

/// Whether `dir` is in a hierarchy that accounts memory or CPU time.
fn accounts(dir: &std::path::Path) -> bool {
    dir.join("memory.usage_in_bytes").exists() || dir.join("cpuacct.usage").exists()
}

/// Whether `pid` is in each of `dirs`.
fn in_cgroups(pid: i32, dirs: &[std::path::PathBuf]) -> bool {
    dirs.iter().all(|d| {
        std::fs::read_to_string(d.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .any(|l| l == pid.to_string())
    })
}

#[test]
fn a_spare_shim_waits_for_the_next_container_and_leaves_with_the_daemon() {
    let mut e = Engine::start();
    e.eventually("a spare shim", || spare_shims(&e).len() == 1);
    let first = spare_shims(&e)[0];
    // It waits inside the cgroups it made for its container, but for those
    // whose accounting of it would stay the container's.
    e.eventually("the spare in its cgroups", || {
        let (accounting, others): (Vec<_>, Vec<_>) =
            spare_cgroups(first).into_iter().partition(|d| accounts(d));
        !accounting.is_empty()
            && !others.is_empty()
            && in_cgroups(first, &others)
            && !accounting
                .iter()
                .any(|d| in_cgroups(first, std::slice::from_ref(d)))
    });
    assert_eq!(e.ok(&["run", "--rm", "busybox", "echo", "hi"]), "hi\n");
    // The spare became that container's shim (and is gone with it, its
    // cgroups too); a new one waits.
    e.eventually("a new spare shim", || {
        let now = spare_shims(&e);
        now.len() == 1 && now[0] != first
    });
    gone_with_its_cgroups(&e, first, "the first spare's end with its container");
    let second = spare_shims(&e)[0];
    e.eventually("the second spare in its cgroups", || {
        !spare_cgroups(second).is_empty()
    });
    e.kill_daemon();
    gone_with_its_cgroups(&e, second, "the spare to leave with the daemon");
}

#[test]
fn a_container_made_by_a_spare_has_its_cgroups_to_itself() {
    let e = Engine::start();
    let spare = spare_with_cgroups(&e);
    let id = e.ok(&[
        "run",
        "-d",
        "--memory",
        "64m",
        "--pids-limit",
        "40",
        "busybox",
        "sleep",
        "60",
    ]);
    let id = id.trim();
    let pid: i32 = e.inspect(id, "{{.State.Pid}}").trim().parse().unwrap();
    let dirs = cgroup_dirs(id);
    assert!(dirs.len() >= 4, "{dirs:?}");
    // Only the container's process is in them: the shim went back to its
    // own cgroups.
    for dir in &dirs {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert_eq!(procs.trim(), pid.to_string(), "{}", dir.display());
    }
    let own = std::fs::read_to_string(format!("/proc/{spare}/cgroup")).unwrap();
    assert!(!own.contains("/vessel/"), "{own}");
    let read = |ctrl: &str, file: &str| {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{ctrl}/vessel/{id}/{file}")).unwrap()
    };
    assert_eq!(read("memory", "memory.limit_in_bytes").trim(), "67108864");
    assert_eq!(read("pids", "pids.max").trim(), "40");
    assert!(spare_cgroups(spare).is_empty());
    e.ok(&["rm", "-f", id]);
    assert!(cgroup_dirs(id).is_empty(), "{:?}", cgroup_dirs(id));
}

#[test]
fn the_cgroups_of_a_killed_spare_are_removed_by_the_next_one() {
    let e = Engine::start();
    let killed = spare_with_cgroups(&e);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(killed),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // A zombie until the daemon next looks at its spare.
    e.eventually("the killed spare's end", || {
        let stat = std::fs::read_to_string(format!("/proc/{killed}/stat")).unwrap_or_default();
        stat.split_once(") ")
            .is_none_or(|(_, rest)| rest.starts_with('Z'))
    });
    assert!(
        !spare_cgroups(killed).is_empty(),
        "left by the killed spare"
    );
    // The daemon finds its spare dead and starts a shim afresh; the spare
    // started after that create sweeps the leftovers.
    assert_eq!(e.ok(&["run", "--rm", "busybox", "echo", "hi"]), "hi\n");
    e.eventually("the killed spare's cgroups to go", || {
        spare_cgroups(killed).is_empty()
    });
}
