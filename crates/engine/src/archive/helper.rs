//! The archive helper's side: it takes the container's filesystem for its
//! root, then stats, tars or untars one path with Docker's rules (the
//! directory part of a path followed through symlinks, its last element
//! not; a trailing `/` or `/.` kept).

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use nix::mount::MsFlags;
use nix::sched::CloneFlags;

use super::{go_file_mode, Op, PathStat, Request, Target, INVALID, NOT_FOUND};

/// Why the helper failed: its exit status and message.
struct Failure(i32, String);

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => Failure(NOT_FOUND, e.to_string()),
            _ => Failure(1, e.to_string()),
        }
    }
}

impl From<nix::Error> for Failure {
    fn from(e: nix::Error) -> Self {
        Failure(1, e.to_string())
    }
}

/// The helper's `main`: `arg` is the JSON request; returns the exit
/// status.
pub fn main(arg: Option<String>) -> i32 {
    let Some(req) = arg.and_then(|a| serde_json::from_str::<Request>(&a).ok()) else {
        eprintln!("the archive helper needs a request");
        return 1;
    };
    match enter(&req.target).and_then(|()| run(&req.op)) {
        Ok(()) => 0,
        Err(Failure(code, message)) => {
            eprintln!("{message}");
            code
        }
    }
}

/// Makes the container's filesystem this process's root.
fn enter(target: &Target) -> Result<(), Failure> {
    match target {
        Target::Running { pid } => {
            let ns = File::open(format!("/proc/{pid}/ns/mnt"))?;
            // Root and working directory become the namespace's root.
            nix::sched::setns(ns, CloneFlags::CLONE_NEWNS)?;
        }
        Target::Stopped {
            layers,
            upper,
            work,
            mounts,
            scratch,
        } => {
            nix::sched::unshare(CloneFlags::CLONE_NEWNS)?;
            let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
            nix::mount::mount(None::<&str>, "/", None::<&str>, private, None::<&str>)?;
            let root = scratch.clone();
            let lower: Vec<String> = layers.iter().map(|l| l.display().to_string()).collect();
            let data = format!(
                "lowerdir={},upperdir={},workdir={}",
                lower.join(":"),
                upper.display(),
                work.display()
            );
            nix::mount::mount(
                Some("overlay"),
                &root,
                Some("overlay"),
                MsFlags::empty(),
                Some(data.as_str()),
            )?;
            for (source, destination, rw) in mounts {
                bind(&root, source, destination, *rw)?;
            }
            nix::unistd::chroot(&root)?;
        }
    }
    nix::unistd::chdir("/")?;
    Ok(())
}

/// Binds `source` at `destination` under `root`, unless a symlink is on
/// the way there (it would lead out of the root).
fn bind(root: &Path, source: &Path, destination: &str, rw: bool) -> Result<(), Failure> {
    let mut at = root.to_path_buf();
    for c in Path::new(destination).components() {
        if let Component::Normal(name) = c {
            at.push(name);
            if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                return Ok(());
            }
        }
    }
    if !at.exists() {
        match source.is_dir() {
            true => std::fs::create_dir_all(&at)?,
            false => {
                std::fs::create_dir_all(at.parent().unwrap_or(root))?;
                File::create(&at)?;
            }
        }
    }
    let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
    nix::mount::mount(Some(source), &at, None::<&str>, flags, None::<&str>)?;
    if !rw {
        let ro = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
        nix::mount::mount(None::<&str>, &at, None::<&str>, ro, None::<&str>)?;
    }
    Ok(())
}

/// `/` joined with `path`, cleaned, with the trailing `/` or `/.` it had
/// (Go's `PreserveTrailingDotOrSeparator`).
fn absolute(path: &str) -> String {
    let mut abs = crate::volume::parse::clean(path);
    if (path.ends_with("/.") || path == ".") && !abs.ends_with("/.") {
        abs.push_str(if abs.ends_with('/') { "." } else { "/." });
    } else if path.ends_with('/') && !abs.ends_with('/') {
        abs.push('/');
    }
    abs
}

/// Go's `filepath.Base`.
fn base(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit('/').next() {
        _ if trimmed.is_empty() => "/".into(),
        Some(b) => b.to_string(),
        None => trimmed.to_string(),
    }
}

/// The path as the container sees it, its directory part resolved; and
/// the absolute path asked for.
fn resolve(path: &str) -> Result<(PathBuf, String), Failure> {
    let abs = absolute(path);
    let split = abs.rfind('/').map_or(0, |i| i + 1);
    let (dir, last) = abs.split_at(split);
    let dir = std::fs::canonicalize(dir)?;
    Ok((dir.join(last), abs))
}

fn stat(resolved: &Path, abs: &str) -> Result<PathStat, Failure> {
    let m = std::fs::symlink_metadata(resolved)?;
    let link_target = match m.file_type().is_symlink() {
        true => std::fs::canonicalize(abs).map_or_else(
            |_| {
                std::fs::read_link(resolved)
                    .unwrap_or_default()
                    .display()
                    .to_string()
            },
            |p| p.display().to_string(),
        ),
        false => String::new(),
    };
    let mtime =
        chrono::DateTime::from_timestamp(m.mtime(), m.mtime_nsec() as u32).unwrap_or_default();
    Ok(PathStat {
        name: base(abs),
        size: m.size() as i64,
        mode: go_file_mode(m.mode()),
        mtime: mtime.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        link_target,
    })
}

fn run(op: &Op) -> Result<(), Failure> {
    match op {
        Op::Stat { path } | Op::Get { path } => {
            let (resolved, abs) = resolve(path)?;
            let st = stat(&resolved, &abs)?;
            let mut out = io::stdout().lock();
            serde_json::to_writer(&mut out, &st).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
            if let Op::Get { .. } = op {
                super::tar::write(&resolved, &base(&abs), &mut out)?;
            }
            out.flush()?;
            Ok(())
        }
        Op::Put {
            path,
            no_overwrite_dir_non_dir,
            copy_uid_gid,
        } => {
            let (resolved, _) = resolve(path)?;
            let dir = std::fs::canonicalize(&resolved)?;
            if !dir.is_dir() {
                return Err(Failure(
                    INVALID,
                    "extraction point is not a directory".into(),
                ));
            }
            super::tar::extract(
                io::stdin().lock(),
                &dir,
                *no_overwrite_dir_non_dir,
                *copy_uid_gid,
            )
            .map_err(|e| match e.kind() {
                io::ErrorKind::InvalidInput => Failure(INVALID, e.to_string()),
                _ => Failure::from(e),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_their_trailing_separator_or_dot() {
        assert_eq!(absolute("etc/hosts"), "/etc/hosts");
        assert_eq!(absolute("/etc/"), "/etc/");
        assert_eq!(absolute("/etc/."), "/etc/.");
        assert_eq!(absolute("/a/../b//c"), "/b/c");
        assert_eq!(absolute("/"), "/");
        assert_eq!(base("/etc/"), "etc");
        assert_eq!(base("/etc/."), ".");
        assert_eq!(base("/"), "/");
    }
}
