//! Health checks through the stock docker CLI and the `vessel` CLI
//! against a real vesseld: healthy and unhealthy within the expected
//! intervals, the start period, timeouts, the image's `HEALTHCHECK` and
//! `--no-healthcheck`, `State.Health` and its log, `health_status`
//! events, `ps`'s status and filter, and checks that go on after the
//! daemon is killed.

mod engine_support;

use std::io::Read;
use std::time::{Duration, Instant};

use engine_support::*;
use sha2::{Digest, Sha256};

fn health(e: &Engine, name: &str) -> serde_json::Value {
    let out = e.inspect(name, "{{json .State.Health}}");
    serde_json::from_str(&out).unwrap()
}

fn status(e: &Engine, name: &str) -> String {
    health(e, name)["Status"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

/// Waits until the container's health is `want`; the time it took.
fn wait_for(e: &Engine, name: &str, want: &str) -> Duration {
    let t0 = Instant::now();
    e.eventually(&format!("{name} {want}"), || status(e, name) == want);
    t0.elapsed()
}

#[test]
fn a_check_makes_a_container_healthy_then_unhealthy_with_its_log_and_events() {
    let e = Engine::start();
    let out = e.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "--health-cmd",
        "cat /tmp/ok",
        "--health-interval",
        "100ms",
        "--health-retries",
        "2",
        // Its failures before the file is there do not count.
        "--health-start-period",
        "10s",
        "--health-start-interval",
        "100ms",
        "busybox",
        "sh",
        "-c",
        "sleep 1; echo fine > /tmp/ok; sleep 60",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(status(&e, "web"), "starting");
    let ps = e.ok(&["ps", "--format", "{{.Status}}", "--filter", "name=web"]);
    assert!(ps.trim().ends_with("(health: starting)"), "{ps}");
    wait_for(&e, "web", "healthy");
    let h = health(&e, "web");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["ExitCode"].as_i64(), last["Output"].as_str()),
        (Some(0), Some("fine\n"))
    );
    assert_eq!(h["FailingStreak"], 0);
    let ps = stdout(&e.docker(&[
        "ps",
        "--format",
        "{{.Names}} {{.Status}}",
        "--filter",
        "health=healthy",
    ]));
    assert!(
        ps.starts_with("web Up ") && ps.trim().ends_with("(healthy)"),
        "{ps}"
    );
    // Two failures in a row: unhealthy, within a few intervals.
    e.ok(&["exec", "web", "rm", "/tmp/ok"]);
    let took = wait_for(&e, "web", "unhealthy");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let h = health(&e, "web");
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    let log = h["Log"].as_array().unwrap();
    assert!(log.len() <= 5, "{h}");
    let last = log.last().unwrap();
    assert_eq!(last["ExitCode"], 1);
    assert!(
        last["Output"].as_str().unwrap().contains("No such file"),
        "{last}"
    );
    let actions: Vec<String> = e
        .actions("web")
        .into_iter()
        .filter(|a| a.starts_with("health_status"))
        .collect();
    assert_eq!(
        actions,
        ["health_status: healthy", "health_status: unhealthy"]
    );
    // What a probe costs: its exec, start to end.
    let spans: Vec<i64> = log
        .iter()
        .filter_map(|r| {
            let t = |k: &str| chrono::DateTime::parse_from_rfc3339(r[k].as_str()?).ok();
            (t("End")? - t("Start")?).num_microseconds()
        })
        .collect();
    eprintln!("health probe (exec of cat), start to end: {spans:?} us");
}

#[test]
fn timeouts_and_the_start_period_count_as_docker_counts_them() {
    let e = Engine::start();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 5",
        "--health-timeout",
        "200ms",
        "--health-interval",
        "100ms",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "60",
    ]);
    wait_for(&e, "slow", "unhealthy");
    let h = health(&e, "slow");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], -1);
    assert_eq!(last["Output"], "Health check exceeded timeout (200ms)");
    // Within its start period a failing check leaves it starting.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "warming",
        "--health-cmd",
        "false",
        "--health-interval",
        "100ms",
        "--health-retries",
        "1",
        "--health-start-interval",
        "100ms",
        "--health-start-period",
        "2s",
        "busybox",
        "sleep",
        "60",
    ]);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(status(&e, "warming"), "starting");
    assert!(health(&e, "warming")["Log"].as_array().unwrap().len() >= 2);
    wait_for(&e, "warming", "unhealthy");
    // A stopped container's checks stop; its last health stays.
    e.ok(&["stop", "-t", "0", "warming"]);
    let n = health(&e, "warming")["Log"].as_array().unwrap().len();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(health(&e, "warming")["Log"].as_array().unwrap().len(), n);
}

/// `busybox` again as `NAME`, with `check` as its config's Healthcheck:
/// its saved tarball's config rewritten and loaded.
fn image_with_check(e: &Engine, name: &str, check: serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("in.tar");
    e.ok(&["save", "-o", saved.to_str().unwrap(), "busybox"]);
    let mut entries: Vec<(tar::Header, Vec<u8>)> = Vec::new();
    let mut archive = tar::Archive::new(std::fs::File::open(&saved).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        entries.push((entry.header().clone(), data));
    }
    let path = |h: &tar::Header| h.path().unwrap().display().to_string();
    let manifest_at = entries
        .iter()
        .position(|(h, _)| path(h) == "manifest.json")
        .unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&entries[manifest_at].1).unwrap();
    let config_path = manifest[0]["Config"].as_str().unwrap().to_string();
    let config_at = entries
        .iter()
        .position(|(h, _)| path(h) == config_path)
        .unwrap();
    let mut config: serde_json::Value = serde_json::from_slice(&entries[config_at].1).unwrap();
    config["config"]["Healthcheck"] = check;
    let bytes = serde_json::to_vec(&config).unwrap();
    let digest = format!("{:x}", Sha256::digest(&bytes));
    let new_path = config_path.replace(
        config_path
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".json"),
        &digest,
    );
    manifest[0]["Config"] = new_path.clone().into();
    manifest[0]["RepoTags"] = serde_json::json!([name]);
    entries[config_at].1 = bytes;
    entries[config_at].0.set_path(&new_path).unwrap();
    entries[manifest_at].1 = serde_json::to_vec(&manifest).unwrap();
    let out = dir.path().join("out.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&out).unwrap());
    for (mut h, data) in entries {
        h.set_size(data.len() as u64);
        h.set_cksum();
        builder.append(&h, &data[..]).unwrap();
    }
    builder.finish().unwrap();
    drop(builder);
    e.ok(&["load", "-i", out.to_str().unwrap()]);
}

#[test]
fn the_images_check_runs_unless_disabled_and_goes_on_after_a_daemon_crash() {
    let mut e = Engine::start();
    image_with_check(
        &e,
        "checked:1",
        serde_json::json!({"Test": ["CMD-SHELL", "test ! -e /tmp/bad"], "Interval": 100_000_000, "Retries": 1}),
    );
    e.ok(&["run", "-d", "--name", "img", "checked:1", "sleep", "60"]);
    wait_for(&e, "img", "healthy");
    assert_eq!(
        e.inspect("img", "{{json .Config.Healthcheck.Test}}"),
        r#"["CMD-SHELL","test ! -e /tmp/bad"]"#
    );
    // The container's own flags override the image's.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "off",
        "--no-healthcheck",
        "checked:1",
        "sleep",
        "60",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(e.inspect("off", "{{json .State.Health}}"), "null");
    assert_eq!(
        e.ok(&[
            "ps",
            "-q",
            "--filter",
            "health=none",
            "--filter",
            "name=off"
        ])
        .lines()
        .count(),
        1
    );
    // The daemon is killed: the status is kept, and the checks go on.
    e.kill_daemon();
    e.launch();
    assert_eq!(status(&e, "img"), "healthy");
    e.ok(&["exec", "img", "touch", "/tmp/bad"]);
    wait_for(&e, "img", "unhealthy");
}
