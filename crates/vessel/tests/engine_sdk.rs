//! The Docker SDK for Python (7.1.0, in a virtualenv the test makes once
//! under cargo's target directory) against a real vesseld: what it reads
//! of an exec's output, which it reads from the raw socket after the
//! `101` (not through its HTTP library's buffer), arrives whole; framed
//! or raw as the start asks; a failed exec's code is Docker's; and an
//! attach for the log alone ends. And images: pull, push, save, load,
//! commit, prune and df through the SDK against a registry on loopback.

mod engine_support;
mod registry_support;

use std::path::PathBuf;
use std::process::Command;

use engine_support::*;

/// The virtualenv's python, made (with `docker==7.1.0` from PyPI) if it
/// is not there yet; made once however many tests ask at the same time.
fn sdk_python() -> PathBuf {
    static MADE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MADE.get_or_init(make_sdk_venv).clone()
}

fn make_sdk_venv() -> PathBuf {
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

const LIFE: &str = r#"
import sys, struct, threading, docker
client = docker.DockerClient(base_url=sys.argv[1])
wrong = []
def check(what, got, want):
    if got != want:
        wrong.append((what, got, want))

# Attached and removed, and detached.
check("run attached", client.containers.run("busybox", ["echo", "hi"], remove=True), b"hi\n")
c = client.containers.run("busybox", ["sh", "-c", "i=1; while [ $i -le 300 ]; do echo line $i; i=$((i+1)); done"], detach=True)
followed = b"".join(c.logs(stream=True, follow=True))
check("logs followed", followed, b"".join(b"line %d\n" % i for i in range(1, 301)))
check("wait", c.wait()["StatusCode"], 0)
check("logs", c.logs(), followed)
check("logs tail", c.logs(tail=2), b"line 299\nline 300\n")
c.remove()

# Kill and its code; stats, once and streamed.
c = client.containers.run("busybox", ["sleep", "300"], detach=True)
s = c.stats(stream=False)
check("stats once", all(k in s for k in ("cpu_stats", "memory_stats", "pids_stats")), True)
stream = c.stats(stream=True, decode=True)
check("stats streamed", [("memory_stats" in next(stream)) for _ in range(2)], [True, True])
stream.close()
c.kill()
check("killed", c.wait()["StatusCode"], 137)
c.reload()
check("status", c.status, "exited")
c.remove()

# Attach: the output of a run, whole; a socket that feeds stdin.
c = client.containers.create("busybox", ["sh", "-c", "sleep 0.3; i=1; while [ $i -le 100 ]; do echo out $i; i=$((i+1)); done"])
out = c.attach(stream=True, stdout=True, stderr=True)
c.start()
check("attach", b"".join(out), b"".join(b"out %d\n" % i for i in range(1, 101)))
c.remove()
# An attach ends once the exit is recorded: a remove right after finds
# the container stopped, every time.
for i in range(10):
    c = client.containers.create("busybox", ["echo", f"run {i}"])
    out = c.attach(stream=True, stdout=True, stderr=True)
    c.start()
    check("attach then remove", b"".join(out), f"run {i}\n".encode())
    c.remove()
c = client.containers.run("busybox", ["sh", "-c", "read line; echo got $line"], detach=True, stdin_open=True)
sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
sock._sock.sendall(b"ping\n")
frames = b""
while True:
    chunk = sock._sock.recv(4096)
    if not chunk:
        break
    frames += chunk
sock._sock.close()
payload = b""
while len(frames) >= 8:
    kind, size = struct.unpack(">BxxxL", frames[:8])
    payload += frames[8:8 + size]
    frames = frames[8 + size:]
check("attach socket", payload, b"got ping\n")
check("attach socket exit", c.wait()["StatusCode"], 0)
c.remove()

# Hundreds of execs, serial and from several threads, and a terminal.
c = client.containers.run("busybox", ["sleep", "300"], detach=True)
check("exec tty", c.exec_run(["echo", "hi"], tty=True).output, b"hi\r\n")
for i in range(300):
    r = c.exec_run(["echo", f"serial-{i}"])
    check("exec", (r.exit_code, r.output), (0, f"serial-{i}\n".encode()))
def execs(t):
    for i in range(75):
        r = c.exec_run(["sh", "-c", f"echo thread-{t}-{i}; echo err-{t}-{i} >&2"], demux=True)
        check("exec threaded", r.output, (f"thread-{t}-{i}\n".encode(), f"err-{t}-{i}\n".encode()))
threads = [threading.Thread(target=execs, args=(t,)) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
c.remove(force=True)
print(wrong[:5], len(wrong))
"#;

#[test]
fn the_python_sdk_drives_a_containers_whole_life() {
    let python = sdk_python();
    let e = Engine::start();
    let out = Command::new(python)
        .arg("-c")
        .arg(LIFE)
        .arg(e.host())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "[] 0\n", "{}", stderr(&out));
    assert_eq!(e.ok(&["ps", "-aq"]), "");
}

const IMAGES: &str = r#"
import sys, docker
client = docker.DockerClient(base_url=sys.argv[1])
reg = sys.argv[2]
wrong = []
def check(what, got, want):
    if got != want:
        wrong.append((what, got, want))

img = client.images.pull(f"{reg}/app", tag="v1")
check("pulled", img.tags, [f"{reg}/app:v1"])
check("run", client.containers.run(img.id, ["cat", "/etc/kept"], remove=True), b"kept")
lines = list(client.api.pull(f"{reg}/app", tag="v1", stream=True, decode=True))
check("pulled again", lines[-1]["status"], f"Status: Image is up to date for {reg}/app:v1")

img.tag(f"{reg}/copy", "v2")
out = list(client.images.push(f"{reg}/copy", tag="v2", stream=True, decode=True))
aux = [l["aux"] for l in out if "aux" in l]
check("push aux", [a["Tag"] for a in aux], ["v2"])

data = b"".join(img.save(named=True))
client.images.remove(f"{reg}/copy:v2")
client.images.remove(f"{reg}/app:v1")
loaded = client.images.load(data)
check("loaded", [i.id for i in loaded], [img.id])
check("loaded tags", client.images.get(img.id).tags, [f"{reg}/app:v1"])

c = client.containers.run(img.id, ["sh", "-c", "echo x > /x"], detach=True)
c.wait()
new = c.commit(repository="committed", tag="1", changes=["ENV Z=1"], message="by the sdk")
check("commit env", "Z=1" in new.attrs["Config"]["Env"], True)
check("commit comment", new.attrs["Comment"], "by the sdk")
c.remove()
check("df", sorted(i["Id"] for i in client.df()["Images"]) == sorted(i.id for i in client.images.list()), True)
pruned = client.images.prune(filters={"dangling": False})
check("prune", pruned["ImagesDeleted"] is not None and pruned["SpaceReclaimed"] > 0, True)
print(wrong)
"#;

#[test]
fn the_python_sdk_pulls_pushes_saves_loads_and_commits() {
    let python = sdk_python();
    let r = registry_support::Registry::start();
    let e = Engine::start();
    let work = tempfile::tempdir().unwrap();
    let l = registry_support::Layout::new(work.path(), "v1");
    l.add_layer(&registry_support::busybox_layer());
    l.add_layer(&registry_support::layer(&[
        ("etc/", ""),
        ("etc/kept", "kept"),
    ]));
    r.push(&l.path, "v1", "app", &[]);
    let out = Command::new(python)
        .arg("-c")
        .arg(IMAGES)
        .arg(e.host())
        .arg(&r.addr)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "[]\n", "{}", stderr(&out));
}

const NETWORKS: &str = r#"
import socket, sys, time, docker
client = docker.DockerClient(base_url=sys.argv[1])
port = int(sys.argv[2])
wrong = []
def check(what, got, want):
    if got != want:
        wrong.append((what, got, want))

net = client.networks.create("sdknet", driver="bridge", labels={"team": "a"},
    ipam=docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet="10.232.9.0/24", gateway="10.232.9.1")]))
check("subnet", net.attrs["IPAM"]["Config"][0]["Subnet"], "10.232.9.0/24")
web = client.containers.run("busybox", ["sh", "-c",
    "mkdir /w && echo sdk > /w/index.html && exec httpd -f -p 80 -h /w"],
    detach=True, name="sdkweb", network="sdknet", ports={"80/tcp": ("127.0.0.1", port)})
web.reload()
check("ports", web.ports, {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]})
body = b""
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        body = b"".join(iter(lambda: s.recv(4096), b""))
        break
    except OSError:
        time.sleep(0.05)
check("published", body.split(b"\r\n\r\n")[-1], b"sdk\n")
out = client.containers.run("busybox", ["wget", "-qO-", "http://sdkweb/"], network="sdknet", remove=True)
check("by name", out, b"sdk\n")
net.reload()
check("members", [c.name for c in net.containers], ["sdkweb"])
check("listed", [n.name for n in client.networks.list(filters={"label": "team=a"})], ["sdknet"])
web.remove(force=True)
check("pruned", client.networks.prune()["NetworksDeleted"], ["sdknet"])
print(wrong)
"#;

#[test]
fn the_python_sdk_manages_networks_and_ports() {
    let python = sdk_python();
    let e = Engine::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(python)
        .arg("-c")
        .arg(NETWORKS)
        .arg(e.host())
        .arg(port.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}\n{}", e.daemon_log());
    assert_eq!(stdout(&out), "[]\n", "{}", stderr(&out));
}

const VOLUMES: &str = r#"
import io, sys, tarfile, time, docker
client = docker.DockerClient(base_url=sys.argv[1])
wrong = []
def check(what, got, want):
    if got != want:
        wrong.append((what, got, want))

v = client.volumes.create("sdkdata", labels={"team": "a"})
check("volume", (v.name, v.attrs["Driver"], v.attrs["Labels"]), ("sdkdata", "local", {"team": "a"}))
out = client.containers.run("busybox", ["sh", "-c", "echo hi > /d/f; cat /d/f"],
                            volumes={"sdkdata": {"bind": "/d", "mode": "rw"}}, remove=True)
check("run with a volume", out, b"hi\n")
check("listed", [x.name for x in client.volumes.list(filters={"label": "team=a"})], ["sdkdata"])

c = client.containers.run("busybox", ["sleep", "60"], detach=True, name="sdkbox",
                          mounts=[docker.types.Mount("/m", "sdkdata", type="volume")])
try:
    client.volumes.get("sdkdata").remove()
    wrong.append("removed in use")
except docker.errors.APIError as e:
    check("in use", e.status_code, 409)

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    info = tarfile.TarInfo("put.txt"); data = b"from the sdk"; info.size = len(data)
    t.addfile(info, io.BytesIO(data))
check("put_archive", c.put_archive("/tmp", buf.getvalue()), True)
stream, stat = c.get_archive("/tmp/put.txt")
check("stat", (stat["name"], stat["size"]), ("put.txt", 12))
got = tarfile.open(fileobj=io.BytesIO(b"".join(stream)))
check("get_archive", got.extractfile("put.txt").read(), b"from the sdk")
c.remove(force=True)

r = client.containers.run("busybox", ["sh", "-c", "exit 1"], detach=True,
                          restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
for _ in range(100):
    r.reload()
    if r.status == "exited" and r.attrs["RestartCount"] == 2:
        break
    time.sleep(0.05)
check("restarts", (r.status, r.attrs["RestartCount"]), ("exited", 2))
r.remove()

h = client.containers.run("busybox", ["sleep", "60"], detach=True,
                          healthcheck={"test": ["CMD", "true"], "interval": 100_000_000})
for _ in range(100):
    h.reload()
    if h.attrs["State"].get("Health", {}).get("Status") == "healthy":
        break
    time.sleep(0.05)
check("health", h.attrs["State"]["Health"]["Status"], "healthy")
h.remove(force=True)
check("prune", client.volumes.prune(filters={"all": "true"})["VolumesDeleted"], ["sdkdata"])
print(wrong)
"#;

#[test]
fn the_python_sdk_uses_volumes_archives_restart_policies_and_health_checks() {
    let python = sdk_python();
    let e = Engine::start();
    let out = Command::new(python)
        .arg("-c")
        .arg(VOLUMES)
        .arg(e.host())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}\n{}", e.daemon_log());
    assert_eq!(stdout(&out), "[]\n", "{}", stderr(&out));
}
