//! The files Docker manages in every container's /etc: `hostname`,
//! `hosts` and `resolv.conf`. They live in the container's directory and
//! are bind-mounted over the image's, so that the container may change its
//! own copies (kept across restarts) and never the image.

use std::io;
use std::path::{Path, PathBuf};

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

/// Writes the files into `dir` unless they are there from an earlier
/// start. On the host's network a container sees the host's `hosts` and
/// `resolv.conf`; otherwise its own loopback names, and the host's
/// resolvers without the loopback ones it could not reach.
pub fn write(dir: &Path, hostname: &str, host_network: bool) -> io::Result<()> {
    let host_file = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    for (name, _) in FILES {
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        let text = match name {
            "hostname" => format!("{hostname}\n"),
            "hosts" if host_network => host_file("/etc/hosts"),
            "hosts" => LOOPBACK_HOSTS.to_string(),
            _ if host_network => host_file("/etc/resolv.conf"),
            _ => reachable_resolv_conf(&host_file("/etc/resolv.conf")),
        };
        // Written aside, then renamed: a crash leaves no half a file.
        let part = dir.join(format!(".{name}.part"));
        std::fs::write(&part, text)?;
        std::fs::rename(&part, &path)?;
    }
    Ok(())
}

/// Where the file `name` of the container whose directory is `dir` is.
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// The host's resolv.conf without loopback nameservers (a container in
/// its own network namespace cannot reach the host's), with Docker's
/// fallback ones when none is left.
fn reachable_resolv_conf(host: &str) -> String {
    let loopback = |l: &str| {
        l.split_whitespace().nth(1).is_some_and(|ip| {
            ip.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
        })
    };
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        if line.trim_start().starts_with("nameserver") {
            if loopback(line) {
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
    fn files_are_written_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "abc", false).unwrap();
        let read = |n: &str| std::fs::read_to_string(path(dir.path(), n)).unwrap();
        assert_eq!(read("hostname"), "abc\n");
        assert!(read("hosts").starts_with("127.0.0.1\tlocalhost\n"));
        std::fs::write(path(dir.path(), "hosts"), "mine\n").unwrap();
        write(dir.path(), "abc", false).unwrap();
        assert_eq!(read("hosts"), "mine\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }
}
