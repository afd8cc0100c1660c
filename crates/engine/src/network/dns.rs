//! The DNS server of containers on user-defined networks, Docker's
//! "embedded DNS": each such container's `resolv.conf` names 127.0.0.11,
//! where a socket the engine bound inside the container's network
//! namespace answers. It answers the names of the containers on the
//! networks the asking container is on (their names, aliases and short
//! ids, also as `NAME.NETWORK`) and forwards every other question to the
//! container's upstream resolvers (`--dns`, or the host's), from the
//! host's network. UDP only.
//!
//! One runtime thread serves every container; messages are read and
//! written with `hickory-proto`.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{rdata::A, RData, Record, RecordType};
use nix::sched::{setns, CloneFlags};
use tokio::net::UdpSocket;

/// Where the server listens in each container, as Docker's.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// How long an answer may be kept (Docker's).
const TTL: u32 = 600;

/// How many questions of one container may wait for an answer at once.
const IN_FLIGHT: usize = 64;

/// How long an upstream resolver is given before the next is asked.
const UPSTREAM_WAIT: Duration = Duration::from_secs(3);

/// A name on a network: which container answers to it, at what address.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    ip: Ipv4Addr,
    container: String,
}

#[derive(Debug, Default)]
struct Book {
    /// By network id: its name, and the names on it.
    nets: HashMap<String, (String, Vec<Entry>)>,
}

impl Book {
    /// The addresses `name` has on the networks `container` is on.
    fn lookup(&self, container: &str, name: &str) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for (net_name, entries) in self.nets.values() {
            if !entries.iter().any(|e| e.container == container) {
                continue;
            }
            let bare = name
                .strip_suffix(net_name.as_str())
                .and_then(|n| n.strip_suffix('.'))
                .unwrap_or(name);
            for e in entries {
                if e.name == bare && !out.contains(&e.ip) {
                    out.push(e.ip);
                }
            }
        }
        out
    }
}

/// The servers, and the names they answer.
#[derive(Debug)]
pub struct Resolvers {
    rt: tokio::runtime::Runtime,
    book: Arc<Mutex<Book>>,
    servers: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
}

impl Resolvers {
    pub fn new() -> io::Result<Resolvers> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("vessel-dns")
            .enable_io()
            .enable_time()
            .build()?;
        Ok(Resolvers {
            rt,
            book: Arc::default(),
            servers: Mutex::default(),
        })
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `container` answers to `names` at `ip` on the network `net`.
    pub fn add(&self, net: (&str, &str), container: &str, names: &[String], ip: Ipv4Addr) {
        let mut book = self.book();
        let (_, entries) = book
            .nets
            .entry(net.0.to_string())
            .or_insert_with(|| (net.1.to_string(), Vec::new()));
        for n in names {
            entries.push(Entry {
                name: n.to_ascii_lowercase(),
                ip,
                container: container.to_string(),
            });
        }
    }

    /// `container` leaves the network `net` (every network when none).
    pub fn forget(&self, container: &str, net: Option<&str>) {
        let mut book = self.book();
        for (id, (_, entries)) in book.nets.iter_mut() {
            if net.is_none_or(|n| n == id) {
                entries.retain(|e| e.container != container);
            }
        }
    }

    /// Starts the server of `container` inside its sandbox, forwarding to
    /// `upstream`.
    /// One that serves already goes on (it reads the names as they are
    /// when each question comes).
    pub fn serve(
        &self,
        container: &str,
        sandbox: &Path,
        upstream: Vec<SocketAddr>,
    ) -> io::Result<()> {
        if self.lock_servers().contains_key(container) {
            return Ok(());
        }
        let ns = std::fs::File::open(sandbox)?;
        let socket = std::thread::scope(|s| {
            s.spawn(|| -> io::Result<std::net::UdpSocket> {
                setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)?;
                let socket = std::net::UdpSocket::bind((ADDRESS, 53))?;
                socket.set_nonblocking(true)?;
                Ok(socket)
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the DNS thread panicked")))
        })?;
        let socket = {
            let _in = self.rt.enter();
            Arc::new(UdpSocket::from_std(socket)?)
        };
        let book = self.book.clone();
        let id = container.to_string();
        let upstream = Arc::new(upstream);
        // Questions in flight are the server's own tasks: they go when it
        // is stopped (with their sockets), and there are at most
        // IN_FLIGHT of them (more are dropped, as a busy resolver drops).
        let task = self.rt.spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut in_flight = tokio::task::JoinSet::new();
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                while in_flight.try_join_next().is_some() {}
                if in_flight.len() >= IN_FLIGHT {
                    continue;
                }
                let query = buf[..n].to_vec();
                let answer = answer(&book, &id, &query);
                let (socket, upstream) = (socket.clone(), upstream.clone());
                in_flight.spawn(async move {
                    let reply = match answer {
                        Some(reply) => Some(reply),
                        None => forward(&query, &upstream).await,
                    };
                    let reply = reply.or_else(|| failure(&query));
                    if let Some(reply) = reply {
                        let _ = socket.send_to(&reply, from).await;
                    }
                });
            }
        });
        let old = self.lock_servers().insert(container.to_string(), task);
        if let Some(old) = old {
            old.abort();
        }
        Ok(())
    }

    fn lock_servers(&self) -> MutexGuard<'_, HashMap<String, tokio::task::JoinHandle<()>>> {
        self.servers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops `container`'s server (its socket is closed) and forgets its
    /// names.
    pub fn stop(&self, container: &str) {
        if let Some(task) = self.lock_servers().remove(container) {
            task.abort();
            let _ = self.rt.block_on(task);
        }
        self.forget(container, None);
    }

    pub fn stop_all(&self) {
        let ids: Vec<String> = self.lock_servers().keys().cloned().collect();
        for id in ids {
            self.stop(&id);
        }
    }
}

/// The answer to `query` from the book, or none when it is not about a
/// name on the asker's networks.
fn answer(book: &Mutex<Book>, container: &str, query: &[u8]) -> Option<Vec<u8>> {
    let msg = Message::from_vec(query).ok()?;
    let q = msg.queries.first()?;
    let name = q
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ips = book
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .lookup(container, &name);
    if ips.is_empty() {
        return None;
    }
    let mut reply = Message::new(msg.metadata.id, MessageType::Response, OpCode::Query);
    reply.metadata.recursion_desired = msg.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_query(q.clone());
    if q.query_type() == RecordType::A {
        for ip in ips {
            reply.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::A(A(ip))));
        }
    }
    reply.to_vec().ok()
}

/// A SERVFAIL for a query no resolver answered.
fn failure(query: &[u8]) -> Option<Vec<u8>> {
    let msg = Message::from_vec(query).ok()?;
    let mut reply = Message::error_msg(msg.metadata.id, OpCode::Query, ResponseCode::ServFail);
    reply.metadata.recursion_desired = msg.metadata.recursion_desired;
    if let Some(q) = msg.queries.first() {
        reply.add_query(q.clone());
    }
    reply.to_vec().ok()
}

/// Asks each upstream resolver in turn; the first answer, as it came.
async fn forward(query: &[u8], upstream: &[SocketAddr]) -> Option<Vec<u8>> {
    for server in upstream {
        // Connected: only the server's datagrams are read; and only an
        // answer to this question (its id) is taken.
        let Ok(socket) = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await else {
            continue;
        };
        if socket.connect(server).await.is_err() || socket.send(query).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 65535];
        let wait = tokio::time::timeout(UPSTREAM_WAIT, async {
            loop {
                let n = socket.recv(&mut buf).await?;
                if n >= 2 && query.len() >= 2 && buf[..2] == query[..2] {
                    return Ok::<usize, io::Error>(n);
                }
            }
        });
        if let Ok(Ok(n)) = wait.await {
            buf.truncate(n);
            return Some(buf);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;

    fn query(name: &str, typ: RecordType) -> Vec<u8> {
        let mut m = Message::new(7, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), typ));
        m.to_vec().unwrap()
    }

    #[test]
    fn names_on_the_askers_networks_are_answered() {
        let book = Mutex::new(Book::default());
        {
            let mut b = book.lock().unwrap();
            let e = |name: &str, ip, c: &str| Entry {
                name: name.into(),
                ip,
                container: c.into(),
            };
            let (a, b_ip) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3));
            b.nets.insert(
                "n1".into(),
                ("app".into(), vec![e("web", a, "w"), e("cache", b_ip, "c")]),
            );
            b.nets.insert(
                "n2".into(),
                (
                    "other".into(),
                    vec![e("db", Ipv4Addr::new(10, 1, 0, 2), "d")],
                ),
            );
        }
        let reply = answer(&book, "c", &query("WEB.", RecordType::A)).unwrap();
        let msg = Message::from_vec(&reply).unwrap();
        assert_eq!(msg.metadata.id, 7);
        assert_eq!(msg.answers.len(), 1);
        assert_eq!(msg.answers[0].data, RData::A(A(Ipv4Addr::new(10, 0, 0, 2))));
        assert!(answer(&book, "c", &query("web.app.", RecordType::A)).is_some());
        // Another network's names are not seen; unknown names go upstream.
        assert!(answer(&book, "c", &query("db.", RecordType::A)).is_none());
        assert!(answer(&book, "c", &query("example.org.", RecordType::A)).is_none());
        // A known name without an IPv6 address: an empty answer.
        let aaaa = answer(&book, "c", &query("web.", RecordType::AAAA)).unwrap();
        assert!(Message::from_vec(&aaaa).unwrap().answers.is_empty());
        let fail = Message::from_vec(&failure(&query("x.", RecordType::A)).unwrap()).unwrap();
        assert_eq!(fail.metadata.response_code, ResponseCode::ServFail);
    }
}
