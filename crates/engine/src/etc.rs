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

/// What a container's request adds to its `hosts` and `resolv.conf`
/// (`--add-host`, `--dns`, `--dns-search`, `--dns-option`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    /// `(name, address)` pairs.
    pub extra_hosts: Vec<(String, String)>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
}

impl Names {
    /// The names of a host config, each checked (the field and the value
    /// of a bad one are named).
    pub fn of(hc: &crate::container::HostConfig) -> Result<Names, NamesError> {
        let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
        let mut extra_hosts = Vec::new();
        for (i, h) in list(&hc.extra_hosts).iter().enumerate() {
            let (name, ip) = h
                .split_once(':')
                .filter(|(n, ip)| !n.is_empty() && ip.parse::<std::net::IpAddr>().is_ok())
                .ok_or_else(|| NamesError {
                    field: format!("HostConfig.ExtraHosts[{i}]"),
                    value: h.clone(),
                    want: "NAME:IP",
                })?;
            extra_hosts.push((name.to_string(), ip.to_string()));
        }
        let dns = list(&hc.dns);
        for (i, d) in dns.iter().enumerate() {
            if d.parse::<std::net::IpAddr>().is_err() {
                return Err(NamesError {
                    field: format!("HostConfig.Dns[{i}]"),
                    value: d.clone(),
                    want: "an IP address",
                });
            }
        }
        Ok(Names {
            extra_hosts,
            dns,
            dns_search: list(&hc.dns_search),
            dns_options: list(&hc.dns_options),
        })
    }

    fn sets_resolv_conf(&self) -> bool {
        !(self.dns.is_empty() && self.dns_search.is_empty() && self.dns_options.is_empty())
    }
}

/// A name or resolver a request gives that is not one.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {value:?} is not {want}")]
pub struct NamesError {
    pub field: String,
    pub value: String,
    pub want: &'static str,
}

/// Writes the files into `dir` unless they are there from an earlier
/// start. On the host's network a container sees the host's `hosts` and
/// `resolv.conf`; otherwise its own loopback names, and the host's
/// resolvers without the loopback ones it could not reach (those of
/// systemd-resolved when the host only names its stub, as Docker does).
/// `names` are added to `hosts`, and replace the resolvers, search
/// domains and options of `resolv.conf` that they give. A container on a
/// network (`address`, its first address) gets its name for that address
/// last in `hosts`, which is then made again at every start, as Docker
/// does (the address may change).
pub fn write(
    dir: &Path,
    hostname: &str,
    host: &HostFiles,
    names: &Names,
    net: &Networking,
) -> io::Result<()> {
    let Networking {
        host_network,
        address,
        embedded_dns,
    } = *net;
    // On networks, both are made again at each start: the address may
    // change, and the resolver with the networks.
    for (made_again, name) in [
        (address.is_some(), "hosts"),
        (address.is_some(), "resolv.conf"),
    ] {
        if made_again {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    for (name, _) in FILES {
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        let mut text = match name {
            "hostname" => format!("{hostname}\n"),
            "hosts" if host_network => read(&host.hosts),
            "hosts" => LOOPBACK_HOSTS.to_string(),
            _ if host_network => read(&host.resolv_conf),
            _ if embedded_dns => embedded_resolv_conf(&read(&host.resolv_conf)),
            _ => {
                let own = read(&host.resolv_conf);
                let upstream = (only_loopback_resolvers(&own) && host.resolved_conf.exists())
                    .then(|| read(&host.resolved_conf));
                reachable_resolv_conf(upstream.as_deref().unwrap_or(&own))
            }
        };
        match name {
            "hosts" => {
                for (n, ip) in &names.extra_hosts {
                    text.push_str(&format!("{ip}\t{n}\n"));
                }
                if let Some(ip) = address {
                    text.push_str(&format!("{ip}\t{hostname}\n"));
                }
            }
            "resolv.conf" if embedded_dns => {
                // The request's resolvers are the DNS server's upstream.
                let mut local = names.clone();
                local.dns.clear();
                text = given_resolv_conf(&text, &local);
            }
            "resolv.conf" if names.sets_resolv_conf() => text = given_resolv_conf(&text, names),
            _ => {}
        }
        // The container is started again from them: they survive a crash
        // of the engine (the record, saved after, is what a crash of the
        // machine is recovered from).
        write_atomic(&path, text.as_bytes(), Durability::ProcessCrash)?;
    }
    Ok(())
}

/// How a container is networked, as its files show it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Networking<'a> {
    /// On the host's network: the host's `hosts` and `resolv.conf`.
    pub host_network: bool,
    /// Its first address on a network, named in its `hosts`.
    pub address: Option<&'a str>,
    /// On a user-defined network: the engine's DNS server is its resolver.
    pub embedded_dns: bool,
}

/// A `resolv.conf` naming the engine's DNS server, with the host's
/// search domains and options, and Docker's `ndots:0`.
fn embedded_resolv_conf(host: &str) -> String {
    let mut out = String::new();
    for line in host.lines() {
        if line.trim_start().starts_with("search") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&format!("nameserver {}\n", crate::network::dns::ADDRESS));
    let options: Vec<&str> = host
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("options"))
        .flat_map(str::split_whitespace)
        .filter(|o| !o.starts_with("ndots:"))
        .collect();
    out.push_str(&format!(
        "options ndots:0{}\n",
        options.iter().map(|o| format!(" {o}")).collect::<String>()
    ));
    out
}

/// The resolvers the engine's DNS server asks for a container: the
/// request's (`--dns`), else the host's (from the host's network, where
/// its loopback ones answer too).
pub fn upstream(host: &HostFiles, names: &Names) -> Vec<std::net::SocketAddr> {
    let servers: Vec<String> = match names.dns.is_empty() {
        false => names.dns.clone(),
        true => std::fs::read_to_string(&host.resolv_conf)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("nameserver"))
            .filter_map(|s| s.split_whitespace().next().map(String::from))
            .collect(),
    };
    servers
        .iter()
        .filter_map(|s| s.parse::<std::net::IpAddr>().ok())
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .collect()
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

/// `resolv.conf` with the request's search domains, resolvers and
/// options, each in place of the `base`'s of its kind when given, as
/// Docker writes it.
fn given_resolv_conf(base: &str, names: &Names) -> String {
    let of = |key: &str| -> Vec<String> {
        base.lines()
            .filter_map(|l| l.trim_start().strip_prefix(key))
            .flat_map(|rest| rest.split_whitespace().map(String::from))
            .collect()
    };
    let pick = |given: &[String], key: &str| match given.is_empty() {
        true => of(key),
        false => given.to_vec(),
    };
    let search = pick(&names.dns_search, "search");
    let servers = pick(&names.dns, "nameserver");
    let options = pick(&names.dns_options, "options");
    let mut out = String::new();
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
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
        write(&c, "abc", &host, &Names::default(), &Networking::default()).unwrap();
        let read = |n: &str| std::fs::read_to_string(path(&c, n)).unwrap();
        assert_eq!(read("resolv.conf"), "nameserver 192.0.2.1\n");
        // On the host's network, the host's files as they are.
        std::fs::write(&host.hosts, "10.0.0.1 db\n").unwrap();
        let h = dir.path().join("hostnet");
        std::fs::create_dir(&h).unwrap();
        write(
            &h,
            "vm",
            &host,
            &Names::default(),
            &Networking {
                host_network: true,
                ..Default::default()
            },
        )
        .unwrap();
        let read = |n: &str| std::fs::read_to_string(path(&h, n)).unwrap();
        assert_eq!(read("hosts"), "10.0.0.1 db\n");
        assert_eq!(read("resolv.conf"), "nameserver 127.0.0.53\nsearch lan\n");
    }

    #[test]
    fn added_hosts_and_resolvers_are_dockers() {
        let hc = crate::container::HostConfig {
            extra_hosts: Some(vec!["foo:10.0.0.1".into()]),
            dns: Some(vec!["10.0.0.2".into()]),
            dns_search: Some(vec!["example.com".into()]),
            dns_options: Some(vec!["ndots:2".into()]),
            ..Default::default()
        };
        let names = Names::of(&hc).unwrap();
        let base = "nameserver 192.0.2.1\nsearch lan\noptions edns0\n";
        assert_eq!(
            given_resolv_conf(base, &names),
            "search example.com\nnameserver 10.0.0.2\noptions ndots:2\n"
        );
        let only_dns = Names {
            dns: vec!["10.0.0.3".into()],
            ..Default::default()
        };
        assert_eq!(
            given_resolv_conf(base, &only_dns),
            "search lan\nnameserver 10.0.0.3\noptions edns0\n"
        );
        let bad = crate::container::HostConfig {
            extra_hosts: Some(vec!["foo:nowhere".into()]),
            ..Default::default()
        };
        let e = Names::of(&bad).unwrap_err().to_string();
        assert!(
            e.contains("ExtraHosts[0]") && e.contains("foo:nowhere"),
            "{e}"
        );
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
        let write_all = || {
            write(
                &dir,
                "abc",
                &host,
                &Names::default(),
                &Networking::default(),
            )
            .unwrap()
        };
        write_all();
        let read = |n: &str| std::fs::read_to_string(path(&dir, n)).unwrap();
        assert_eq!(read("hostname"), "abc\n");
        assert!(read("hosts").starts_with("127.0.0.1\tlocalhost\n"));
        std::fs::write(path(&dir, "hosts"), "mine\n").unwrap();
        write_all();
        assert_eq!(read("hosts"), "mine\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    }
}
