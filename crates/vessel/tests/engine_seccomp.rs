//! Docker's seccomp confinement, end to end through the stock docker CLI
//! and a real vesseld: a default container (and each of its execs) runs
//! under Docker's default profile, which refuses calls its capabilities
//! alone would allow; `seccomp=unconfined` and `--privileged` lift it; a
//! profile of the user's is carried out, and a bad one refused by name;
//! and each profile is compiled once, then loaded from the cache.

mod engine_support;

use engine_support::*;

/// `Seccomp:` of a `/proc/PID/status`: 0 none, 2 a filter.
fn seccomp_mode(status: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .unwrap_or_else(|| panic!("no Seccomp in {status}"))
        .trim()
        .to_string()
}

fn spec_of(e: &Engine, name: &str) -> serde_json::Value {
    let id = e.inspect(name, "{{.Id}}");
    let path = e
        .root()
        .join("containers")
        .join(id)
        .join("bundle/config.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The compiled filters kept under the exec root.
fn cached(e: &Engine) -> Vec<String> {
    let dir = e.exec_root().join("runtime/.seccomp");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|f| f.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `swapon` of a file that is not swap: EINVAL from the kernel with
/// CAP_SYS_ADMIN, unless a filter refuses the call first (EPERM).
const SWAPON: &str = "dd if=/dev/zero of=/s bs=4096 count=20 2>/dev/null; swapon /s";

/// Runs a probe with CAP_SYS_ADMIN and `opts`, and checks that it ran
/// under Docker's profile: a clone without namespace flags is allowed (a
/// pipeline forks), swapon is refused before the kernel sees it.
fn assert_filtered(e: &Engine, opts: &[&str]) {
    let script = format!("grep Seccomp: /proc/self/status; echo forked | cat; {SWAPON}");
    let mut args = vec!["run", "--rm", "--cap-add", "SYS_ADMIN"];
    args.extend(opts);
    args.extend(["busybox", "sh", "-c", &script]);
    let out = e.docker(&args);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(seccomp_mode(&stdout(&out)), "2", "{opts:?}: {text}");
    assert!(stdout(&out).contains("forked"), "{opts:?}: {text}");
    assert!(
        stderr(&out).contains("swapon: /s: Operation not permitted"),
        "{opts:?}: {text}"
    );
}

#[test]
fn a_default_container_and_its_execs_run_under_dockers_profile() {
    let e = Engine::start();
    assert_filtered(&e, &[]);
    let out = e.docker(&[
        "run",
        "--rm",
        "--cap-add",
        "SYS_ADMIN",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "sh",
        "-c",
        &format!("grep Seccomp: /proc/self/status; {SWAPON}"),
    ]);
    assert_eq!(seccomp_mode(&stdout(&out)), "0", "{out:?}");
    assert!(stderr(&out).contains("Invalid argument"), "{out:?}");

    // From the host: the first process and an exec, and the spec.
    e.ok(&["run", "-d", "--name", "conf", "busybox", "sleep", "60"]);
    let pid = e.inspect("conf", "{{.State.Pid}}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(seccomp_mode(&status), "2");
    let out = e.docker(&[
        "exec",
        "conf",
        "sh",
        "-c",
        "grep Seccomp: /proc/self/status; unshare -m true",
    ]);
    assert_eq!(seccomp_mode(&stdout(&out)), "2", "{out:?}");
    assert!(stderr(&out).contains("Operation not permitted"), "{out:?}");
    let spec = spec_of(&e, "conf");
    let seccomp = &spec["linux"]["seccomp"];
    assert_eq!(seccomp["defaultAction"], "SCMP_ACT_ERRNO", "{seccomp}");
    assert_eq!(
        seccomp["syscalls"].as_array().unwrap().len(),
        12,
        "{seccomp}"
    );
    // Compiled once: every container since found it in the cache.
    assert_eq!(cached(&e).len(), 2, "{:?}", cached(&e));
    e.ok(&["run", "--rm", "busybox", "true"]);
    assert_eq!(cached(&e).len(), 2, "{:?}", cached(&e));
}

#[test]
fn a_container_libcontainer_makes_runs_under_the_same_profile() {
    // The host's pid namespace: libcontainer's builder makes it, and
    // compiles the filter itself, with the same meaning (a clone without
    // namespace flags allowed, one with them refused).
    let e = Engine::start();
    assert_filtered(&e, &["--pid", "host"]);
    let out = e.docker(&[
        "run", "--rm", "--pid", "host", "busybox", "unshare", "-m", "true",
    ]);
    assert!(stderr(&out).contains("Operation not permitted"), "{out:?}");
}

#[test]
fn privileged_and_unconfined_containers_have_no_filter() {
    let e = Engine::start();
    for opts in [
        &["--privileged"][..],
        &["--security-opt", "seccomp=unconfined"],
    ] {
        let mut args = vec!["run", "-d", "--name", "free"];
        args.extend(opts);
        args.extend(["busybox", "sleep", "60"]);
        e.ok(&args);
        let pid = e.inspect("free", "{{.State.Pid}}");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert_eq!(seccomp_mode(&status), "0", "{opts:?}");
        assert!(
            spec_of(&e, "free")["linux"]["seccomp"].is_null(),
            "{opts:?}"
        );
        e.ok(&["rm", "-f", "free"]);
    }
}

#[test]
fn a_users_profile_is_carried_out_and_a_bad_one_refused_by_name() {
    let e = Engine::start();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{
          "defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
          ]
        }"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    // The docker CLI and vessel's both send the file's profile.
    let out = e.docker(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        "busybox",
        "mkdir",
        "/x",
    ]);
    assert!(
        stderr(&out).contains("can't create directory '/x': Permission denied"),
        "{out:?}"
    );
    let out = e.vessel(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        "busybox",
        "sh",
        "-c",
        "touch /y && mkdir /x",
    ]);
    assert!(stderr(&out).contains("Permission denied"), "{out:?}");

    std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]}"#).unwrap();
    let cli = |args: &[&str]| e.docker(args);
    e.assert_run_refused(cli, &["--security-opt", &opt], "HostConfig.SecurityOpt[0]");
    let out = e.docker(&["run", "--rm", "--security-opt", &opt, "busybox", "true"]);
    assert!(stderr(&out).contains("syscalls[0].action"), "{out:?}");
    std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#).unwrap();
    e.assert_run_refused(
        cli,
        &["--security-opt", &opt],
        "seccomp notify is not supported",
    );
}
