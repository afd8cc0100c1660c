//! The Docker SDK for Python (7.1.0, in a virtualenv the test makes once
//! under cargo's target directory) against a real vesseld: what it reads
//! of an exec's output, which it reads from the raw socket after the
//! `101` (not through its HTTP library's buffer), arrives whole; framed
//! or raw as the start asks; a failed exec's code is Docker's; and an
//! attach for the log alone ends.

mod engine_support;

use std::path::PathBuf;
use std::process::Command;

use engine_support::*;

/// The virtualenv's python, made (with `docker==7.1.0` from PyPI) if it
/// is not there yet.
fn sdk_python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docker-sdk-7.1.0");
    let python = venv.join("bin/python");
    let ready = venv.join(".installed");
    if !ready.exists() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "python3 -m venv (python3-venv)"
        );
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "docker==7.1.0"])
            .status();
        assert!(pip.is_ok_and(|s| s.success()), "pip install docker==7.1.0");
        std::fs::write(&ready, "").unwrap();
    }
    python
}

const SCRIPT: &str = r#"
import sys, docker
client = docker.DockerClient(base_url=sys.argv[1])
c = client.containers.get("keep")
lost = []
for i in range(60):
    r = c.exec_run(["echo", f"hello-{i}"])
    if r.exit_code != 0 or r.output != f"hello-{i}\n".encode():
        lost.append(("exec_run", i, r.exit_code, r.output))
for i in range(20):
    out = b"".join(c.exec_run(["echo", f"stream-{i}"], stream=True).output)
    if out != f"stream-{i}\n".encode():
        lost.append(("stream", i, out))
r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
if r.output != (b"out\n", b"err\n"):
    lost.append(("demux", r.output))
# The start's Tty says whether the stream is framed, whatever the exec
# was created with, as dockerd has it.
api = client.api
e = api.exec_create("keep", ["echo", "hi"], tty=True)
out = api.exec_start(e["Id"], tty=False)
if out != b"hi\r\n":
    lost.append(("tty exec, framed start", out))
e = api.exec_create("keep", ["echo", "hi"], tty=False)
out = api.exec_start(e["Id"], tty=True)
if out != b"hi\n":
    lost.append(("exec, raw start", out))
# Docker's code for an exec that cannot start: 126, missing or not.
for cmd in (["no-such-command"], ["/etc/passwd"]):
    r = c.exec_run(cmd)
    if r.exit_code != 126:
        lost.append(("exit code", cmd, r.exit_code, r.output))
# An attach to a stopped container with logs and no stream: its log,
# framed, and the end, as dockerd gives it.
done = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], detach=True)
done.wait()
out = done.attach(stdout=True, stderr=True, logs=True, stream=False)
if out != b"out\nerr\n":
    lost.append(("attach logs", out))
print(lost)
"#;

#[test]
fn the_python_sdk_reads_every_exec_whole() {
    let python = sdk_python();
    let e = Engine::start();
    e.ok(&["run", "-d", "--name", "keep", "busybox", "sleep", "300"]);
    let out = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(e.host())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "[]\n", "{}", stderr(&out));
}
