//! Name flags of `create`/`run`, docker's: `--add-host`, `--dns`,
//! `--dns-search`, `--dns-option`.

use clap::Args;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct NameFlags {
    /// A line of /etc/hosts: NAME:IP.
    #[arg(long = "add-host")]
    add_host: Vec<String>,
    /// A resolver for /etc/resolv.conf.
    #[arg(long)]
    dns: Vec<String>,
    /// A search domain for /etc/resolv.conf.
    #[arg(long = "dns-search")]
    dns_search: Vec<String>,
    /// A resolver option for /etc/resolv.conf.
    #[arg(long = "dns-option")]
    dns_option: Vec<String>,
}

impl NameFlags {
    /// Puts the flags given into a host config, in Docker's member names.
    pub fn apply(&self, host: &mut Value) {
        for (member, given) in [
            ("ExtraHosts", &self.add_host),
            ("Dns", &self.dns),
            ("DnsSearch", &self.dns_search),
            ("DnsOptions", &self.dns_option),
        ] {
            if !given.is_empty() {
                host[member] = json!(given);
            }
        }
    }
}
