//! Process details from procfs, for `ps`.

use std::path::Path;

use crate::protocol::ProcessInfo;

/// Describes `pids` from the procfs mounted at `proc_root`; processes that
/// are gone by now are skipped. `users` maps a UID to a name (the
/// container's /etc/passwd).
pub fn describe(
    proc_root: &Path,
    pids: &[i32],
    users: &dyn Fn(u32) -> Option<String>,
) -> Vec<ProcessInfo> {
    let mut out: Vec<ProcessInfo> = pids
        .iter()
        .filter_map(|&pid| {
            let dir = proc_root.join(pid.to_string());
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            let status = std::fs::read_to_string(dir.join("status")).ok()?;
            let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
            // The command name is in parentheses and may hold anything, so
            // the fields after it are found from the last ')'.
            let close = stat.rfind(')')?;
            let name = stat[stat.find('(')? + 1..close].to_string();
            let ppid = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
            let uid: u32 = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            let command = if cmdline.is_empty() {
                format!("[{name}]")
            } else {
                cmdline
                    .split(|&b| b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            Some(ProcessInfo {
                pid,
                ppid,
                user: users(uid).unwrap_or_else(|| uid.to_string()),
                command,
            })
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// The name of `uid` in the text of a passwd file.
pub fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _ = f.next();
        (f.next()?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_are_read_from_procfs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("42");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("stat"), "42 (sh (x)) S 7 42 42 0").unwrap();
        std::fs::write(
            p.join("status"),
            "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\n",
        )
        .unwrap();
        std::fs::write(p.join("cmdline"), b"sh\0-c\0sleep 1\0").unwrap();
        let passwd = "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n";
        let got = describe(dir.path(), &[42, 43], &|uid| user_name(passwd, uid));
        assert_eq!(
            got,
            [ProcessInfo {
                pid: 42,
                ppid: 7,
                user: "alice".into(),
                command: "sh -c sleep 1".into()
            }]
        );
    }
}
