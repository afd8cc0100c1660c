//! Lines of `/proc/self/mountinfo`: a mount's mount point (its `\040`-style
//! escapes undone) and its propagation (the optional fields `shared:N`,
//! `master:N`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// One mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: PathBuf,
    /// In a peer group (`shared:N`).
    pub shared: bool,
    /// A slave of a peer group (`master:N`).
    pub slave: bool,
}

/// A mountinfo path with its octal escapes (`\040` for a space) undone.
fn unescape(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok());
        match (
            bytes[i],
            escaped.and_then(|d| u8::from_str_radix(d, 8).ok()),
        ) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// The mount a line of mountinfo describes; `None` for a short line.
pub fn parse(line: &str) -> Option<Mount> {
    let fields: Vec<&str> = line.split(' ').collect();
    let mount_point = unescape(fields.get(4)?);
    let optional = fields.iter().skip(6).take_while(|f| **f != "-");
    let (mut shared, mut slave) = (false, false);
    for f in optional {
        shared |= f.starts_with("shared:");
        slave |= f.starts_with("master:");
    }
    Some(Mount {
        mount_point,
        shared,
        slave,
    })
}

/// Every mount of this mount namespace, in mountinfo's order.
pub fn read() -> std::io::Result<Vec<Mount>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(text.lines().filter_map(parse).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_and_propagation_are_read() {
        let m = parse("31 30 0:31 / /srv/in\\040it rw shared:5 master:2 - tmpfs tmpfs rw").unwrap();
        assert_eq!(m.mount_point, PathBuf::from("/srv/in it"));
        assert!(m.shared && m.slave);
        let m = parse("22 1 8:1 / / rw,relatime - ext4 /dev/vda rw").unwrap();
        assert!(!m.shared && !m.slave);
        assert_eq!(parse("short"), None);
    }
}
