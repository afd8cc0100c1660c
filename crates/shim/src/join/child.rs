//! In an exec's child: everything between the fork and the command, in
//! libcontainer's order.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use libcontainer::syscall::syscall::create_syscall;
use libcontainer::syscall::Syscall;
use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use super::{Plan, Stdio};
use crate::cgroups::CgroupEntry;
use crate::child::ChildError;
use crate::executor;
use crate::seccomp::Filter;

/// Becomes `plan`'s process: into the container's cgroups and namespaces,
/// its stdio, then its identity, and the exec. `report` is told (one zero
/// byte) just before the exec. Returns only on failure.
pub(super) fn become_process(
    plan: &Plan,
    filter: Option<&Filter>,
    pidfd: &OwnedFd,
    stdio: Stdio,
    console: Option<OwnedFd>,
    report: &OwnedFd,
    cgroups: CgroupEntry,
) -> Result<std::convert::Infallible, ChildError> {
    let syscall = create_syscall();
    let syscall = syscall.as_ref();
    enter(plan, pidfd, cgroups, syscall)?;
    take_stdio(stdio, console, syscall)?;
    take_identity(plan, filter, syscall)?;
    let mut env = plan.env.clone();
    if plan.needs_home {
        // Looked up inside the container, as libcontainer does.
        if let Some(home) = container_home(plan.process.user().uid()) {
            env.extend(CString::new(format!("HOME={home}")));
        }
    }
    // Ready: from here a failure is the command's, with its exit code.
    nix::unistd::write(report, &[0]).map_err(ChildError::Report)?;
    executor::restore_signals();
    executor::prepare_terminal(&plan.process);
    let err = exec_searching(&plan.args, &env, &plan.search_path);
    let command = plan.args[0].to_string_lossy();
    executor::exit_unrunnable(&command, err, executor::Unrunnable::Exec)
}

/// Into the container's cgroups (first), a session of its own, the
/// process's rlimits and OOM score, then the container's namespaces.
fn enter(
    plan: &Plan,
    pidfd: &OwnedFd,
    cgroups: CgroupEntry,
    syscall: &dyn Syscall,
) -> Result<(), ChildError> {
    // Until it execs, this process holds the shim's memory and descriptors
    // and is the shim's binary: nothing in the container may open or trace
    // it through /proc once it has entered (exec sets it dumpable again).
    nix::sys::prctl::set_dumpable(false).map_err(ChildError::Dumpable)?;
    // In the container's cgroups before anything else.
    cgroups.join()?;
    let process = &plan.process;
    nix::unistd::setsid().map_err(ChildError::Setsid)?;
    for rlimit in process.rlimits().iter().flatten() {
        syscall
            .set_rlimit(rlimit)
            .map_err(|e| ChildError::Rlimit(rlimit.typ(), e))?;
    }
    if let Some(score) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", score.to_string())
            .map_err(|e| ChildError::OomScoreAdj(score, e))?;
    }
    if !plan.namespaces.is_empty() {
        nix::sched::setns(pidfd, plan.namespaces).map_err(ChildError::Namespaces)?;
    }
    Ok(())
}

/// The process's stdio: the pipes, or a terminal made here, inside the
/// container, whose master goes back over `console`.
fn take_stdio(
    stdio: Stdio,
    console: Option<OwnedFd>,
    syscall: &dyn Syscall,
) -> Result<(), ChildError> {
    match (stdio, console) {
        (Stdio::Pipes(pipes), _) => {
            for (fd, target) in [(&pipes.stdin, 0), (&pipes.stdout, 1), (&pipes.stderr, 2)] {
                nix::unistd::dup2(fd.as_raw_fd(), target).map_err(ChildError::Stdio)?;
            }
        }
        (Stdio::Terminal, Some(socket)) => {
            libcontainer::tty::setup_console(syscall, socket.as_raw_fd(), false)
                .map_err(|e| ChildError::Terminal(e.into()))?;
            // setup_console closed it.
            std::mem::forget(socket);
        }
        (Stdio::Terminal, None) => return Err(ChildError::NoConsoleSocket),
    }
    Ok(())
}

/// no_new_privs, umask, cwd, groups, user, seccomp and capabilities, in
/// libcontainer's order.
fn take_identity(
    plan: &Plan,
    filter: Option<&Filter>,
    syscall: &dyn Syscall,
) -> Result<(), ChildError> {
    let process = &plan.process;
    let no_new_privs = process.no_new_privileges() == Some(true);
    if no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(ChildError::NoNewPrivileges)?;
    }
    if let Some(umask) = process.user().umask() {
        let mode = nix::sys::stat::Mode::from_bits(umask).ok_or(ChildError::Umask(umask))?;
        nix::sys::stat::umask(mode);
    }
    let cwd = process.cwd();
    let chdir_again = match nix::unistd::chdir(cwd) {
        Ok(()) => false,
        Err(Errno::EPERM) => true,
        Err(e) => return Err(ChildError::Cwd(cwd.clone(), e)),
    };
    if let Some(gids) = process.user().additional_gids().as_ref() {
        if !gids.is_empty() {
            let gids: Vec<Gid> = gids.iter().map(|g| Gid::from_raw(*g)).collect();
            syscall.set_groups(&gids).map_err(ChildError::Groups)?;
        }
    }
    let (uid, gid) = (process.user().uid(), process.user().gid());
    syscall
        .set_id(Uid::from_raw(uid), Gid::from_raw(gid))
        .map_err(|e| ChildError::User(uid, gid, e))?;
    // Nothing of the shim's but stdio reaches the command.
    syscall.close_range(0).map_err(ChildError::CloseRange)?;
    // Without no_new_privs the filter needs CAP_SYS_ADMIN: before the drop.
    if !no_new_privs {
        load_seccomp(filter)?;
    }
    libcontainer::capabilities::reset_effective(syscall)
        .map_err(|e| ChildError::Capabilities(e.into()))?;
    if let Some(caps) = process.capabilities() {
        libcontainer::capabilities::drop_privileges(caps, syscall)
            .map_err(|e| ChildError::Capabilities(e.into()))?;
    }
    if chdir_again {
        nix::unistd::chdir(cwd).map_err(|e| ChildError::Cwd(cwd.clone(), e))?;
    }
    if !nix::unistd::getcwd().is_ok_and(|d| d.is_absolute()) {
        return Err(ChildError::CwdOutside(cwd.clone()));
    }
    if no_new_privs {
        load_seccomp(filter)?;
    }
    Ok(())
}

/// The home of `uid` in the container's /etc/passwd: read from inside the
/// container, only if it is a regular file of a sane size.
fn container_home(uid: u32) -> Option<String> {
    const LIMIT: u64 = 1 << 20;
    let file = std::fs::File::open("/etc/passwd").ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > LIMIT {
        return None;
    }
    let mut text = String::new();
    file.take(LIMIT).read_to_string(&mut text).ok()?;
    vessel_runtime::users::home(&text, uid)
}

fn load_seccomp(filter: Option<&Filter>) -> Result<(), ChildError> {
    match filter {
        Some(filter) => filter.load().map_err(|e| ChildError::Seccomp(e.into())),
        None => Ok(()),
    }
}

/// `execvp` with the process's own environment and search path (not the
/// shim's). Returns why it failed, as `execvp` would report it.
fn exec_searching(args: &[CString], env: &[CString], search_path: &str) -> Errno {
    let command = &args[0];
    if command.as_bytes().contains(&b'/') {
        return nix::unistd::execve(command, args, env).unwrap_err();
    }
    let mut denied = false;
    for dir in search_path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let mut candidate = Path::new(dir).as_os_str().as_bytes().to_vec();
        candidate.push(b'/');
        candidate.extend_from_slice(command.as_bytes());
        let Ok(candidate) = CString::new(candidate) else {
            continue;
        };
        match nix::unistd::execve(&candidate, args, env).unwrap_err() {
            Errno::EACCES => denied = true,
            Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV | Errno::ETIMEDOUT => {}
            other => return other,
        }
    }
    if denied {
        Errno::EACCES
    } else {
        Errno::ENOENT
    }
}
