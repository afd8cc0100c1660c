//! `vessel runtime resume`.

use std::path::Path;

use vessel_runtime::Request;

pub fn resume(root: &Path, id: &str) -> anyhow::Result<()> {
    super::call(root, id, &Request::Resume)?;
    Ok(())
}
