//! How the container's process is finally run: `execvp`, with the exit
//! codes Docker gives a command that cannot be run.
//!
//! libcontainer's default executor checks the command before the container
//! starts and fails the whole create with a message; this one lets the
//! kernel decide inside the container (its mounts, its PATH) and exits 127
//! when the command is not found and 126 when it cannot be executed, with
//! a message on the process's stderr.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsFd;

use libcontainer::oci_spec::runtime::{Process, Spec};
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use nix::errno::Errno;
use nix::sys::signal::{signal, SigHandler, SigSet, Signal};

/// Exit code of a command that does not exist.
pub const NOT_FOUND: i32 = 127;
/// Exit code of a command that exists but cannot be executed.
pub const NOT_EXECUTABLE: i32 = 126;

#[derive(Clone, Debug)]
pub struct ShimExecutor(pub Unrunnable);

/// The shim blocks SIGCHLD and ignores SIGPIPE; a blocked mask and ignored
/// signals survive exec, so the container's process gets the defaults back.
#[allow(unsafe_code)]
pub(crate) fn restore_signals() {
    let _ = SigSet::empty().thread_set_mask();
    // SAFETY: installs the default disposition, no handler function; this
    // process is about to exec and runs no other thread.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// Readies a process's terminal (its stdin) just before the exec: it
/// becomes the session's controlling terminal, and takes the spec's
/// `consoleSize`, set here so that it is in place before the command runs
/// (the shim only gets the terminal's master once the process runs).
pub(crate) fn prepare_terminal(process: &Process) {
    if process.terminal() == Some(true) {
        // The terminal is made in the container before libcontainer's init
        // starts the process's session (`mounts`), too early to become its
        // controlling terminal then: it becomes it now, so that the
        // terminal's Ctrl-C and job control reach the process.
        let _ = crate::console::make_controlling(std::io::stdin().as_fd());
    }
    if let (Some(true), Some(size)) = (process.terminal(), process.console_size()) {
        let (w, h) = (size.width(), size.height());
        if let (Ok(w), Ok(h)) = (u16::try_from(w), u16::try_from(h)) {
            if w > 0 && h > 0 {
                let _ = crate::console::resize(std::io::stdin().as_fd(), w, h);
            }
        }
    }
}

/// Which process could not run its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrunnable {
    /// The container's first process: 127 when the command is missing,
    /// 126 when it cannot be run, as Docker's.
    First,
    /// An exec: 126 either way, as Docker's (its exec fails to start).
    Exec,
}

/// Leaves with Docker's code for a command that could not be run, after
/// saying why on the process's stderr.
pub(crate) fn exit_unrunnable(command: &str, err: Errno, who: Unrunnable) -> ! {
    let (code, what) = match err {
        Errno::ENOENT | Errno::ENOTDIR => (NOT_FOUND, "not found or does not exist"),
        _ => (NOT_EXECUTABLE, "could not be invoked"),
    };
    let (code, whose) = match who {
        Unrunnable::First => (code, "container command"),
        Unrunnable::Exec => (NOT_EXECUTABLE, "exec"),
    };
    let _ = writeln!(
        std::io::stderr(),
        "vessel: {whose} '{command}' {what}: {}",
        err.desc()
    );
    exit_now(code)
}

/// Ends a child forked from the shim (or from the CLI it was forked from)
/// at once with `code`.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process at once; a forked child must not run
    // the exit handlers or flush the buffers of the process it is a copy of.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(code)
    }
}

impl Executor for ShimExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        let args: Vec<String> = spec
            .process()
            .as_ref()
            .and_then(|p| p.args().clone())
            .unwrap_or_default();
        let Some(command) = args.first() else {
            return Err(ExecutorError::InvalidArg);
        };
        let c_args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_bytes()).map_err(|_| ExecutorError::InvalidArg))
            .collect::<Result<_, _>>()?;
        restore_signals();
        if let Some(process) = spec.process() {
            prepare_terminal(process);
        }
        let err = nix::unistd::execvp(&c_args[0], &c_args).unwrap_err();
        exit_unrunnable(command, err, self.0)
    }

    fn validate(&self, _spec: &Spec) -> Result<(), ExecutorValidationError> {
        Ok(())
    }
}
