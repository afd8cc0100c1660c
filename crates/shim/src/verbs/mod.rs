//! One file per verb of the shim's protocol. A verb takes the container
//! under supervision ([`ShimState`]) and returns what to answer
//! ([`Reply`]) or why it failed; the server writes the answer.

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
use vessel_runtime::protocol::{Request, Response};

use crate::error::ShimError;
use crate::shim_state::{ConnId, ShimState};

/// What a verb answers.
#[derive(Debug)]
pub enum Reply {
    Now(Response),
    /// The verb keeps the connection and answers later.
    Later,
    /// Answer, then stream `process`'s output on the connection.
    Attach {
        response: Response,
        process: String,
        feed: Feed,
    },
}

/// Routes a request, which came on connection `conn`, to its verb.
pub fn handle(state: &mut ShimState, conn: ConnId, req: Request) -> Result<Reply, ShimError> {
    match req {
        Request::State => Ok(Reply::Now(Response::State(state.state()))),
        Request::Start => start::start(state),
        Request::Exec {
            id,
            process,
            attach,
            stdin,
        } => exec::exec(state, id, process, attach, stdin),
        Request::Signal {
            process,
            signal,
            all,
        } => signal::signal(state, &process, signal, all),
        Request::Resize {
            process,
            width,
            height,
        } => resize::resize(state, &process, width, height),
        Request::CloseStdin { process } => close_stdin::close_stdin(state, &process),
        Request::Pause => pause::pause(state),
        Request::Resume => resume::resume(state),
        Request::Stats => stats::stats(state),
        Request::Ps => ps::ps(state),
        Request::Wait { process } => wait::wait(state, conn, &process),
        Request::Update { resources } => update::update(state, &resources),
        Request::Shutdown { timeout_secs } => shutdown::shutdown(state, conn, timeout_secs),
        Request::Terminate => shutdown::terminate(state),
        Request::Delete { force } => delete::delete(state, conn, force),
        Request::Attach {
            process,
            stdin,
            keep_stdin,
        } => attach::attach(state, &process, Feed::asked(stdin, keep_stdin)),
    }
}

/// What an attached connection does with its process's stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Nothing: output only.
    No,
    /// Feeds it, and closes it when the connection's input ends.
    Closing,
    /// Feeds it, and leaves it open when the connection's input ends.
    KeepingOpen,
}

impl Feed {
    /// What a request asks for: `stdin`, kept open at its end or not.
    pub fn asked(stdin: bool, keep_open: bool) -> Feed {
        match (stdin, keep_open) {
            (false, _) => Feed::No,
            (true, false) => Feed::Closing,
            (true, true) => Feed::KeepingOpen,
        }
    }
}

/// The container's cgroup.
pub fn cgroup(state: &ShimState) -> Result<AnyCgroupManager, ShimError> {
    libcgroups::common::create_cgroup_manager(CgroupConfig {
        cgroup_path: state.bundle.cgroups_path.clone().into(),
        systemd_cgroup: false,
        container_name: state.id.clone(),
    })
    .map_err(ShimError::internal("opening the container's cgroup"))
}
