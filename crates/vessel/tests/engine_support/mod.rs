//! A real vesseld for the engine's end-to-end tests: its own state and
//! runtime roots, the built-in busybox image imported, and the `vessel`
//! CLI pointed at it. Needs root (CI runs as root).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub struct Engine {
    pub dir: tempfile::TempDir,
    pub daemon: Option<Child>,
    /// A filesystem mounted for the state root, unmounted at the end.
    small_root: bool,
}

impl Engine {
    /// Starts vesseld and imports busybox:latest.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// [`Engine::start`] with the state root on a tmpfs of `size` (a
    /// `size=` mount option), to be filled.
    pub fn start_on_tmpfs(size: &str) -> Self {
        Self::start_with(Some(size))
    }

    fn start_with(tmpfs: Option<&str>) -> Self {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the engine tests need root"
        );
        // Short: a shim's socket path (exec root + 64-digit id) must fit
        // in a unix socket address.
        let dir = tempfile::Builder::new()
            .prefix("v")
            .tempdir_in("/run")
            .unwrap();
        let mut e = Engine {
            dir,
            daemon: None,
            small_root: tmpfs.is_some(),
        };
        if let Some(size) = tmpfs {
            std::fs::create_dir(e.root()).unwrap();
            let out = Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(e.root())
                .output()
                .unwrap();
            assert!(out.status.success(), "mounting the root: {out:?}");
        }
        e.launch();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/busybox-image.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_vessel"))
            .env("VESSEL_HOST", e.host())
            .output()
            .unwrap();
        assert!(out.status.success(), "importing busybox: {out:?}");
        e
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("lib")
    }

    pub fn exec_root(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    pub fn host(&self) -> String {
        format!("unix://{}/vessel.sock", self.exec_root().display())
    }

    /// Starts (or restarts) the daemon and waits for its socket.
    pub fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("vesseld.log"))
            .unwrap();
        let sock = self.exec_root().join("vessel.sock");
        let _ = std::fs::remove_file(&sock);
        let child = Command::new(env!("CARGO_BIN_EXE_vesseld"))
            .arg("--root")
            .arg(self.root())
            .arg("--exec-root")
            .arg(self.exec_root())
            .arg("--log-level")
            .arg("debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        // Long enough for a restore on a busy host; a daemon that exits
        // says so at once.
        for _ in 0..1200 {
            if std::os::unix::net::UnixStream::connect(&sock).is_ok() {
                return;
            }
            if let Some(status) = self
                .daemon
                .as_mut()
                .and_then(|d| d.try_wait().ok().flatten())
            {
                self.daemon = None;
                panic!("vesseld exited ({status}): {}", self.daemon_log());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("vesseld did not come up: {}", self.daemon_log());
    }

    /// SIGKILL to the daemon (containers keep running).
    pub fn kill_daemon(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
    }

    /// SIGTERM to the daemon, and waits for it to stop.
    pub fn stop_daemon(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(d.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = d.wait();
        }
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vesseld.log")).unwrap_or_default()
    }

    /// The stock docker CLI, pointed at this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", self.host())
            .output()
            .expect("the docker CLI is installed on this machine")
    }

    /// Runs `run -d OPTS busybox sleep 60` with `cli` (the docker CLI or
    /// vessel's) and checks that it is refused as a failure before the
    /// container runs (125), with a message that says `named`, and that
    /// it left nothing: no container, no directory.
    pub fn assert_run_refused(&self, cli: impl Fn(&[&str]) -> Output, opts: &[&str], named: &str) {
        let mut args = vec!["run", "-d", "--name", "refused"];
        args.extend(opts);
        args.extend(["busybox", "sleep", "60"]);
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(125), "{opts:?}: {out:?}");
        assert!(stderr(&out).contains(named), "{opts:?}: {}", stderr(&out));
        assert_eq!(self.ok(&["ps", "-aq"]), "", "{opts:?} left a container");
        let left: Vec<_> = std::fs::read_dir(self.root().join("containers"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{opts:?} left {left:?}");
    }

    pub fn vessel(&self, args: &[&str]) -> Output {
        self.vessel_with_stdin(args, None)
    }

    pub fn vessel_with_stdin(&self, args: &[&str], input: Option<&[u8]>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vessel"))
            .args(args)
            .env("VESSEL_HOST", self.host())
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(data) = input {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(data).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs `vessel ARGS`, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.vessel(args);
        assert!(
            out.status.success(),
            "vessel {args:?} failed: {}{}\n--- daemon log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.daemon_log()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn inspect(&self, name: &str, template: &str) -> String {
        self.ok(&["inspect", "-f", template, name])
            .trim()
            .to_string()
    }

    /// Polls until `f` holds (up to 10 s).
    pub fn eventually(&self, what: &str, f: impl Fn() -> bool) {
        for _ in 0..400 {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "timed out waiting for {what}\n--- daemon log:\n{}",
            self.daemon_log()
        );
    }

    /// The events so far that match `filter` (`key=value`).
    pub fn events(&self, filter: &str) -> Vec<serde_json::Value> {
        let out = self.ok(&[
            "events", "--since", "0", "--until", "0s", "--format", "json", "--filter", filter,
        ]);
        out.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Actions of the container's events so far.
    pub fn actions(&self, name: &str) -> Vec<String> {
        self.events(&format!("container={name}"))
            .iter()
            .map(|e| e["Action"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

impl Drop for Engine {
    /// Removes every container (the daemon may have been restarted), then
    /// stops the daemon.
    fn drop(&mut self) {
        if self.daemon.is_none() {
            self.launch();
        }
        let ids = self.vessel(&["ps", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).lines() {
            let _ = self.vessel(&["rm", "-f", id]);
        }
        // The networks a test made (their bridges are the host's).
        let _ = self.vessel(&["network", "prune", "-f"]);
        if let Some(mut d) = self.daemon.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(d.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = d.wait();
        }
        if self.small_root {
            let _ = Command::new("umount").arg("-l").arg(self.root()).status();
        }
    }
}

/// Every `vessel-shim` process on the host, with its parent's pid.
pub fn vessel_shims() -> Vec<(i32, Option<i32>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        if comm.ends_with("(vessel-shim") {
            found.push((pid, rest.split(' ').nth(1).and_then(|p| p.parse().ok())));
        }
    }
    found
}

/// The cgroup directories of container `id` in any hierarchy.
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .map(|e| e.path().join("vessel").join(id))
        .filter(|p| p.exists())
        .collect()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
