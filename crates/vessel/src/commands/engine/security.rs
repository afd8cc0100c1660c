//! Confinement flags of `create`/`run`, docker's: `--privileged`,
//! `--cap-add`, `--cap-drop`.

use clap::Args;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct SecurityFlags {
    /// Every capability of the host's bounding set, every device, nothing
    /// hidden under /proc and /sys.
    #[arg(long)]
    privileged: bool,
    /// Add a capability (NAME, CAP_NAME, or ALL).
    #[arg(long = "cap-add")]
    cap_add: Vec<String>,
    /// Drop a capability (NAME, CAP_NAME, or ALL).
    #[arg(long = "cap-drop")]
    cap_drop: Vec<String>,
}

impl SecurityFlags {
    /// Puts the flags given into a host config, in Docker's member names.
    pub fn apply(&self, host: &mut Value) {
        if self.privileged {
            host["Privileged"] = json!(true);
        }
        if !self.cap_add.is_empty() {
            host["CapAdd"] = json!(self.cap_add);
        }
        if !self.cap_drop.is_empty() {
            host["CapDrop"] = json!(self.cap_drop);
        }
    }
}
