//! The files Docker manages in every container's /etc: `hostname`,
//! `hosts` and `resolv.conf`. They live in the container's directory and
//! are bind-mounted over the image's, so that the container may change its
//! own copies (kept across restarts) and never the image.

use std::io;
use std::path::{Path, PathBuf};

use vessel_runtime::record::{write_atomic, Durability};

/// The three files, with where each goes in the container.
pub const FILES: [(&str, &str); 3] = [
    ("hostname", "/etc/hostname"),
    ("hosts", "/etc/hosts"),
    ("resolv.conf", "/etc/resolv.conf"),
];

/// The loopback names every container's `hosts` starts with, Docker's.
const LOOPBACK_HOSTS: &str = "127.0.0.1\tlocalhost\n\
    ::1\tlocalhost ip6-localhost ip6-loopback\n\
    fe00::0\tip6-localnet\n\
    ff00::0\tip6-mcastprefix\n\
    ff02::1\tip6-allnodes\n\
    ff02::2\tip6-allrouters\n";

/// Nameservers used when the host has none a container can reach (only
/// loopback ones), as Docker does.
const FALLBACK_NAMESERVERS: &str = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";

/// The host's files the container's are made from.
#[derive(Debug, Clone)]
pub struct HostFiles {
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
    /// systemd-resolved's list of the real resolvers, for a host whose
    /// resolv.conf only names its local stub (127.0.0.53).
    pub resolved_conf: PathBuf,
}

impl Default for HostFiles {
    fn default() -> Self {
        HostFiles {
            hosts: "/etc/hosts".into(),
            resolv_conf: "/etc/resolv.conf".into(),
            resolved_conf: "/run/systemd/resolve/resolv.conf".into(),
        }
    }
}

/// Writes the files into `dir` unless they are there from an earlier
/// start. On the host's network a container sees the host's `hosts` and
/// `resolv.conf`; otherwise its own loopback names, and the host's
/// resolvers without the loopback ones it could not reach (those of
/// systemd-resolved when the host only names its stub, as Docker does).
pub fn write(dir: &Path, hostname: &str, host_network: bool, host: &HostFiles) -> io::Result<()> {
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    for (name, _) in FILES {
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        let text = match name {
            "hostname" => format!("{hostname}\n"),
            "hosts" if host_network => read(&host.hosts),
            "hosts" => LOOPBACK_HOSTS.to_string(),
            _ if host_network => read(&host.resolv_conf),
            _ => {
                let own = read(&host.resolv_conf);
                let upstream = (only_loopback_resolvers(&own) && host.resolved_conf.exists())
                    .then(|| read(&host.resolved_conf));
                reachable_resolv_conf(upstream.as_deref().unwrap_or(&own))
            }
        };
        // The container is started again from them: they survive a crash
        // of the engine (the record, saved after, is what a crash of the
        // machine is recovered from).
        write_atomic(&path, text.as_bytes(), Durability::ProcessCrash)?;
    }
    Ok(())
}

/// Whether every nameserver of `conf` is a loopback address (and there
/// is one).
fn only_loopback_resolvers(conf: &str) -> bool {
    let servers: Vec<&str> = conf
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("nameserver"))
        .collect();
    !servers.is_empty() && servers.iter().all(|s| is_loopback(s))
}

fn is_loopback(server: &str) -> bool {
    server
        .split_whitespace()
        .next()
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

/// Where the file `name` of the container whose directory is `dir` is.
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// The host's resolv.conf without loopback nameservers (a container in
/// its own network namespace cannot reach the host's), with Docker's
/// fallback ones when none is left.
fn reachable_resolv_conf(host: &str) -> String {
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        if let Some(server) = line.trim_start().strip_prefix("nameserver") {
            if is_loopback(server) {
                continue;
            }
            servers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    if servers == 0 {
        out.push_str(FALLBACK_NAMESERVERS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_resolvers_are_dropped_for_a_containers_own_network() {
        let host = "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example.org\n";
        assert_eq!(
            reachable_resolv_conf(host),
            "# comment\nnameserver 10.0.0.2\nsearch example.org\n"
        );
        assert_eq!(
            reachable_resolv_conf("nameserver ::1\noptions edns0\n"),
            "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn a_hosts_stub_resolver_gives_way_to_systemd_resolveds_list() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostFiles {
            hosts: dir.path().join("h"),
            resolv_conf: dir.path().join("r"),
            resolved_conf: dir.path().join("resolved"),
        };
        std::fs::write(&host.resolv_conf, "nameserver 127.0.0.53\nsearch lan\n").unwrap();
        std::fs::write(&host.resolved_conf, "nameserver 192.0.2.1\n").unwrap();
        let c = dir.path().join("c");
        std::fs::create_dir(&c).unwrap();
        write(&c, "abc", false, &host).unwrap();
        let read = |n: &str| std::fs::read_to_string(path(&c, n)).unwrap();
        assert_eq!(read("resolv.conf"), "nameserver 192.0.2.1\n");
        // On the host's network, the host's files as they are.
        std::fs::write(&host.hosts, "10.0.0.1 db\n").unwrap();
        let h = dir.path().join("hostnet");
        std::fs::create_dir(&h).unwrap();
        write(&h, "vm", true, &host).unwrap();
        let read = |n: &str| std::fs::read_to_string(path(&h, n)).unwrap();
        assert_eq!(read("hosts"), "10.0.0.1 db\n");
        assert_eq!(read("resolv.conf"), "nameserver 127.0.0.53\nsearch lan\n");
    }

    #[test]
    fn files_are_written_once_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let none = tmp.path().join("none");
        let host = HostFiles {
            hosts: none.clone(),
            resolv_conf: none.clone(),
            resolved_conf: none,
        };
        let dir = tmp.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        write(&dir, "abc", false, &host).unwrap();
        let read = |n: &str| std::fs::read_to_string(path(&dir, n)).unwrap();
        assert_eq!(read("hostname"), "abc\n");
        assert!(read("hosts").starts_with("127.0.0.1\tlocalhost\n"));
        std::fs::write(path(&dir, "hosts"), "mine\n").unwrap();
        write(&dir, "abc", false, &host).unwrap();
        assert_eq!(read("hosts"), "mine\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    }
}
