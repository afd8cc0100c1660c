//! Users given as `uid[:gid]` or by name, resolved in the container's
//! own /etc/passwd and /etc/group (never the host's).

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// A resolved user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

/// Why a user could not be resolved in the container.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("reading the container's /{file}")]
    Read {
        file: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("user {0:?} is not in the container's /etc/passwd")]
    NoSuchUser(String),
    #[error("group {0:?} is not in the container's /etc/group")]
    NoSuchGroup(String),
}

/// Resolves `user` (`name`, `uid`, `name:group`, `uid:gid`, ...) against
/// the rootfs at `rootfs`. A bare UID without an entry gets GID 0.
pub fn resolve(rootfs: &Path, user: &str) -> Result<Ids, UserError> {
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let read = |file: &'static str| {
        read_in_root(rootfs, file).map_err(|source| UserError::Read { file, source })
    };
    let passwd = read("etc/passwd")?;
    let entry = passwd_entries(&passwd)
        .find(|e| e.name == u || e.uid.to_string() == u)
        .map(|e| Ids {
            uid: e.uid,
            gid: e.gid,
        });
    let mut ids = match (entry, u.parse::<u32>()) {
        (Some(ids), _) => ids,
        (None, Ok(uid)) => Ids { uid, gid: 0 },
        (None, Err(_)) => return Err(UserError::NoSuchUser(u.to_string())),
    };
    if let Some(g) = g {
        ids.gid = match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => gid_in(&read("etc/group")?, g)?,
        };
    }
    Ok(ids)
}

/// The ids of the groups named `names` (or given by number) in the
/// container's /etc/group, in order.
pub fn group_ids(rootfs: &Path, names: &[String]) -> Result<Vec<u32>, UserError> {
    let file = "etc/group";
    let group = read_in_root(rootfs, file).map_err(|source| UserError::Read { file, source })?;
    names
        .iter()
        .map(|name| match name.parse::<u32>() {
            Ok(gid) => Ok(gid),
            Err(_) => gid_in(&group, name),
        })
        .collect()
}

/// The id of the group `name` in an /etc/group's text.
fn gid_in(group: &str, name: &str) -> Result<u32, UserError> {
    group
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() >= 3 && f[0] == name)
                .then(|| f[2].parse::<u32>().ok())
                .flatten()
        })
        .ok_or_else(|| UserError::NoSuchGroup(name.to_string()))
}

/// The largest /etc/passwd or /etc/group read.
const READ_LIMIT: u64 = 1 << 20;

/// Reads the file at `path` (relative) of the rootfs at `rootfs` as the
/// container would see it: symlinks, absolute ones too, and `..` resolve
/// inside the rootfs, never out of it. Only a regular file of at most
/// [`READ_LIMIT`] bytes is opened for reading (a device node planted by
/// the container is never opened); a missing or other file reads as
/// empty.
pub fn read_in_root(rootfs: &Path, path: &str) -> std::io::Result<String> {
    let root = std::fs::File::open(rootfs)?;
    let found = crate::in_root::openat2(&root, Path::new(path), OFlags::PATH, Mode::empty());
    let found = match found {
        Ok(fd) => fd,
        Err(e) if e == rustix::io::Errno::NOENT || e == rustix::io::Errno::NOTDIR => {
            return Ok(String::new())
        }
        Err(e) => return Err(e.into()),
    };
    let stat = rustix::fs::fstat(&found)?;
    let regular =
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile;
    if !regular || stat.st_size as u64 > READ_LIMIT {
        return Ok(String::new());
    }
    // The very file found, opened for reading through its descriptor.
    let file = std::fs::File::open(format!("/proc/self/fd/{}", found.as_raw_fd()))?;
    let mut text = String::new();
    file.take(READ_LIMIT).read_to_string(&mut text)?;
    Ok(text)
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
        let r = |u| resolve(dir.path(), u).map_err(|e| e.to_string());
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
        let passwd = read_in_root(dir.path(), "etc/passwd").unwrap();
        assert_eq!(home(&passwd, 0).as_deref(), Some("/root"));
        assert_eq!(home(&passwd, 65534).as_deref(), Some("/"));
        assert_eq!(home(&passwd, 1000), None);
    }

    #[test]
    fn links_in_the_rootfs_resolve_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let (rootfs, outside) = (dir.path().join("rootfs"), dir.path().join("outside"));
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("passwd"), "evil:x:4242:4242::/:/bin/sh\n").unwrap();
        // An absolute link to a host file, and one that climbs out.
        std::os::unix::fs::symlink(outside.join("passwd"), rootfs.join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("../../outside/passwd", rootfs.join("etc/group")).unwrap();
        assert!(resolve(&rootfs, "evil").is_err());
        assert_eq!(read_in_root(&rootfs, "etc/group").unwrap(), "");
        // A link that stays inside is followed, inside.
        std::fs::remove_file(rootfs.join("etc/passwd")).unwrap();
        std::fs::write(
            rootfs.join("etc/passwd.real"),
            "app:x:10:20::/app:/bin/sh\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("/etc/passwd.real", rootfs.join("etc/passwd")).unwrap();
        assert_eq!(resolve(&rootfs, "app").ok(), Some(Ids { uid: 10, gid: 20 }));
        // Not a regular file: nothing.
        std::fs::remove_file(rootfs.join("etc/passwd")).unwrap();
        std::fs::create_dir(rootfs.join("etc/passwd")).unwrap();
        assert_eq!(read_in_root(&rootfs, "etc/passwd").unwrap(), "");
    }
}
