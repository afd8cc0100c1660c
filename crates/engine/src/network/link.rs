//! Links, addresses and routes, over rtnetlink: the bridges, the veth
//! pair of each endpoint, and the network namespace a container's
//! interfaces live in (a "sandbox", bind-mounted on a file as `ip netns`
//! keeps one, so that it outlives the engine).
//!
//! rtnetlink is asynchronous; the engine is not. The network code keeps
//! a runtime of its own ([`Netlink`]) and waits on it.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute};
use rtnetlink::{Handle, LinkBridge, LinkBridgePort, LinkMessageBuilder, LinkUnspec};

/// The name of a container's interface on each network: `eth0`, `eth1`,
/// ... in the order it joined them.
pub fn interface(n: usize) -> String {
    format!("eth{n}")
}

/// One endpoint's veth pair, as it is made.
#[derive(Debug, Clone)]
pub struct Veth {
    /// The host's end, a port of `bridge`.
    pub host: String,
    pub bridge: String,
    /// The container's end, in the sandbox.
    pub inside: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub mac: [u8; 6],
    pub mtu: u32,
    /// The default route's gateway, for the container's first network.
    pub gateway: Option<Ipv4Addr>,
}

/// A netlink connection and the task that runs it.
struct Conn {
    h: Handle,
    task: tokio::task::JoinHandle<()>,
}

/// The runtime rtnetlink runs on.
#[derive(Debug)]
pub struct Netlink {
    rt: tokio::runtime::Runtime,
}

fn nl(context: &str) -> impl FnOnce(rtnetlink::Error) -> io::Error + '_ {
    move |e| {
        let e = match e {
            rtnetlink::Error::NetlinkError(m) => m.to_io(),
            other => io::Error::other(other.to_string()),
        };
        io::Error::new(e.kind(), format!("{context}: {e}"))
    }
}

/// Whether the kernel answered `errno`.
fn is(e: &rtnetlink::Error, errno: nix::errno::Errno) -> bool {
    matches!(e, rtnetlink::Error::NetlinkError(m) if m.raw_code().abs() == errno as i32)
}

impl Netlink {
    pub fn new() -> io::Result<Netlink> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        Ok(Netlink { rt })
    }

    /// A connection in the calling thread's network namespace.
    fn connect(&self) -> io::Result<Conn> {
        let _in = self.rt.enter();
        let (conn, h, _) = rtnetlink::new_connection()?;
        let task = self.rt.spawn(conn);
        Ok(Conn { h, task })
    }

    /// A connection in the namespace `ns` (made on a short-lived thread,
    /// so that the engine itself never changes namespace).
    fn connect_in(&self, ns: &OwnedFd) -> io::Result<Conn> {
        let ns = ns.try_clone()?;
        let handle = self.rt.handle().clone();
        let (conn, h) = std::thread::scope(|s| {
            s.spawn(|| -> io::Result<_> {
                setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)?;
                let _in = handle.enter();
                let (conn, h, _) = rtnetlink::new_connection()?;
                Ok((conn, h))
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the netlink thread panicked")))
        })?;
        let task = self.rt.spawn(conn);
        Ok(Conn { h, task })
    }

    /// Closes a connection: its socket (which holds its namespace) is
    /// gone when this returns.
    fn close(&self, c: Conn) {
        drop(c.h);
        let _ = self.rt.block_on(c.task);
    }

    /// Makes a network namespace with `lo` up and binds it on `path`.
    pub fn make_sandbox(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::File::create(path)?;
        let target = path.to_path_buf();
        let made = std::thread::spawn(move || -> io::Result<OwnedFd> {
            unshare(CloneFlags::CLONE_NEWNET)?;
            nix::mount::mount(
                Some("/proc/thread-self/ns/net"),
                &target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )?;
            Ok(std::fs::File::open(&target)?.into())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")));
        let ns = match made {
            Ok(ns) => ns,
            Err(e) => {
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
        };
        let up = self.connect_in(&ns).and_then(|c| {
            let h = &c.h;
            let out = self.rt.block_on(async {
                let lo = index_of(h, "lo").await?.unwrap_or(1);
                set_up(h, lo, "bringing lo up").await
            });
            self.close(c);
            out
        });
        if up.is_err() {
            drop(ns);
            let _ = self.remove_sandbox(path);
        }
        up
    }

    /// The names of the links in the sandbox at `ns`.
    pub fn links_in(&self, ns: &Path) -> io::Result<Vec<String>> {
        let ns: OwnedFd = std::fs::File::open(ns)?.into();
        let c = self.connect_in(&ns)?;
        let out = self.rt.block_on(async {
            let mut names = Vec::new();
            let mut links = c.h.link().get().execute();
            while let Some(l) = links.try_next().await.map_err(nl("listing links"))? {
                for a in &l.attributes {
                    if let LinkAttribute::IfName(n) = a {
                        names.push(n.clone());
                    }
                }
            }
            Ok(names)
        });
        self.close(c);
        out
    }

    /// Unmounts and removes a sandbox's file (its namespace goes when
    /// nothing else holds it); nothing when there is none.
    pub fn remove_sandbox(&self, path: &Path) -> io::Result<()> {
        match nix::mount::umount2(path, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => {}
            Err(e) => return Err(e.into()),
        }
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Makes the bridge `name` with `gateway/prefix` and brings it up;
    /// an existing one is given the address it lacks.
    pub fn ensure_bridge(
        &self,
        name: &str,
        gateway: Ipv4Addr,
        prefix: u8,
        mtu: u32,
    ) -> io::Result<()> {
        let c = self.connect()?;
        let h = &c.h;
        let made = self.rt.block_on(async {
            let index = match index_of(h, name).await? {
                Some(i) => i,
                None => {
                    let msg = LinkBridge::new(name).mtu(mtu).build();
                    h.link()
                        .add(msg)
                        .execute()
                        .await
                        .map_err(nl("making the bridge"))?;
                    index_of(h, name)
                        .await?
                        .ok_or_else(|| io::Error::other(format!("the bridge {name} vanished")))?
                }
            };
            let added = h
                .address()
                .add(index, IpAddr::V4(gateway), prefix)
                .execute()
                .await;
            match added {
                Err(e) if !is(&e, nix::errno::Errno::EEXIST) => {
                    return Err(nl("giving the bridge its address")(e))
                }
                _ => {}
            }
            set_up(h, index, "bringing the bridge up").await
        });
        self.close(c);
        made?;
        // Published ports reach containers from 127.0.0.1: such packets
        // may then be routed to the bridge.
        sysctl(&format!("net/ipv4/conf/{name}/route_localnet"), "1")?;
        sysctl("net/ipv4/ip_forward", "1")
    }

    /// Deletes the link `name` (a bridge, or a veth with its peer); no
    /// error when there is none.
    pub fn delete_link(&self, name: &str) -> io::Result<()> {
        let c = self.connect()?;
        let h = &c.h;
        let out = self.rt.block_on(async {
            let Some(index) = index_of(h, name).await? else {
                return Ok(());
            };
            match h.link().del(index).execute().await {
                Err(e) if !is(&e, nix::errno::Errno::ENODEV) => Err(nl("deleting a link")(e)),
                _ => Ok(()),
            }
        });
        self.close(c);
        out
    }

    /// Whether a link of that name exists.
    pub fn exists(&self, name: &str) -> io::Result<bool> {
        let c = self.connect()?;
        let out = self
            .rt
            .block_on(async { Ok(index_of(&c.h, name).await?.is_some()) });
        self.close(c);
        out
    }

    /// Makes `v`'s pair with its inside end in the sandbox `ns`, the host
    /// end a port of the bridge, both up, the inside one addressed (and
    /// the default route through the gateway when it has one).
    pub fn plug(&self, ns: &Path, v: &Veth) -> io::Result<()> {
        let ns: OwnedFd = std::fs::File::open(ns)?.into();
        let (hc, ic) = (self.connect()?, self.connect_in(&ns)?);
        let (host, inside) = (&hc.h, &ic.h);
        let out = self.rt.block_on(async {
            let bridge = index_of(host, &v.bridge)
                .await?
                .ok_or_else(|| io::Error::other(format!("no bridge {}", v.bridge)))?;
            let peer = LinkMessageBuilder::<LinkUnspec>::new()
                .name(v.inside.clone())
                .mtu(v.mtu)
                .address(v.mac.to_vec())
                .setns_by_fd(ns.as_raw_fd())
                .build();
            let pair = LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Veth)
                .name(v.host.clone())
                .mtu(v.mtu)
                .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
                .build();
            host.link()
                .add(pair)
                .execute()
                .await
                .map_err(nl("making the veth pair"))?;
            let port = index_of(host, &v.host)
                .await?
                .ok_or_else(|| io::Error::other(format!("the link {} vanished", v.host)))?;
            host.link()
                .set(
                    LinkUnspec::new_with_index(port)
                        .controller(bridge)
                        .up()
                        .build(),
                )
                .execute()
                .await
                .map_err(nl("plugging the veth into the bridge"))?;
            // A container may reach itself through a published port.
            host.link()
                .set_port(LinkBridgePort::new(port).hairpin(true).build())
                .execute()
                .await
                .map_err(nl("setting the port's hairpin mode"))?;
            let eth = index_of(inside, &v.inside)
                .await?
                .ok_or_else(|| io::Error::other(format!("no {} in the sandbox", v.inside)))?;
            inside
                .address()
                .add(eth, IpAddr::V4(v.ip), v.prefix)
                .execute()
                .await
                .map_err(nl("addressing the container's interface"))?;
            set_up(inside, eth, "bringing the container's interface up").await?;
            if let Some(gw) = v.gateway {
                let route = rtnetlink::RouteMessageBuilder::<Ipv4Addr>::new()
                    .gateway(gw)
                    .output_interface(eth)
                    .build();
                inside
                    .route()
                    .add(route)
                    .execute()
                    .await
                    .map_err(nl("routing through the gateway"))?;
            }
            Ok(())
        });
        self.close(hc);
        self.close(ic);
        out
    }
}

/// Sets the link `index` up.
async fn set_up(h: &Handle, index: u32, what: &str) -> io::Result<()> {
    h.link()
        .set(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .map_err(nl(what))
}

async fn index_of(h: &Handle, name: &str) -> io::Result<Option<u32>> {
    let mut links = h.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(link) => Ok(link.map(|l| l.header.index)),
        Err(e) if is(&e, nix::errno::Errno::ENODEV) => Ok(None),
        Err(e) => Err(nl("looking up a link")(e)),
    }
}

/// Writes a sysctl of the engine's own network namespace (the host's).
pub fn sysctl(key: &str, value: &str) -> io::Result<()> {
    let path = PathBuf::from("/proc/sys").join(key);
    if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(&path, value)
        .map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

/// Docker's MAC address for an IPv4 address: `02:42` and its four bytes.
pub fn mac_of(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x42, a, b, c, d]
}

pub fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A MAC address as `aa:bb:cc:dd:ee:ff`; unicast only.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<u8> = text
        .split(':')
        .map(|p| {
            (p.len() == 2)
                .then(|| u8::from_str_radix(p, 16).ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let mac: [u8; 6] = parts.try_into().ok()?;
    (mac[0] & 1 == 0).then_some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_dockers_and_parse() {
        let mac = mac_of(Ipv4Addr::new(172, 17, 0, 2));
        assert_eq!(mac_text(&mac), "02:42:ac:11:00:02");
        assert_eq!(parse_mac("02:42:ac:11:00:02"), Some(mac));
        assert_eq!(parse_mac("01:42:ac:11:00:02"), None);
        assert_eq!(parse_mac("02:42:ac:11:00"), None);
        assert_eq!(parse_mac("02:42:ac:11:00:2"), None);
    }
}
