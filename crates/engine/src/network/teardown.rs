//! Veths go off the path of a container's exit, on a thread of their
//! own. Deleting a link waits for the kernel (its RCU grace periods, 10
//! to 40 ms here) and holds its network lock meanwhile, which would stall
//! every start behind it; so a container's veths are not deleted one by
//! one but go with its network namespace, which the kernel tears down on
//! its own, in batches, once the sandbox is unmounted. The thread waits
//! for them to go (and deletes one that stays). An endpoint's address
//! stays held until its veth is gone (nothing else may take it while the
//! old pair exists); a start that makes a veth of the same name (a
//! restart) and a network that goes wait for it.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::Networks;

/// How long a veth whose namespace is gone may take to go with it before
/// it is deleted.
const GRACE: Duration = Duration::from_secs(2);

/// A veth to see gone, and the address to give back then.
#[derive(Debug)]
struct Gone {
    veth: String,
    network: String,
    ip: Option<Ipv4Addr>,
}

/// The veths waiting to go, with their networks' ids, and a signal when
/// one went.
#[derive(Debug, Default)]
struct Pending {
    veths: Mutex<HashMap<String, String>>,
    went: Condvar,
}

impl Pending {
    fn veths(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.veths.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until no veth `which` picks (by name and network) waits.
    fn wait_none(&self, which: impl Fn(&str, &str) -> bool) {
        let mut veths = self.veths();
        while veths.iter().any(|(v, n)| which(v, n)) {
            veths = self.went.wait(veths).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[derive(Debug)]
pub(super) struct Worker {
    jobs: Sender<Gone>,
    pending: Arc<Pending>,
}

impl Worker {
    pub fn start(networks: Weak<Networks>) -> std::io::Result<Worker> {
        let (jobs, rx) = channel::<Gone>();
        let pending = Arc::new(Pending::default());
        let done = pending.clone();
        std::thread::Builder::new()
            .name("vessel-veths".into())
            .spawn(move || see_gone(rx, networks, done))?;
        Ok(Worker { jobs, pending })
    }

    /// Queues a veth whose sandbox goes; its address (on the network
    /// `network`, by id) is given back once it is gone.
    pub fn delete(&self, veth: String, network: String, ip: Option<Ipv4Addr>) {
        self.pending.veths().insert(veth.clone(), network.clone());
        if let Err(e) = self.jobs.send(Gone { veth, network, ip }) {
            // The thread is gone (it never is while the engine runs).
            self.pending.veths().remove(&e.0.veth);
        }
    }

    /// Waits until `veth` is not waiting to go.
    pub fn wait_for(&self, veth: &str) {
        self.pending.wait_none(|v, _| v == veth);
    }

    /// Waits until no veth of the network `id` (of any network when
    /// none) is waiting to go.
    pub fn wait_network(&self, id: Option<&str>) {
        self.pending.wait_none(|_, n| id.is_none_or(|id| id == n));
    }
}

fn see_gone(jobs: Receiver<Gone>, networks: Weak<Networks>, pending: Arc<Pending>) {
    for Gone { veth, network, ip } in jobs {
        if let Some(n) = networks.upgrade() {
            if !went(&veth) {
                tracing::debug!(%veth, "a veth outlived its sandbox");
                if let Err(e) = n.netlink.delete_link(&veth) {
                    tracing::warn!(%veth, error = %e, "deleting an endpoint's veth");
                }
            }
            if let Some(ip) = ip {
                n.release(&network, ip);
            }
        }
        pending.veths().remove(&veth);
        pending.went.notify_all();
    }
}

/// Waits up to [`GRACE`] for the host's link `veth` to go; says whether
/// it did.
fn went(veth: &str) -> bool {
    let path = Path::new("/sys/class/net").join(veth);
    let until = Instant::now() + GRACE;
    let mut pause = Duration::from_millis(1);
    while path.exists() {
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    true
}
