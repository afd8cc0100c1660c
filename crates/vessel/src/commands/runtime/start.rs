//! `vessel runtime start`.

use std::path::Path;

use vessel_runtime::Request;

pub fn start(root: &Path, id: &str) -> anyhow::Result<()> {
    super::call(root, id, &Request::Start)?;
    Ok(())
}
