//! `vessel runtime stats`.

use std::path::Path;

use anyhow::bail;
use vessel_runtime::{Request, Response};

pub fn stats(root: &Path, id: &str) -> anyhow::Result<()> {
    let Response::Stats(stats) = super::call(root, id, &Request::Stats)? else {
        bail!("the shim answered stats with something else");
    };
    println!("{}", serde_json::to_string_pretty(&stats)?);
    Ok(())
}
