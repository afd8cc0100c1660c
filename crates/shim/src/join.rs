//! Exec without libcontainer's tenant builder: the shim starts the process
//! inside the running container itself.
//!
//! libcontainer starts an exec the way it starts a container: it reloads
//! the container's state and spec from disk, builds a cgroup manager (on
//! cgroups v1 that re-reads /proc/self/mountinfo once per controller),
//! forks an intermediate process and then the process. The shim already
//! holds all of that, so for a process it can describe fully it does the
//! work with one fork, straight into the container's pid namespace. The
//! child moves itself into the container's cgroups (see [`CgroupEntry`]),
//! enters its other namespaces through the first process's pidfd, and
//! then takes on the process's terminal, user, capabilities and seccomp
//! filter in libcontainer's order and with libcontainer's own functions
//! for those. Anything this path
//! does not do (a user or time namespace, AppArmor, SELinux, scheduling
//! and I/O priorities, CPU affinity, personality, seccomp notify) is left
//! to libcontainer: see [`Plan::new`].

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use libcontainer::oci_spec::runtime::{LinuxNamespaceType, LinuxSeccomp, Process, Spec};
use libcontainer::syscall::syscall::create_syscall;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Gid, Pid, Uid};

use crate::executor;
use crate::process::ChildStdio;

/// Why a process goes through libcontainer instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(String);

/// Why the process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("the container's first process is gone: {0}")]
    InitGone(Errno),
    #[error("{what}: {source}")]
    Os {
        what: &'static str,
        source: std::io::Error,
    },
    /// What the child reported before it could run the command.
    #[error("{0}")]
    Setup(String),
}

impl JoinError {
    fn os(what: &'static str, source: impl Into<std::io::Error>) -> Self {
        JoinError::Os {
            what,
            source: source.into(),
        }
    }
}

/// Everything the child needs, worked out before the fork.
#[derive(Debug)]
pub struct Plan {
    process: Process,
    args: Vec<CString>,
    env: Vec<CString>,
    /// Where a command without a slash is looked for.
    search_path: String,
    /// Whether `HOME` is to be found in the container's /etc/passwd.
    needs_home: bool,
    /// The namespaces the child enters itself (all but the pid namespace).
    namespaces: CloneFlags,
    /// Whether the container has a pid namespace of its own.
    pid_namespace: bool,
    seccomp: Option<LinuxSeccomp>,
    /// The container's cgroup directories, one per hierarchy it is in.
    cgroups: Vec<PathBuf>,
}

/// The child's stdio: pipes, or a terminal made inside the container
/// whose master comes back over a socket.
#[derive(Debug)]
pub enum Stdio {
    Pipes(ChildStdio),
    Terminal,
}

/// A started process.
#[derive(Debug)]
pub struct Started {
    pub pid: Pid,
    /// The terminal's master, when the process has one.
    pub master: Option<OwnedFd>,
}

/// glibc's search path for a process without `PATH`.
const DEFAULT_PATH: &str = "/bin:/usr/bin";

impl Plan {
    /// A plan for running `process` in the container described by `spec`,
    /// whose cgroup directories are `cgroups` (see
    /// [`crate::cgroups::container_dirs`]).
    pub fn new(spec: &Spec, process: &Process, cgroups: Vec<PathBuf>) -> Result<Plan, Unsupported> {
        let linux = spec.linux().as_ref();
        let linux_fields = [
            (
                linux.is_some_and(|l| l.personality().is_some()),
                "personality",
            ),
            (
                linux.is_some_and(|l| l.memory_policy().is_some()),
                "memoryPolicy",
            ),
            (linux.is_some_and(|l| l.intel_rdt().is_some()), "intelRdt"),
        ];
        if let Some((_, field)) = linux_fields.iter().find(|(set, _)| *set) {
            return Err(Unsupported(format!("linux.{field}")));
        }
        let process_fields = [
            (process.apparmor_profile().is_some(), "apparmorProfile"),
            (process.selinux_label().is_some(), "selinuxLabel"),
            (process.scheduler().is_some(), "scheduler"),
            (process.io_priority().is_some(), "ioPriority"),
            (process.exec_cpu_affinity().is_some(), "execCPUAffinity"),
        ];
        if let Some((_, field)) = process_fields.iter().find(|(set, _)| *set) {
            return Err(Unsupported(format!("process.{field}")));
        }
        let mut namespaces = CloneFlags::empty();
        let mut pid_namespace = false;
        let types = linux
            .and_then(|l| l.namespaces().as_ref())
            .into_iter()
            .flatten()
            .map(|n| n.typ());
        for kind in types {
            namespaces |= match kind {
                LinuxNamespaceType::Pid => {
                    pid_namespace = true;
                    continue;
                }
                LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
                LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
                LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
                LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
                LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
                other @ (LinuxNamespaceType::User | LinuxNamespaceType::Time) => {
                    return Err(Unsupported(format!("a {other} namespace")))
                }
            };
        }
        let seccomp = linux.and_then(|l| l.seccomp().clone());
        if seccomp
            .as_ref()
            .is_some_and(libcontainer::seccomp::is_notify)
        {
            return Err(Unsupported("seccomp notify".into()));
        }
        let args = cstrings(process.args().iter().flatten())?;
        if args.is_empty() {
            return Err(Unsupported("no args".into()));
        }
        let mut env: Vec<String> = process.env().clone().unwrap_or_default();
        let value_of = |name: &str| {
            env.iter()
                .find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
                .map(String::from)
        };
        let search_path = value_of("PATH").unwrap_or_else(|| DEFAULT_PATH.into());
        let needs_home = value_of("HOME").is_none_or(|h| h.is_empty());
        if needs_home {
            env.retain(|e| !e.starts_with("HOME="));
        }
        let env = cstrings(env.iter())?;
        if !namespaces.contains(CloneFlags::CLONE_NEWNS) {
            // Its first process was put in its root by libcontainer.
            return Err(Unsupported("no mount namespace".into()));
        }
        if cgroups.is_empty() {
            return Err(Unsupported("no cgroup directory of the container".into()));
        }
        Ok(Plan {
            process: process.clone(),
            args,
            env,
            search_path,
            needs_home,
            namespaces,
            pid_namespace,
            seccomp,
            cgroups,
        })
    }
}

fn cstrings<'a>(items: impl Iterator<Item = &'a String>) -> Result<Vec<CString>, Unsupported> {
    items
        .map(|s| CString::new(s.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| Unsupported("a NUL byte in args or env".into()))
}

/// Starts `plan`'s process in the container whose first process is `init`.
/// Returns once the process is about to run its command; a failure before
/// that (joining, user, capabilities, seccomp) is returned, and the child
/// is reaped.
pub fn spawn(plan: &Plan, init: Pid, stdio: Stdio) -> Result<Started, JoinError> {
    let init_fd =
        rustix::process::Pid::from_raw(init.as_raw()).ok_or(JoinError::InitGone(Errno::ESRCH))?;
    let pidfd = rustix::process::pidfd_open(init_fd, rustix::process::PidfdFlags::empty())
        .map_err(|e| match Errno::from_raw(e.raw_os_error()) {
            Errno::ESRCH => JoinError::InitGone(Errno::ESRCH),
            other => JoinError::os("opening the first process's pidfd", other),
        })?;
    let (report_r, report_w) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| JoinError::os("a pipe", e))?;
    let cgroups = CgroupEntry::open(&plan.cgroups)
        .map_err(|e| JoinError::os("opening the container's cgroups", e))?;
    let console = match &stdio {
        Stdio::Terminal => Some(
            socketpair(
                AddressFamily::Unix,
                SockType::Stream,
                None,
                SockFlag::SOCK_CLOEXEC,
            )
            .map_err(|e| JoinError::os("a console socket", e))?,
        ),
        Stdio::Pipes(_) => None,
    };
    let target = match plan.pid_namespace {
        true => PidNamespace::Join(&pidfd),
        false => PidNamespace::Shim,
    };
    let child = fork_into(target)?;
    let Some(child) = child else {
        // The child: never returns.
        drop(report_r);
        let console = console.map(|(_, child_end)| child_end);
        let result = run_child("the process", || {
            let Err(err) = become_process(plan, &pidfd, stdio, console, &report_w, cgroups);
            Err(err)
        });
        if let Err(err) = result {
            let _ = nix::unistd::write(&report_w, err.as_bytes());
        }
        executor::exit_now(1)
    };
    drop((report_w, cgroups));
    drop(stdio);
    // The child joins the cgroups, enters the namespaces and takes its
    // user, capabilities and seccomp filter on its own; a failure is in
    // its report.
    let console = console.map(|(parent_end, _)| parent_end);
    match read_report(report_r) {
        Ok(()) => {
            let master = match console.map(|sock| crate::console::receive_fd(sock.as_fd())) {
                Some(Ok(master)) => Some(master),
                Some(Err(e)) => {
                    // Not supervised without its terminal: it must not run on.
                    let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                    let _ = waitpid(child, None);
                    return Err(JoinError::os("receiving the terminal", e));
                }
                None => None,
            };
            Ok(Started { pid: child, master })
        }
        Err(message) => {
            let _ = waitpid(child, None);
            Err(JoinError::Setup(message))
        }
    }
}

/// A container's cgroups, opened by the shim for a child it forks: the
/// child moves itself in by writing 0 (itself) into each `cgroup.procs`.
///
/// A process moving itself costs the kernel less than being moved by pid
/// (measured on cgroup v1: about 35 against 65 µs a hierarchy), and the
/// shim, once it has forked, only waits: on a host that keeps a parent and
/// its new child on one CPU, the child runs at once instead of after the
/// shim's writes.
#[derive(Debug)]
pub(crate) struct CgroupEntry(Vec<(PathBuf, std::fs::File)>);

impl CgroupEntry {
    /// Opens the `cgroup.procs` of each of `dirs` for writing.
    pub(crate) fn open(dirs: &[PathBuf]) -> std::io::Result<CgroupEntry> {
        dirs.iter()
            .map(|dir| {
                let procs = dir.join("cgroup.procs");
                let file = std::fs::OpenOptions::new().write(true).open(&procs)?;
                Ok((procs, file))
            })
            .collect::<std::io::Result<_>>()
            .map(CgroupEntry)
    }

    /// In the child: moves this (single-threaded) process into every
    /// cgroup.
    pub(crate) fn join(&self) -> Result<(), String> {
        use std::io::Write;
        for (procs, file) in &self.0 {
            (&*file)
                .write_all(b"0")
                .map_err(|e| format!("joining the cgroup {}: {e}", procs.display()))?;
        }
        Ok(())
    }
}

/// The pid namespace a forked child starts in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PidNamespace<'a> {
    /// The shim's own.
    Shim,
    /// A running container's, through its first process's pidfd.
    Join(&'a OwnedFd),
    /// A new one, whose first process (pid 1) the child is.
    New,
}

/// Forks, the child starting in `target`. `None` in the child.
///
/// Entering or making a pid namespace only changes where the caller's
/// next children go, so the shim enters it, forks, and goes back: the
/// child is then the shim's own, in that pid namespace, and the shim reaps
/// it like any other.
#[allow(unsafe_code)]
pub(crate) fn fork_into(target: PidNamespace<'_>) -> Result<Option<Pid>, JoinError> {
    let own = match target {
        PidNamespace::Shim => None,
        PidNamespace::Join(_) | PidNamespace::New => Some(
            std::fs::File::open("/proc/self/ns/pid")
                .map_err(|e| JoinError::os("opening the shim's pid namespace", e))?,
        ),
    };
    match target {
        PidNamespace::Shim => {}
        PidNamespace::Join(pidfd) => nix::sched::setns(pidfd, CloneFlags::CLONE_NEWPID)
            .map_err(|e| JoinError::os("entering the container's pid namespace", e))?,
        PidNamespace::New => nix::sched::unshare(CloneFlags::CLONE_NEWPID)
            .map_err(|e| JoinError::os("making a pid namespace", e))?,
    }
    // SAFETY: the shim is single-threaded, so the child is a complete copy
    // of it; the child only sets itself up and then execs or `_exit`s.
    let forked = unsafe { nix::unistd::fork() };
    if let (Ok(ForkResult::Child), Some(_)) = (&forked, &own) {
        return Ok(None);
    }
    let left = match own {
        Some(own) => nix::sched::setns(own, CloneFlags::CLONE_NEWPID),
        None => Ok(()),
    };
    let child = match forked.map_err(|e| JoinError::os("fork", e))? {
        ForkResult::Child => return Ok(None),
        ForkResult::Parent { child } => child,
    };
    if let Err(e) = left {
        // Every later child would start in that namespace: this one does
        // not run, and the failure is loud.
        tracing::error!(error = %e, "could not go back to the shim's pid namespace");
        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
        let _ = waitpid(child, None);
        return Err(JoinError::os("going back to the shim's pid namespace", e));
    }
    Ok(Some(child))
}

/// Runs a forked child's `work`. A panic must not unwind into the code
/// the child is a copy of: it is the child's error, naming `what`. The
/// child then leaves with [`executor::exit_now`].
pub(crate) fn run_child(
    what: &str,
    work: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(format!("{what} panicked while being set up")))
}

/// The child's report: one zero byte when it is about to run the command,
/// or a message when it could not get there.
fn read_report(report: OwnedFd) -> Result<(), String> {
    let mut file = std::fs::File::from(report);
    let mut first = [0u8; 1];
    loop {
        match file.read(&mut first) {
            Ok(0) => return Err("the process ended while it was being set up".into()),
            Ok(_) if first[0] == 0 => return Ok(()),
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the process's setup report: {e}")),
        }
    }
    let mut rest = Vec::new();
    let _ = file.read_to_end(&mut rest);
    let mut message = vec![first[0]];
    message.extend(rest);
    Err(String::from_utf8_lossy(&message).into_owned())
}

/// In the child: everything between the fork and the command, in
/// libcontainer's order. Returns only on failure.
fn become_process(
    plan: &Plan,
    pidfd: &OwnedFd,
    stdio: Stdio,
    console: Option<OwnedFd>,
    report: &OwnedFd,
    cgroups: CgroupEntry,
) -> Result<std::convert::Infallible, String> {
    // Until it execs, this process holds the shim's memory and descriptors
    // and is the shim's binary: nothing in the container may open or trace
    // it through /proc once it has entered (exec sets it dumpable again).
    nix::sys::prctl::set_dumpable(false).map_err(|e| format!("dumpable: {e}"))?;
    // In the container's cgroups before anything else.
    cgroups.join()?;
    let syscall = create_syscall();
    let process = &plan.process;
    nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
    for rlimit in process.rlimits().iter().flatten() {
        syscall
            .set_rlimit(rlimit)
            .map_err(|e| format!("rlimit {:?}: {e}", rlimit.typ()))?;
    }
    if let Some(score) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", score.to_string())
            .map_err(|e| format!("oomScoreAdj {score}: {e}"))?;
    }
    if !plan.namespaces.is_empty() {
        nix::sched::setns(pidfd, plan.namespaces)
            .map_err(|e| format!("entering the container's namespaces: {e}"))?;
    }
    match (stdio, console) {
        (Stdio::Pipes(pipes), _) => {
            for (fd, target) in [(&pipes.stdin, 0), (&pipes.stdout, 1), (&pipes.stderr, 2)] {
                nix::unistd::dup2(fd.as_raw_fd(), target).map_err(|e| format!("stdio: {e}"))?;
            }
        }
        (Stdio::Terminal, Some(socket)) => {
            libcontainer::tty::setup_console(syscall.as_ref(), socket.as_raw_fd(), false)
                .map_err(|e| format!("terminal: {e}"))?;
            // setup_console closed it.
            std::mem::forget(socket);
        }
        (Stdio::Terminal, None) => return Err("terminal: no console socket".into()),
    }
    if process.no_new_privileges() == Some(true) {
        nix::sys::prctl::set_no_new_privs().map_err(|e| format!("noNewPrivileges: {e}"))?;
    }
    if let Some(umask) = process.user().umask() {
        let mode = nix::sys::stat::Mode::from_bits(umask)
            .ok_or_else(|| format!("user.umask {umask:o}: not a file mode"))?;
        nix::sys::stat::umask(mode);
    }
    let cwd = process.cwd();
    let chdir_again = match nix::unistd::chdir(cwd) {
        Ok(()) => false,
        Err(Errno::EPERM) => true,
        Err(e) => return Err(format!("cwd {}: {e}", cwd.display())),
    };
    if let Some(gids) = process.user().additional_gids().as_ref() {
        if !gids.is_empty() {
            let gids: Vec<Gid> = gids.iter().map(|g| Gid::from_raw(*g)).collect();
            syscall
                .set_groups(&gids)
                .map_err(|e| format!("user.additionalGids: {e}"))?;
        }
    }
    let (uid, gid) = (process.user().uid(), process.user().gid());
    syscall
        .set_id(Uid::from_raw(uid), Gid::from_raw(gid))
        .map_err(|e| format!("user {uid}:{gid}: {e}"))?;
    // Nothing of the shim's but stdio reaches the command.
    syscall
        .close_range(0)
        .map_err(|e| format!("closing inherited descriptors: {e}"))?;
    let no_new_privs = process.no_new_privileges() == Some(true);
    // Without no_new_privs the filter needs CAP_SYS_ADMIN: before the drop.
    if !no_new_privs {
        load_seccomp(plan)?;
    }
    libcontainer::capabilities::reset_effective(syscall.as_ref())
        .map_err(|e| format!("capabilities: {e}"))?;
    if let Some(caps) = process.capabilities() {
        libcontainer::capabilities::drop_privileges(caps, syscall.as_ref())
            .map_err(|e| format!("capabilities: {e}"))?;
    }
    if chdir_again {
        nix::unistd::chdir(cwd).map_err(|e| format!("cwd {}: {e}", cwd.display()))?;
    }
    if !nix::unistd::getcwd().is_ok_and(|d| d.is_absolute()) {
        return Err(format!("cwd {}: outside the container", cwd.display()));
    }
    if no_new_privs {
        load_seccomp(plan)?;
    }
    let mut env = plan.env.clone();
    if plan.needs_home {
        // Looked up inside the container, as libcontainer does.
        if let Some(home) = container_home(process.user().uid()) {
            env.extend(CString::new(format!("HOME={home}")));
        }
    }
    // Ready: from here a failure is the command's, with its exit code.
    nix::unistd::write(report, &[0]).map_err(|e| format!("reporting: {e}"))?;
    executor::restore_signals();
    executor::prepare_terminal(process);
    let err = exec_searching(&plan.args, &env, &plan.search_path);
    executor::exit_unrunnable(&plan.args[0].to_string_lossy(), err)
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

fn load_seccomp(plan: &Plan) -> Result<(), String> {
    if let Some(seccomp) = &plan.seccomp {
        libcontainer::seccomp::initialize_seccomp(seccomp)
            .map_err(|e| format!("linux.seccomp: {e}"))?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> T {
        serde_json::from_value(v.clone()).unwrap()
    }

    fn plan(spec: Value, process: Value) -> Result<Plan, Unsupported> {
        Plan::new(
            &typed(&spec),
            &typed(&process),
            vec![PathBuf::from("/sys/fs/cgroup/pids/vessel/t")],
        )
    }

    #[test]
    fn what_the_shim_cannot_do_itself_is_left_to_libcontainer() {
        let process = json!({"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}});
        let user_ns = json!({"linux": {"namespaces": [{"type": "pid"}, {"type": "user"}]}});
        assert!(plan(user_ns, process.clone())
            .unwrap_err()
            .to_string()
            .contains("user namespace"));
        let mut apparmor = process.clone();
        apparmor["apparmorProfile"] = json!("docker-default");
        let e = plan(json!({}), apparmor).unwrap_err();
        assert_eq!(e.to_string(), "process.apparmorProfile");
        let notify = json!({"linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": "/run/notify.sock",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]
        }}});
        assert!(plan(notify, process).is_err());
    }

    #[test]
    fn a_plan_keeps_the_processs_env_and_leaves_home_to_the_container() {
        let spec = json!({"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}]}});
        let process = json!({
            "args": ["sh", "-c", "true"],
            "env": ["PATH=/sbin:/bin", "A=1", "HOME="],
            "cwd": "/",
            "user": {"uid": 1000, "gid": 1000}
        });
        let p = plan(spec.clone(), process).unwrap();
        assert!(p.pid_namespace);
        assert_eq!(
            p.namespaces,
            CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET
        );
        assert_eq!(p.search_path, "/sbin:/bin");
        let env: Vec<_> = p.env.iter().map(|e| e.to_str().unwrap()).collect();
        assert_eq!(env, ["PATH=/sbin:/bin", "A=1"]);
        assert!(p.needs_home);

        let own_home = json!({"args": ["true"], "env": ["HOME=/mine"], "cwd": "/", "user": {"uid": 0, "gid": 0}});
        let p = plan(spec, own_home.clone()).unwrap();
        assert_eq!(p.search_path, DEFAULT_PATH);
        assert_eq!(p.env, [CString::new("HOME=/mine").unwrap()]);
        assert!(!p.needs_home);

        // Without a mount namespace (libcontainer chroots the first
        // process) or without cgroups, libcontainer does it.
        assert!(plan(
            json!({"linux": {"namespaces": [{"type": "pid"}]}}),
            own_home.clone()
        )
        .is_err());
        let mount = json!({"linux": {"namespaces": [{"type": "mount"}]}});
        assert!(Plan::new(&typed(&mount), &typed(&own_home), Vec::new()).is_err());
    }
}
