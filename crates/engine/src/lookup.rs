//! Finding a container's command in its image before it is started, so
//! that a missing one fails the start with 127 and one that cannot be run
//! with 126, as Docker reports them (the runtime would only see the exec
//! fail inside the already-started container).

use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Why a command cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    NotFound,
    NotExecutable,
}

/// Looks `cmd` up in the union of `layers` (top layer last), through
/// `PATH` when it has no slash; relative paths are taken from `cwd`.
pub fn check(layers: &[PathBuf], env: &[String], cwd: &str, cmd: &str) -> Result<(), CommandError> {
    let candidates: Vec<PathBuf> = if cmd.contains('/') {
        let p = Path::new(cmd);
        vec![if p.is_absolute() {
            p.to_path_buf()
        } else {
            Path::new(cwd).join(p)
        }]
    } else {
        let path = env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        path.split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| Path::new(d).join(cmd))
            .collect()
    };
    let mut found_unrunnable = false;
    for c in candidates {
        if let Some(host) = resolve(layers, &c, 0) {
            match std::fs::metadata(&host) {
                Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => return Ok(()),
                Ok(_) => found_unrunnable = true,
                Err(_) => {}
            }
        }
    }
    if found_unrunnable {
        Err(CommandError::NotExecutable)
    } else {
        Err(CommandError::NotFound)
    }
}

/// The host path of `path` (absolute, in the container) in the layer union,
/// following symbolic links inside the container's root.
fn resolve(layers: &[PathBuf], path: &Path, depth: u32) -> Option<PathBuf> {
    if depth > 40 {
        return None;
    }
    let mut cur = PathBuf::from("/");
    let parts: Vec<_> = path.components().collect();
    for (i, part) in parts.iter().enumerate() {
        match part {
            Component::Normal(p) => cur.push(p),
            Component::ParentDir => {
                cur.pop();
                continue;
            }
            _ => continue,
        }
        let host = find(layers, &cur)?;
        let meta = std::fs::symlink_metadata(&host).ok()?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&host).ok()?;
            let base = cur.parent().unwrap_or(Path::new("/")).to_path_buf();
            let mut next = if target.is_absolute() {
                target
            } else {
                base.join(target)
            };
            for rest in &parts[i + 1..] {
                next.push(rest);
            }
            return resolve(layers, &next, depth + 1);
        }
    }
    find(layers, &cur)
}

/// The upper-most layer holding `path`.
fn find(layers: &[PathBuf], path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    layers
        .iter()
        .rev()
        .map(|l| l.join(rel))
        .find(|p| std::fs::symlink_metadata(p).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn commands_are_found_through_path_and_symlinks() {
        let l = tempfile::tempdir().unwrap();
        let root = l.path();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("bin/busybox"), "x").unwrap();
        std::fs::set_permissions(
            root.join("bin/busybox"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        symlink("/bin/busybox", root.join("bin/sh")).unwrap();
        symlink("busybox", root.join("bin/ls")).unwrap();
        std::fs::write(root.join("etc/passwd"), "x").unwrap();
        let layers = vec![root.to_path_buf()];
        let env = vec!["PATH=/usr/bin:/bin".to_string()];
        assert_eq!(check(&layers, &env, "/", "sh"), Ok(()));
        assert_eq!(check(&layers, &env, "/", "ls"), Ok(()));
        assert_eq!(check(&layers, &env, "/", "/bin/sh"), Ok(()));
        assert_eq!(check(&layers, &env, "/bin", "./busybox"), Ok(()));
        assert_eq!(
            check(&layers, &env, "/", "nope"),
            Err(CommandError::NotFound)
        );
        assert_eq!(
            check(&layers, &env, "/", "/etc/passwd"),
            Err(CommandError::NotExecutable)
        );
        assert_eq!(
            check(&layers, &env, "/", "/etc"),
            Err(CommandError::NotExecutable)
        );
    }
}
