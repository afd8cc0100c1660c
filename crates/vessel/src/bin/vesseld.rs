//! `vesseld`: the Vessel daemon. It serves the Docker Engine API on a unix
//! socket and keeps containers, images and events under its state root.
//! Containers outlive it: a restarted vesseld finds them again.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use vessel_engine::paths::{DEFAULT_EXEC_ROOT, DEFAULT_ROOT};
use vessel_engine::{Daemon, Paths};

#[derive(Debug, Parser)]
#[command(name = "vesseld", version, about = "The Vessel daemon")]
struct Args {
    /// State root: records, images, logs.
    #[arg(long, default_value = DEFAULT_ROOT)]
    root: PathBuf,
    /// Runtime root: the API socket and the shims' state.
    #[arg(long, default_value = DEFAULT_EXEC_ROOT)]
    exec_root: PathBuf,
    /// Where to serve the API (`unix:///path`; default: vessel.sock under
    /// the runtime root).
    #[arg(long, short = 'H')]
    host: Option<String>,
    /// A registry (`host[:port]`) whose certificate is not checked, or
    /// that is spoken to over plain HTTP when it does not answer TLS;
    /// repeat for more. Registries on loopback always are.
    #[arg(long = "insecure-registry", value_name = "REGISTRY")]
    insecure_registries: Vec<String>,
    /// Log filter: error, warn, info, debug, trace.
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
}

fn main() -> anyhow::Result<()> {
    // The daemon's own binary copies a container's files (`docker cp`)
    // from inside the container's filesystem.
    let mut argv = std::env::args().skip(1);
    if argv.next().as_deref() == Some(vessel_engine::archive::HELPER_ARG) {
        std::process::exit(vessel_engine::archive::helper::main(argv.next()));
    }
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_max_level(args.log_level)
        .with_writer(std::io::stderr)
        .init();
    let paths = Paths::new(&args.root, &args.exec_root);
    let socket = match &args.host {
        Some(h) => {
            let path = h.strip_prefix("unix://").with_context(|| {
                format!("--host {h:?}: only unix:///path is supported (no TCP listener)")
            })?;
            PathBuf::from(path)
        }
        None => paths.socket(),
    };
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let registries = vessel_engine::image::Registries::new(args.insecure_registries.clone());
    let daemon = Daemon::open(paths, vessel_runtime::launch::shim_path(), registries)
        .context("opening the engine's state")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let engine = daemon.clone();
    let result = rt.block_on(async {
        let serve = vessel_engine::api::serve(daemon, &socket);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = serve => r.with_context(|| format!("serving on {}", socket.display())),
            _ = tokio::signal::ctrl_c() => Ok(()),
            _ = term.recv() => Ok(()),
        }
    });
    // Requests still waiting (wait, logs -f, events) are abandoned.
    rt.shutdown_background();
    result?;
    // Containers keep running; the next vesseld restores them.
    engine.shutdown();
    let _ = std::fs::remove_file(&socket);
    tracing::info!("stopped");
    Ok(())
}
