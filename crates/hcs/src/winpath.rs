//! Windows path handling that behaves the same on every host.
//!
//! The document is built from Windows paths whatever the platform, so path
//! splitting, joining and cleaning follow Windows rules (both `\` and `/`
//! separate, the drive or UNC prefix is kept) rather than the host's.

use std::path::{Path, PathBuf};

fn is_sep(c: char) -> bool {
    c == '\\' || c == '/'
}

/// Length of the volume prefix: `C:` or a `\\server\share` / `\\?\X` head.
fn volume_len(path: &str) -> usize {
    let b = path.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return 2;
    }
    if b.len() >= 2 && is_sep(b[0] as char) && is_sep(b[1] as char) {
        // \\host\share or \\?\Volume{...}: the prefix runs to the end of the
        // second element.
        let rest = &path[2..];
        let mut seps = rest.match_indices(is_sep);
        return match (seps.next(), seps.next()) {
            (Some(_), Some((second, _))) => 2 + second,
            _ => path.len(),
        };
    }
    0
}

/// Drops empty and `.` elements and resolves `..` against the elements
/// before it; above the root `..` is dropped, in a relative path it stays.
fn resolve<'a>(elements: impl Iterator<Item = &'a str>, rooted: bool) -> Vec<&'a str> {
    let mut parts: Vec<&str> = Vec::new();
    for part in elements {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            p => parts.push(p),
        }
    }
    parts
}

/// Cleans a path the way Go's `filepath.Clean` does on Windows.
pub fn clean(path: &str) -> String {
    let vol_len = volume_len(path);
    let volume: String = path[..vol_len].replace('/', "\\");
    let rest = &path[vol_len..];
    let rooted = rest.starts_with(is_sep);
    let body = resolve(rest.split(is_sep), rooted).join("\\");
    let out = match (rooted, body.is_empty()) {
        (true, _) => format!("{volume}\\{body}"),
        (false, true) if volume.is_empty() => ".".to_string(),
        (false, _) => format!("{volume}{body}"),
    };
    out
}

/// Joins `name` below `dir`, cleaned (Go's `filepath.Join` on Windows).
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        return clean(name);
    }
    clean(&format!("{dir}\\{name}"))
}

/// The last element of a path (Go's `filepath.Split`, file part).
pub fn base_name(path: &str) -> &str {
    let vol = volume_len(path);
    let tail = &path[vol..];
    match tail.rfind(is_sep) {
        Some(i) => &tail[i + 1..],
        None => tail,
    }
}

/// Everything but the last element, cleaned (Go's `filepath.Dir`).
pub fn parent(path: &str) -> String {
    let vol = volume_len(path);
    let tail = &path[vol..];
    let cut = tail.rfind(is_sep).map_or(0, |i| i + 1);
    let dir = clean(&tail[..cut]);
    if dir == "." && vol > 0 {
        return path[..vol].replace('/', "\\");
    }
    format!("{}{}", &path[..vol].replace('/', "\\"), dir)
}

/// Whether `path` has the form `\\?\Volume{GUID}\` (what HCS mounts a
/// container's sandbox at).
pub fn is_volume_guid_path(path: &str) -> bool {
    let Some(guid) = path
        .strip_prefix(r"\\?\Volume{")
        .and_then(|r| r.strip_suffix(r"}\"))
    else {
        return false;
    };
    let groups: Vec<&str> = guid.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Joins POSIX paths and cleans the result (Go's `path.Join`), for paths
/// inside a Linux utility VM.
pub fn posix_join(a: &str, b: &str) -> String {
    let joined = match (a.is_empty(), b.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => b.to_string(),
        (false, true) => a.to_string(),
        (false, false) => format!("{a}/{b}"),
    };
    let rooted = joined.starts_with('/');
    let parts = resolve(joined.split('/'), rooted);
    match (rooted, parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".to_string(),
        (false, false) => parts.join("/"),
    }
}

/// Where Windows paths are found on this host.
#[derive(Debug, Clone, Default)]
pub enum WindowsFs {
    /// This host is Windows: paths are used as they are.
    #[default]
    Native,
    /// Off Windows, `C:\a\b` is found at `<root>/C/a/b`.
    Under(PathBuf),
    /// Off Windows with no root given: Windows paths cannot be looked at.
    Unavailable,
}

impl WindowsFs {
    /// The right default for the host this runs on.
    pub fn for_host(root: Option<PathBuf>) -> Self {
        match root {
            Some(root) => WindowsFs::Under(root),
            None if cfg!(windows) => WindowsFs::Native,
            None => WindowsFs::Unavailable,
        }
    }

    /// The host path of a Windows drive path, if it can be found here.
    pub fn locate(&self, path: &str) -> Option<PathBuf> {
        match self {
            WindowsFs::Native => Some(PathBuf::from(path)),
            WindowsFs::Unavailable => None,
            WindowsFs::Under(root) => {
                let cleaned = clean(path);
                if volume_len(&cleaned) != 2 {
                    return None;
                }
                let mut out = root.join(&cleaned[..1]);
                for part in cleaned[2..].split('\\').filter(|p| !p.is_empty()) {
                    out.push(part);
                }
                Some(out)
            }
        }
    }
}

/// Whether `path` exists, for the `UtilityVM` look-up.
pub(crate) fn exists(path: &Path) -> std::io::Result<bool> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_follows_windows_rules() {
        let cases = [
            (r"C:\a\b\..\c", r"C:\a\c"),
            ("C:/a//b/", r"C:\a\b"),
            (r"C:\", r"C:\"),
            ("C:", "C:"),
            (r"\\server\share\x\.\y", r"\\server\share\x\y"),
            (r"a\..\..\b", r"..\b"),
            ("", "."),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    #[test]
    fn join_base_and_parent() {
        assert_eq!(join(r"C:\wf\abc", "UtilityVM"), r"C:\wf\abc\UtilityVM");
        assert_eq!(join(r"C:\wf\abc\", "layer.vhd"), r"C:\wf\abc\layer.vhd");
        assert_eq!(base_name(r"C:\wf\abc"), "abc");
        assert_eq!(base_name("C:/wf/abc"), "abc");
        assert_eq!(base_name("abc"), "abc");
        assert_eq!(
            parent(r"C:\control\windowsfilter\abc"),
            r"C:\control\windowsfilter"
        );
        assert_eq!(parent(r"C:\abc"), r"C:\");
        assert_eq!(parent("abc"), ".");
    }

    #[test]
    fn volume_guid_paths_are_recognised() {
        assert!(is_volume_guid_path(
            r"\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}\"
        ));
        for bad in [
            "",
            r"C:\",
            r"\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}",
            r"\\?\Volume66d1ef4c-7a00-11e6-8948-00155ddbef9d}\",
            r"\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}}\",
            r"\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9z}\",
        ] {
            assert!(!is_volume_guid_path(bad), "{bad}");
        }
    }

    #[test]
    fn posix_join_cleans() {
        assert_eq!(
            posix_join("/tmp/gcs/x/binds", "/target"),
            "/tmp/gcs/x/binds/target"
        );
        assert_eq!(posix_join("/u/", "../a/./b"), "/a/b");
    }

    #[test]
    fn drive_paths_map_under_a_root() {
        let fs = WindowsFs::Under(PathBuf::from("/w"));
        assert_eq!(fs.locate(r"C:\a\b").unwrap(), PathBuf::from("/w/C/a/b"));
        assert_eq!(fs.locate(r"\\server\share\a"), None);
        assert_eq!(WindowsFs::Unavailable.locate(r"C:\a"), None);
    }
}
