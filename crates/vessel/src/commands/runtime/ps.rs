//! `vessel runtime ps`.

use std::path::Path;

use anyhow::bail;
use vessel_runtime::{Request, Response};

pub fn ps(root: &Path, id: &str) -> anyhow::Result<()> {
    let Response::Ps(list) = super::call(root, id, &Request::Ps)? else {
        bail!("the shim answered ps with something else");
    };
    println!("{:<8} {:<8} {:<10} COMMAND", "PID", "PPID", "USER");
    for p in list {
        println!("{:<8} {:<8} {:<10} {}", p.pid, p.ppid, p.user, p.command);
    }
    Ok(())
}
