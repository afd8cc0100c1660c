//! Users given as `uid[:gid]` or by name, resolved in the container's
//! own /etc/passwd and /etc/group (never the host's).

use std::path::Path;

/// A resolved user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

/// Resolves `user` (`name`, `uid`, `name:group`, `uid:gid`, ...) against
/// the rootfs at `rootfs`. A bare UID without an entry gets GID 0.
pub fn resolve(rootfs: &Path, user: &str) -> Result<Ids, String> {
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    let entry = passwd_entries(&passwd)
        .find(|e| e.name == u || e.uid.to_string() == u)
        .map(|e| Ids {
            uid: e.uid,
            gid: e.gid,
        });
    let mut ids = match (entry, u.parse::<u32>()) {
        (Some(ids), _) => ids,
        (None, Ok(uid)) => Ids { uid, gid: 0 },
        (None, Err(_)) => return Err(format!("user {u:?} is not in the container's /etc/passwd")),
    };
    if let Some(g) = g {
        ids.gid = match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => {
                let group = std::fs::read_to_string(rootfs.join("etc/group")).unwrap_or_default();
                group
                    .lines()
                    .find_map(|line| {
                        let f: Vec<&str> = line.split(':').collect();
                        (f.len() >= 3 && f[0] == g)
                            .then(|| f[2].parse::<u32>().ok())
                            .flatten()
                    })
                    .ok_or_else(|| format!("group {g:?} is not in the container's /etc/group"))?
            }
        };
    }
    Ok(ids)
}

/// The home directory of `uid` in an /etc/passwd's text, if it gives one.
pub fn home(passwd: &str, uid: u32) -> Option<String> {
    let home = passwd_entries(passwd).find(|e| e.uid == uid)?.home;
    (!home.is_empty()).then(|| home.to_string())
}

/// One line of /etc/passwd.
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

/// The well-formed lines of an /etc/passwd.
fn passwd_entries(passwd: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    passwd.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 4 {
            return None;
        }
        Some(PasswdEntry {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: f.get(5).copied().unwrap_or(""),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_resolve_by_name_or_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65533::/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        let r = |u| resolve(dir.path(), u);
        assert_eq!(
            r("nobody"),
            Ok(Ids {
                uid: 65534,
                gid: 65533
            })
        );
        assert_eq!(r("1000"), Ok(Ids { uid: 1000, gid: 0 }));
        assert_eq!(r("1000:7"), Ok(Ids { uid: 1000, gid: 7 }));
        assert_eq!(
            r("nobody:staff"),
            Ok(Ids {
                uid: 65534,
                gid: 50
            })
        );
        assert!(r("alice").unwrap_err().contains("\"alice\""));
        assert!(r("root:wheel").unwrap_err().contains("\"wheel\""));
        let passwd = std::fs::read_to_string(dir.path().join("etc/passwd")).unwrap();
        assert_eq!(home(&passwd, 0).as_deref(), Some("/root"));
        assert_eq!(home(&passwd, 65534).as_deref(), Some("/"));
        assert_eq!(home(&passwd, 1000), None);
    }
}
