//! `vessel runtime update`.

use std::path::Path;

use clap::Args;
use vessel_runtime::protocol::ResourceUpdate;
use vessel_runtime::Request;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Memory limit in bytes.
    #[arg(long)]
    memory: Option<i64>,
    /// CPU time per period, in microseconds (-1 for none).
    #[arg(long)]
    cpu_quota: Option<i64>,
    /// CFS period in microseconds.
    #[arg(long)]
    cpu_period: Option<u64>,
    /// Relative CPU weight (2-262144).
    #[arg(long)]
    cpu_shares: Option<u64>,
    /// Most processes the container may have (-1 for no limit).
    #[arg(long)]
    pids_limit: Option<i64>,
    id: String,
}

pub fn update(root: &Path, args: UpdateArgs) -> anyhow::Result<()> {
    let resources = ResourceUpdate {
        memory: args.memory,
        memory_swap: None,
        cpu_quota: args.cpu_quota,
        cpu_period: args.cpu_period,
        cpu_shares: args.cpu_shares,
        pids_limit: args.pids_limit,
    };
    if resources == ResourceUpdate::default() {
        anyhow::bail!(
            "update: give at least one of --memory, --cpu-quota, --cpu-period, --cpu-shares, --pids-limit"
        );
    }
    super::call(root, &args.id, &Request::Update { resources })?;
    Ok(())
}
