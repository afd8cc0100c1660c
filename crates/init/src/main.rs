//! `vessel-init`: the init a container runs as its first process with
//! `--init` (`/sbin/docker-init -- COMMAND ARGS...`), as Docker's
//! docker-init (tini) does: it starts the command as its child, passes
//! every signal it gets on to it, reaps every process that ends up its
//! child (orphans in the container become pid 1's), and when the command
//! ends, exits as it did (its code, or 128 + its signal).
//!
//! The engine's build script builds this file on its own, statically
//! linked, so that it runs in any image, and vesseld carries it; it uses
//! only the C library, declared here.

use std::ffi::{c_char, c_int, CString, OsString};
use std::os::unix::ffi::OsStringExt;

/// glibc's `sigset_t`: 1024 bits.
#[repr(C)]
struct SigSet([u64; 16]);

extern "C" {
    fn fork() -> c_int;
    fn execvp(file: *const c_char, argv: *const *const c_char) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn sigfillset(set: *mut SigSet) -> c_int;
    fn sigdelset(set: *mut SigSet, signal: c_int) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn sigwaitinfo(set: *const SigSet, info: *mut [u64; 16]) -> c_int;
    fn signal(signal: c_int, handler: usize) -> usize;
    fn kill(pid: c_int, signal: c_int) -> c_int;
    fn getpid() -> c_int;
    fn prctl(option: c_int, arg: u64, arg3: u64, arg4: u64, arg5: u64) -> c_int;
    fn _exit(code: c_int) -> !;
}

const SIG_BLOCK: c_int = 0;
const SIG_SETMASK: c_int = 2;
const SIG_DFL: usize = 0;
const SIGPIPE: c_int = 13;
const SIGCHLD: c_int = 17;
const WNOHANG: c_int = 1;
const PR_SET_CHILD_SUBREAPER: c_int = 36;
/// Signals the kernel sends for a fault of the process itself: never
/// blocked (blocked, they would kill it anyway).
const SYNCHRONOUS: [c_int; 5] = [4, 5, 7, 8, 11]; // ILL TRAP BUS FPE SEGV

/// How a process ended, as a shell's `$?` shows it.
fn exit_code(status: c_int) -> c_int {
    let signal = status & 0x7f;
    match signal {
        0 => (status >> 8) & 0xff,
        _ => 128 + signal,
    }
}

/// The command: what follows `--` (or every argument, without one).
fn command(args: Vec<OsString>) -> Vec<OsString> {
    let mut args = args.into_iter().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "--") {
        args.next();
    }
    args.collect()
}

/// Why the command could not be run, and the code that says so.
fn exec_failure(errno: i32) -> c_int {
    const ENOENT: i32 = 2;
    const EACCES: i32 = 13;
    match errno {
        ENOENT => 127,
        EACCES => 126,
        _ => 127,
    }
}

#[allow(unsafe_code)]
fn run() -> c_int {
    let args = command(std::env::args_os().collect());
    if args.is_empty() {
        eprintln!("vessel-init: usage: vessel-init [--] COMMAND [ARG...]");
        return 1;
    }
    let Ok(argv) = args
        .iter()
        .map(|a| CString::new(a.clone().into_vec()))
        .collect::<Result<Vec<_>, _>>()
    else {
        eprintln!("vessel-init: an argument holds a NUL byte");
        return 1;
    };
    let mut pointers: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());

    let mut all = SigSet([0; 16]);
    let mut old = SigSet([0; 16]);
    // SAFETY: the sets are glibc's size and live across the calls; the
    // mask is this single-threaded process's own.
    unsafe {
        sigfillset(&mut all);
        for s in SYNCHRONOUS {
            sigdelset(&mut all, s);
        }
        sigprocmask(SIG_BLOCK, &all, &mut old);
        // Not pid 1 (the host's pid namespace): orphans still come here.
        if getpid() != 1 {
            prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    }
    // SAFETY: the child only restores its signal state and execs (or
    // exits), all async-signal-safe.
    let child = unsafe { fork() };
    if child < 0 {
        eprintln!("vessel-init: fork: {}", std::io::Error::last_os_error());
        return 1;
    }
    if child == 0 {
        // SAFETY: `pointers` is a NUL-terminated array of C strings that
        // outlive the call; on failure the child leaves at once.
        unsafe {
            sigprocmask(SIG_SETMASK, &old, std::ptr::null_mut());
            signal(SIGPIPE, SIG_DFL);
            execvp(pointers[0], pointers.as_ptr());
            let err = std::io::Error::last_os_error();
            eprintln!("vessel-init: exec {:?} failed: {err}", args[0]);
            _exit(exec_failure(err.raw_os_error().unwrap_or(0)));
        }
    }
    supervise(child, &all)
}

/// Passes signals on to `child` and reaps until it has ended; returns its
/// exit code.
#[allow(unsafe_code)]
fn supervise(child: c_int, signals: &SigSet) -> c_int {
    loop {
        let mut info = [0u64; 16];
        // SAFETY: `info` is a siginfo_t's size (128 bytes).
        let signal = unsafe { sigwaitinfo(signals, &mut info) };
        if signal < 0 {
            continue; // EINTR
        }
        if signal != SIGCHLD {
            // SAFETY: a plain kill of our own child.
            unsafe { kill(child, signal) };
            continue;
        }
        loop {
            let mut status = 0;
            // SAFETY: `status` outlives the call.
            let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == child {
                return exit_code(status);
            }
        }
    }
}

#[allow(unsafe_code)]
fn main() {
    let code = run();
    // SAFETY: leaves without running anything more (nothing is buffered:
    // stderr is unbuffered).
    unsafe { _exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_follows_a_double_dash() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            command(args(&["init", "--", "sleep", "1"])),
            args(&["sleep", "1"])
        );
        assert_eq!(command(args(&["init", "sh"])), args(&["sh"]));
        assert!(command(args(&["init", "--"])).is_empty());
    }

    #[test]
    fn exit_codes_are_a_shells() {
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(9), 137);
        assert_eq!(exit_code(15), 143);
        assert_eq!(exec_failure(2), 127);
        assert_eq!(exec_failure(13), 126);
    }
}
