//! `vessel-shim`: one small supervisor process per container.
//!
//! libcontainer forks from its caller, makes the container's first process
//! the caller's child and changes the caller's own process state, so it
//! runs here, in a single-threaded process of its own, never in a daemon.
//! The shim holds the container's stdio, writes its log, reaps its
//! processes and records their exits, and serves the verbs of
//! [`vessel_runtime::protocol`] on a unix socket. It outlives whoever
//! started it and exits when the container is deleted.

pub mod boot;
pub mod cgroups;
mod child;
pub mod cleanup;
pub mod console;
pub mod create;
pub mod error;
pub mod executor;
pub mod fallback;
pub mod join;
pub mod mounts;
pub mod network;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod server;
pub mod shim_state;
pub mod state;
pub mod verbs;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::ForkResult;
use vessel_runtime::launch::{self, CreateRequest, LaunchError, Ready};
use vessel_runtime::layout::validate_id;
use vessel_runtime::protocol::RemoteError;
use vessel_runtime::ContainerDir;

use crate::error::ShimError;
use crate::server::Server;
use crate::shim_state::ShimState;

/// The shim's entry point.
pub fn main() -> ExitCode {
    // Before anything else: SIGCHLD blocked and read from a signalfd, so an
    // exit that happens at any later point is seen.
    let Some(sigfd) = watch_children() else {
        return ExitCode::FAILURE;
    };
    // The answer goes to the caller on our stdout; from now on stdout is a
    // private copy and fd 1 is /dev/null, so no child inherits the socket.
    let Some(answer) = take_stdout() else {
        return ExitCode::FAILURE;
    };
    if std::env::args().nth(1).as_deref() == Some("--cleanup") {
        return cleanup_leftovers();
    }
    detach();
    // Everything so far is done before the request is known, so that a
    // caller may start us ahead of it (a spare).
    let mut ahead = create::Ahead::default();
    if std::env::args().nth(1).as_deref() == Some(vessel_runtime::launch::SPARE_FLAG) {
        // A spare has time: what every container of the daemon's needs is
        // made now, in the background (a failure just leaves it to the
        // create).
        ahead.network = network::ReadyNetwork::new().ok();
        ahead.cgroups =
            cgroups::ready::ReadyCgroups::new(vessel_runtime::bundle::CGROUP_PARENT).ok();
        seccomp::warm_up();
        normal_priority();
    }
    // End of input without a request: the caller no longer needs us.
    let request = match take_request() {
        Some(line) => line,
        None => return ExitCode::SUCCESS,
    };
    let req = serde_json::from_str::<CreateRequest>(&request).map_err(ShimError::Request);
    match serve(req, sigfd, ahead, answer) {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

/// Starts a shim for `req` by forking the calling process instead of
/// running the shim binary `shim` (a fork skips the binary's start, about
/// a millisecond), and waits until the container exists (and, for a
/// foreground run, its first process runs). Returns the socket the shim
/// answered on, a foreground run's attach stream. Only a single-threaded
/// process can be forked safely, so a caller with threads gets the binary.
pub fn create_forked(
    shim: &Path,
    req: &CreateRequest,
) -> Result<BufReader<UnixStream>, LaunchError> {
    if !single_threaded() {
        return launch::Spare::start(shim)?
            .launch(req)
            .map(|(_, _, stream)| stream);
    }
    let (ours, theirs) = UnixStream::pair().map_err(LaunchError::Io)?;
    // SAFETY: the process has this one thread (checked just above, and only
    // this thread could have started another since), so the child is a
    // complete copy of it; the child becomes the shim and leaves with
    // `exit`, never returning into the caller's code.
    #[allow(unsafe_code)]
    let forked = unsafe { nix::unistd::fork() };
    match forked.map_err(|e| LaunchError::Io(e.into()))? {
        ForkResult::Child => {
            drop(ours);
            forked_main(req, theirs)
        }
        ForkResult::Parent { child } => {
            drop(theirs);
            let mut stream = BufReader::new(ours);
            let result = launch::conclude(launch::read_answer(&mut stream), req);
            if let Err(e) = &result {
                if matches!(e, LaunchError::Io(_)) {
                    let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
                }
                let _ = nix::sys::wait::waitpid(child, None);
            }
            result.map(|_| stream)
        }
    }
}

/// The forked shim: what `main` does, with the request in hand. It never
/// returns into the caller's code, not even by a panic.
fn forked_main(req: &CreateRequest, answer: UnixStream) -> ! {
    // The caller's stdio is not ours.
    null_stdio();
    let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        watch_children().is_some_and(|sigfd| {
            detach();
            let _ = nix::sys::prctl::set_name(c"vessel-shim");
            serve(Ok(req.clone()), sigfd, create::Ahead::default(), answer)
        })
    }))
    .unwrap_or(false);
    executor::exit_now(if served { 0 } else { 1 })
}

/// Creates the container for `req` (and starts it, when asked), answers
/// on `answer`, then supervises the container until it is deleted. False
/// if it was not created.
fn serve(
    req: Result<CreateRequest, ShimError>,
    sigfd: SignalFd,
    ahead: create::Ahead,
    mut answer: UnixStream,
) -> bool {
    let foreground = req.as_ref().ok().and_then(|r| r.foreground);
    let start = req.as_ref().ok().and_then(|r| r.start);
    let starts = req.as_ref().is_ok_and(create::starts_within);
    let log = req
        .as_ref()
        .ok()
        .filter(|r| !r.no_log)
        .and_then(|r| r.log.clone());
    let result = req
        .and_then(|req| setup(&req, ahead))
        .and_then(|(mut state, channels)| {
            if starts {
                start_within(&mut state)?;
            }
            Ok((state, channels))
        });
    let (ready, created) = match result {
        Ok((state, channels)) => (Ready::Created(state.state()), Some((state, channels))),
        Err(e) => (Ready::Failed(RemoteError::from(&e)), None),
    };
    let mut line = serde_json::to_vec(&ready).expect("answers serialize");
    line.push(b'\n');
    let _ = answer.write_all(&line);
    let Some((state, channels)) = created else {
        return false;
    };
    let mut server = Server::new(state, channels.log, channels.listener, sigfd);
    server.watch_for_removal(log.as_deref());
    match (foreground, start) {
        (Some(fg), _) => server.attach_foreground(answer, fg),
        (None, Some(s)) if s.attach => server.attach_first(answer, s),
        _ => drop(answer),
    }
    server.run();
    true
}

/// A start within the create, before the caller is answered, unless the
/// create did it already: a failed start has removed the container, and
/// is the create's failure.
fn start_within(state: &mut ShimState) -> Result<(), ShimError> {
    if state.status != vessel_runtime::Status::Created {
        return Ok(());
    }
    verbs::start::start(state).map(drop)
}

/// SIGCHLD blocked and read from a signalfd.
fn watch_children() -> Option<SignalFd> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    mask.thread_block().ok()?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok()
}

/// Our own session (the caller's terminal signals are not ours), and the
/// container's orphans reparented to us.
fn detach() {
    let _ = nix::unistd::setsid();
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Whether this process runs one thread only.
fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
}

/// /dev/null on fds 0, 1 and 2.
fn null_stdio() {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null");
    if let Ok(null) = null {
        for fd in 0..3 {
            let _ = nix::unistd::dup2(null.as_raw_fd(), fd);
        }
    }
}

/// Makes the container's state directory and creates the container in
/// it; on failure removes whatever was made.
fn setup(
    req: &CreateRequest,
    ahead: create::Ahead,
) -> Result<(ShimState, create::Channels), ShimError> {
    validate_id(&req.id)?;
    let cdir = ContainerDir::new(&req.root, &req.id);
    std::fs::create_dir_all(&req.root).map_err(|source| ShimError::StateRoot {
        root: req.root.clone(),
        source,
    })?;
    cleanup::sweep_tombstones(&req.root);
    std::fs::create_dir(cdir.path()).map_err(|source| ShimError::ContainerDir {
        id: req.id.clone(),
        source,
    })?;
    init_logging(&cdir);
    let _ = std::fs::write(cdir.shim_pid(), std::process::id().to_string());
    create::create(req, &cdir, ahead).inspect_err(|e| {
        tracing::error!(container = %req.id, error = %error::chain(e), "create failed; cleaning up");
        cleanup::remove_leftovers(&cdir, &req.id);
    })
}

/// `vessel-shim --cleanup '<create request>'`: removes a container whose
/// shim is gone (killed, or the machine's /run survived a crash of it).
fn cleanup_leftovers() -> ExitCode {
    let arg = std::env::args().nth(2).unwrap_or_default();
    let Ok(req) = serde_json::from_str::<CreateRequest>(&arg) else {
        return ExitCode::FAILURE;
    };
    if validate_id(&req.id).is_err() {
        return ExitCode::FAILURE;
    }
    cleanup::remove_leftovers(&ContainerDir::new(&req.root, &req.id), &req.id);
    ExitCode::SUCCESS
}

fn init_logging(cdir: &ContainerDir) {
    if let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(cdir.shim_log())
    {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
    }
}

/// Reads the create request, one line on stdin, then points fd 0 at
/// /dev/null so that no child inherits the caller's pipe. `None` at end of
/// input.
fn take_request() -> Option<String> {
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = nix::unistd::dup2(null.as_raw_fd(), 0);
    }
    match read {
        Ok(n) if n > 0 => Some(line),
        _ => None,
    }
}

/// A spare shim may have been started at a low priority, so that its start
/// does not compete with the containers being started. Started, it waits
/// at the normal priority: its request must not wait for a CPU.
fn normal_priority() {
    let _ = rustix::process::setpriority_process(None, 0);
}

/// Moves stdout (the socket the caller reads our answer on) to a new
/// descriptor and puts /dev/null on fd 1.
fn take_stdout() -> Option<UnixStream> {
    let copy: OwnedFd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .ok()?;
    nix::unistd::dup2(null.as_raw_fd(), 1).ok()?;
    Some(UnixStream::from(copy))
}
