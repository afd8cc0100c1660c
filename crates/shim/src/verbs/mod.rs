//! One file per verb of the shim's protocol.

pub mod attach;
pub mod close_stdin;
pub mod delete;
pub mod exec;
pub mod pause;
pub mod ps;
pub mod resize;
pub mod resume;
pub mod shutdown;
pub mod signal;
pub mod start;
pub mod stats;
pub mod update;
pub mod wait;

use libcgroups::common::{AnyCgroupManager, CgroupConfig};
use vessel_runtime::protocol::{ErrorKind, RemoteError, Request, Response};

use crate::server::{Reply, Shim};

/// Routes a request to its verb.
pub fn handle(shim: &mut Shim, conn: usize, req: Request) -> Reply {
    match req {
        Request::State => Reply::Now(Response::State(shim.state())),
        Request::Start => start::start(shim),
        Request::Exec {
            id,
            process,
            attach,
            stdin,
        } => exec::exec(shim, id, process, attach, stdin),
        Request::Signal {
            process,
            signal,
            all,
        } => signal::signal(shim, &process, signal, all),
        Request::Resize {
            process,
            width,
            height,
        } => resize::resize(shim, &process, width, height),
        Request::CloseStdin { process } => close_stdin::close_stdin(shim, &process),
        Request::Pause => pause::pause(shim),
        Request::Resume => resume::resume(shim),
        Request::Stats => stats::stats(shim),
        Request::Ps => ps::ps(shim),
        Request::Wait { process } => wait::wait(shim, conn, &process),
        Request::Update { resources } => update::update(shim, &resources),
        Request::Shutdown { timeout_secs } => shutdown::shutdown(shim, conn, timeout_secs),
        Request::Terminate => shutdown::terminate(shim),
        Request::Delete { force } => delete::delete(shim, conn, force),
        Request::Attach { process, stdin } => attach::attach(shim, &process, stdin),
    }
}

/// The container's cgroup.
pub fn cgroup(shim: &Shim) -> Result<AnyCgroupManager, RemoteError> {
    libcgroups::common::create_cgroup_manager(CgroupConfig {
        cgroup_path: shim.bundle.cgroups_path.clone().into(),
        systemd_cgroup: false,
        container_name: shim.id.clone(),
    })
    .map_err(|e| internal("opening the container's cgroup", e))
}

/// An unexpected failure, with what was being done.
pub fn internal(doing: &str, e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, format!("{doing}: {e}"))
}
