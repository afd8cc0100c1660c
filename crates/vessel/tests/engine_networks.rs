//! Networks end to end through the stock docker CLI and a real vesseld:
//! the default bridge, published ports (from 127.0.0.1, the host's own
//! address and other containers), user-defined networks with their DNS,
//! isolation, connect and disconnect, `container:` mode, ports across a
//! daemon crash, and nothing left on the host once it is all removed.
//! Traffic stays on this machine.

mod engine_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use engine_support::*;

/// `docker ARGS`, which must succeed; its stdout, trimmed.
fn docker(e: &Engine, args: &[&str]) -> String {
    let out = e.docker(args);
    assert!(
        out.status.success(),
        "docker {args:?}: {out:?}\n--- daemon log:\n{}",
        e.daemon_log()
    );
    stdout(&out).trim().to_string()
}

/// A busybox web server answering `text`, detached, with `opts`.
fn web(e: &Engine, name: &str, text: &str, opts: &[&str]) -> String {
    let script =
        format!("mkdir /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www");
    let mut args = vec!["run", "-d", "--name", name];
    args.extend(opts);
    args.extend(["busybox", "sh", "-c", &script]);
    docker(e, &args)
}

/// The body of `GET /` at `addr`, or why not.
fn get(addr: &str) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(
        &addr.parse().map_err(|e| format!("{e}"))?,
        Duration::from_secs(3),
    )
    .map_err(|e| format!("connecting to {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string())
}

/// `get`, tried for a while: a server in a new container takes a moment
/// to listen.
fn get_soon(e: &Engine, addr: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        match get(addr) {
            Ok(body) if !body.is_empty() => return body,
            Ok(_) => last = "an empty answer".into(),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let rules = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    panic!(
        "{addr}: {last}\n--- rules:\n{}\n--- daemon log:\n{}",
        String::from_utf8_lossy(&rules.stdout),
        e.daemon_log()
    );
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The host's first global IPv4 address, if it has one.
fn host_address() -> Option<String> {
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let word = text
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)?;
    Some(word.split('/').next()?.to_string())
}

/// The links that are ports of `bridge`.
fn ports_of(bridge: &str) -> String {
    let out = Command::new("ip")
        .args(["-o", "link", "show", "master", bridge])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn default_bridge(e: &Engine) -> String {
    docker(
        e,
        &[
            "network",
            "inspect",
            "bridge",
            "-f",
            "{{index .Options \"com.docker.network.bridge.name\"}}",
        ],
    )
}

fn nft_table(table: &str) -> Option<String> {
    let out = Command::new("nft")
        .args(["list", "table", "ip", table])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

#[test]
fn published_ports_reach_a_container_on_the_default_bridge() {
    let e = Engine::start();
    let bridge = default_bridge(&e);
    let port = free_port();
    web(&e, "web", "hello-bridge", &["-p", &format!("{port}:80")]);
    assert_eq!(get_soon(&e, &format!("127.0.0.1:{port}")), "hello-bridge");
    if let Some(ip) = host_address() {
        assert_eq!(get_soon(&e, &format!("{ip}:{port}")), "hello-bridge");
    }
    // Inspect, ps and port say what was done.
    let ip = docker(
        &e,
        &[
            "inspect",
            "-f",
            "{{.NetworkSettings.Networks.bridge.IPAddress}}",
            "web",
        ],
    );
    assert!(ip.starts_with("172.") || ip.starts_with("192.168."), "{ip}");
    assert_eq!(
        docker(
            &e,
            &["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web"]
        ),
        ip
    );
    assert_eq!(
        docker(&e, &["port", "web", "80"]),
        format!("0.0.0.0:{port}")
    );
    let ps = docker(
        &e,
        &["ps", "--format", "{{.Ports}}", "--filter", "name=web"],
    );
    assert!(ps.contains(&format!("0.0.0.0:{port}->80/tcp")), "{ps}");
    assert!(ports_of(&bridge).contains("veth"), "{}", ports_of(&bridge));
    // Another container reaches it by address; its own /etc/hosts names it.
    let got = docker(
        &e,
        &[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            &format!("wget -qO- http://{ip}/ && grep -c \"$(hostname)\" /etc/hosts"),
        ],
    );
    assert_eq!(got, "hello-bridge\n1");
    // -P publishes the exposed ports on free host ports.
    web(&e, "web2", "hello-all", &["-P", "--expose", "80"]);
    let mapped = docker(&e, &["port", "web2", "80/tcp"]);
    let host_port = mapped.rsplit(':').next().unwrap().to_string();
    assert_eq!(get_soon(&e, &format!("127.0.0.1:{host_port}")), "hello-all");
    // A port in use is refused at start, naming it; nothing of the
    // container stays plugged in. (First the veth of the `--rm` one above
    // goes: the kernel tears it down once its namespace is gone.)
    let until = std::time::Instant::now() + Duration::from_secs(3);
    while ports_of(&bridge).lines().count() != 2 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = ports_of(&bridge).lines().count();
    assert_eq!(before, 2, "{}", ports_of(&bridge));
    let out = e.docker(&[
        "run",
        "-d",
        "--name",
        "clash",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sleep",
        "60",
    ]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains("port is already allocated"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        docker(&e, &["inspect", "-f", "{{.State.Running}}", "clash"]),
        "false"
    );
    assert_eq!(ports_of(&bridge).lines().count(), before);
    // Taken off the network its ports lead to, a container loses them.
    docker(&e, &["network", "create", "side"]);
    docker(&e, &["network", "connect", "side", "web2"]);
    docker(&e, &["network", "disconnect", "bridge", "web2"]);
    assert!(get(&format!("127.0.0.1:{host_port}")).is_err());
    assert_eq!(docker(&e, &["port", "web2"]), "");
    // Everything goes with the containers.
    docker(&e, &["rm", "-f", "web", "web2", "clash"]);
    docker(&e, &["network", "rm", "side"]);
    assert_eq!(ports_of(&bridge), "");
    assert!(get(&format!("127.0.0.1:{port}")).is_err());
    let table = nft_table(&bridge).expect("the engine's table");
    assert!(!table.contains("dnat to"), "{table}");
}

#[test]
fn user_networks_resolve_names_and_are_kept_apart() {
    let e = Engine::start();
    docker(&e, &["network", "create", "front"]);
    docker(
        &e,
        &["network", "create", "--subnet", "10.231.7.0/24", "back"],
    );
    web(
        &e,
        "db",
        "hello-db",
        &[
            "--network",
            "back",
            "--network-alias",
            "database",
            "--ip",
            "10.231.7.50",
        ],
    );
    let on_back = |script: &str| {
        docker(
            &e,
            &[
                "run",
                "--rm",
                "--network",
                "back",
                "busybox",
                "sh",
                "-c",
                script,
            ],
        )
    };
    assert_eq!(on_back("wget -qO- http://db/"), "hello-db");
    assert_eq!(on_back("wget -qO- http://database/"), "hello-db");
    assert_eq!(on_back("wget -qO- http://db.back/"), "hello-db");
    assert_eq!(
        on_back("grep nameserver /etc/resolv.conf"),
        "nameserver 127.0.0.11"
    );
    assert_eq!(
        docker(
            &e,
            &[
                "inspect",
                "-f",
                "{{.NetworkSettings.Networks.back.IPAddress}}",
                "db"
            ]
        ),
        "10.231.7.50"
    );
    // Another network sees neither its names nor its address.
    let from_front = |script: &str| {
        e.docker(&[
            "run",
            "--rm",
            "--network",
            "front",
            "busybox",
            "sh",
            "-c",
            script,
        ])
    };
    assert!(!from_front("wget -T 2 -qO- http://db/").status.success());
    assert!(!from_front("wget -T 2 -qO- http://10.231.7.50/")
        .status
        .success());
    // Connected, it is reached by name from there too; disconnected, not.
    docker(
        &e,
        &["network", "connect", "--alias", "store", "front", "db"],
    );
    let out = from_front("wget -qO- http://store/");
    assert_eq!(stdout(&out).trim(), "hello-db", "{out:?}");
    docker(&e, &["network", "disconnect", "front", "db"]);
    assert!(!from_front("wget -T 2 -qO- http://store/").status.success());
    // Connected again, it takes the interface that was freed.
    docker(&e, &["network", "connect", "front", "db"]);
    assert_eq!(
        stdout(&from_front("wget -qO- http://db/")).trim(),
        "hello-db"
    );
    docker(&e, &["network", "disconnect", "front", "db"]);
    // container: mode runs in the peer's network.
    let got = docker(
        &e,
        &[
            "run",
            "--rm",
            "--network",
            "container:db",
            "busybox",
            "wget",
            "-qO-",
            "http://127.0.0.1/",
        ],
    );
    assert_eq!(got, "hello-db");
    // An internal network has no way out (no default route).
    docker(&e, &["network", "create", "--internal", "inside"]);
    let routes = docker(
        &e,
        &[
            "run",
            "--rm",
            "--network",
            "inside",
            "busybox",
            "ip",
            "route",
        ],
    );
    assert!(!routes.contains("default"), "{routes}");
    // A network in use is not removed; once empty, it and its bridge go.
    let out = e.docker(&["network", "rm", "back"]);
    assert!(stderr(&out).contains("active endpoints"), "{out:?}");
    let back_bridge = docker(&e, &["network", "inspect", "back", "-f", "{{.Id}}"]);
    let back_bridge = format!("br-{}", &back_bridge[..12]);
    docker(&e, &["rm", "-f", "db"]);
    docker(&e, &["network", "rm", "back", "front", "inside"]);
    let out = Command::new("ip")
        .args(["link", "show", &back_bridge])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{back_bridge} is still there");
    let ls = docker(&e, &["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(ls.lines().collect::<Vec<_>>(), ["bridge", "host", "none"]);
    // Each network's life is in the events, a container's start and exit
    // as connect and disconnect.
    let until = (std::time::SystemTime::now() + Duration::from_secs(1))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let events = docker(
        &e,
        &[
            "events",
            "--since",
            "0",
            "--until",
            &until,
            "--filter",
            "network=inside",
            "--format",
            "{{.Type}} {{.Action}}",
        ],
    );
    assert_eq!(
        events.lines().collect::<Vec<_>>(),
        [
            "network create",
            "network connect",
            "network disconnect",
            "network destroy"
        ]
    );
}

/// A DNS server on `addr:53` that answers every question with `answer`
/// (one A record), for as long as the test runs.
fn fake_resolver(addr: &str, answer: [u8; 4]) {
    let socket = std::net::UdpSocket::bind((addr, 53)).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            // Header: the id, "a response, recursion available", one
            // question, one answer; the question as asked; the answer.
            let mut out = buf[..2].to_vec();
            out.extend([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
            out.extend(&buf[12..n]);
            out.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            out.extend(answer);
            let _ = socket.send_to(&out, from);
        }
    });
}

#[test]
fn names_not_on_the_network_go_to_the_upstream_resolver() {
    let e = Engine::start();
    fake_resolver("127.0.0.77", [10, 9, 8, 7]);
    docker(&e, &["network", "create", "dnsnet"]);
    let out = docker(
        &e,
        &[
            "run",
            "--rm",
            "--network",
            "dnsnet",
            "--dns",
            "127.0.0.77",
            "busybox",
            "nslookup",
            "outside.example",
        ],
    );
    assert!(out.contains("10.9.8.7"), "{out}");
    docker(&e, &["network", "rm", "dnsnet"]);
}

#[test]
fn ports_outlive_a_daemon_crash_and_nothing_is_left_behind() {
    let mut e = Engine::start();
    let bridge = default_bridge(&e);
    let port = free_port();
    web(
        &e,
        "web",
        "hello-again",
        &["-p", &format!("127.0.0.1:{port}:80")],
    );
    assert_eq!(get_soon(&e, &format!("127.0.0.1:{port}")), "hello-again");
    e.kill_daemon();
    // The kernel keeps the rules: the port answers with no daemon.
    assert_eq!(get_soon(&e, &format!("127.0.0.1:{port}")), "hello-again");
    e.launch();
    assert_eq!(get_soon(&e, &format!("127.0.0.1:{port}")), "hello-again");
    assert_eq!(
        docker(&e, &["port", "web", "80"]),
        format!("127.0.0.1:{port}")
    );
    // The re-adopted address is not handed out again.
    let ip = docker(
        &e,
        &["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web"],
    );
    let other = docker(
        &e,
        &[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "ip -4 -o addr show eth0",
        ],
    );
    assert!(!other.contains(&format!("{ip}/")), "{other} took {ip}");
    // And the port is still held: a second container cannot take it.
    let out = e.docker(&[
        "run",
        "--rm",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "busybox",
        "true",
    ]);
    assert!(!out.status.success(), "{out:?}");
    // Its counters are in its stats.
    let stats = docker(
        &e,
        &["stats", "--no-stream", "--format", "{{.NetIO}}", "web"],
    );
    assert!(!stats.starts_with("0B / 0B"), "{stats}");
    docker(&e, &["rm", "-f", "web", "gone"]);
    assert_eq!(ports_of(&bridge), "");
    e.stop_daemon();
    // A daemon that stops with nothing running leaves no bridge and no
    // table of its own.
    let out = Command::new("ip")
        .args(["link", "show", &bridge])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{bridge} is still there");
    assert!(nft_table(&bridge).is_none());
    e.launch();
}
