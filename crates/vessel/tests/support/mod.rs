//! Shared pieces of the end-to-end tests: a busybox rootfs, bundles, and
//! running `vessel`. These tests need root (CI runs as root): they create
//! real containers, cgroups and mounts, and check them from the host.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::{json, Value};

pub fn vessel_bin() -> &'static str {
    env!("CARGO_BIN_EXE_vessel")
}

/// The busybox rootfs, built once by `scripts/busybox-rootfs.sh`.
pub fn rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(|| {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the runtime tests need root"
        );
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("busybox-rootfs");
        if !dir.join("bin/busybox").exists() {
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/busybox-rootfs.sh");
            let status = Command::new("bash").arg(script).arg(&dir).status().unwrap();
            assert!(status.success(), "building the busybox rootfs failed");
        }
        dir
    })
}

/// A lean OCI spec running `args` in the busybox rootfs.
pub fn spec(args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
            "cwd": "/",
            "noNewPrivileges": true
        },
        "root": {"path": rootfs(), "readonly": true},
        "hostname": "vessel-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "seccomp": {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["swapon"], "action": "SCMP_ACT_ERRNO"}]
            }
        }
    })
}

/// A state root and bundles for one test, removed afterwards.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Env {
    pub fn new() -> Self {
        rootfs();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        Env { dir, root }
    }

    /// Writes a bundle named `name` holding `spec`.
    pub fn bundle(&self, name: &str, spec: &Value) -> PathBuf {
        let b = self.dir.path().join(name);
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(
            b.join("config.json"),
            serde_json::to_vec_pretty(spec).unwrap(),
        )
        .unwrap();
        b
    }

    /// `vessel runtime --root <root> args...`, to be run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(vessel_bin());
        command
            .arg("runtime")
            .arg("--root")
            .arg(&self.root)
            .args(args);
        command
    }

    /// Runs `vessel runtime --root <root> args...`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, b"")
    }

    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "vessel runtime {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `verb` (`create` or `run`) of `spec` as container `id`, which must
    /// fail (exit code 1) and leave nothing behind; returns its stderr.
    pub fn fails(&self, verb: &str, id: &str, spec: &Value) -> String {
        let b = self.bundle(id, spec);
        let out = self.run(&[verb, "--bundle", b.to_str().unwrap(), id]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_gone(self, id);
        stderr
    }

    /// `run --keep` of `spec` as container `id` in the foreground, which
    /// must exit 0; returns its stdout. The stopped container stays.
    pub fn run_kept(&self, id: &str, spec: &Value) -> String {
        let b = self.bundle(id, spec);
        let out = self.run(&["run", "--keep", "--bundle", b.to_str().unwrap(), id]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{id}: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// `create` + `start` of `args`, detached; returns the bundle.
    pub fn start(&self, id: &str, spec: &Value) -> PathBuf {
        let b = self.bundle(id, spec);
        self.ok(&["create", "--bundle", b.to_str().unwrap(), id]);
        self.ok(&["start", id]);
        b
    }

    pub fn state(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["state", id])).unwrap()
    }

    /// Polls `state` until the container stops; returns its exit code.
    pub fn wait_stopped(&self, id: &str) -> i64 {
        for _ in 0..200 {
            let s = self.state(id);
            if s["status"] == "stopped" {
                return s["exit"]["code"].as_i64().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("container {id} did not stop");
    }
}

impl Drop for Env {
    /// A failed test must not leave containers running on the machine.
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            if let Some(id) = entry.file_name().to_str() {
                let _ = self.run(&["delete", "--force", id]);
            }
        }
    }
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

/// Every cgroup directory named `vessel/<id>` in any hierarchy.
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        for candidate in [
            entry.path().join("vessel").join(id),
            PathBuf::from("/sys/fs/cgroup/vessel").join(id),
        ] {
            if candidate.exists() {
                found.push(candidate);
            }
        }
    }
    found
}

/// A field of the line the shim of container `id` logged when it had
/// created it (`through_builder`, `mounts_by_libcontainer`, ...).
pub fn created_log_field(env: &Env, id: &str, field: &str) -> String {
    let log = std::fs::read_to_string(env.root.join(id).join("shim.log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("container created"))
        .unwrap_or_else(|| panic!("no create in the shim's log:\n{log}"));
    let (_, rest) = line
        .split_once(&format!(" {field}="))
        .unwrap_or_else(|| panic!("no {field} in {line}"));
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap().to_string(),
        None => rest.split(' ').next().unwrap().to_string(),
    }
}

/// Mount points whose path mentions `needle`.
pub fn mounts_with(needle: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.contains(needle))
        .map(String::from)
        .collect()
}

/// Whether a process with this PID exists (and is not a zombie).
pub fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split(" ").nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false)
}

/// A container ID unique to this test run.
pub fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// Asserts that nothing of container `id` remains under `root`.
pub fn assert_gone(env: &Env, id: &str) {
    assert!(
        !env.root.join(id).exists(),
        "state directory of {id} left behind"
    );
    assert!(
        cgroup_dirs(id).is_empty(),
        "cgroups of {id} left behind: {:?}",
        cgroup_dirs(id)
    );
    assert!(
        mounts_with(&format!("/{id}/")).is_empty(),
        "mounts of {id} left behind"
    );
}
