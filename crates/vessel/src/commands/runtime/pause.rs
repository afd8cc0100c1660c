//! `vessel runtime pause`.

use std::path::Path;

use vessel_runtime::Request;

pub fn pause(root: &Path, id: &str) -> anyhow::Result<()> {
    super::call(root, id, &Request::Pause)?;
    Ok(())
}
