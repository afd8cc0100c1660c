//! Addresses: IPv4 subnets, the pools a network without `--subnet` takes
//! one from (Docker's default pools), and the addresses handed to
//! endpoints.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 prefix, `a.b.c.d/len`, kept with its host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subnet {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Subnet {
    /// `a.b.c.d/len` with `len` 0 to 32; `None` for anything else. The
    /// host bits are cleared (`10.1.2.3/16` is `10.1.0.0/16`).
    pub fn parse(s: &str) -> Option<Subnet> {
        let (addr, len) = s.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
        Some(Subnet::new(addr, len))
    }

    pub fn new(addr: Ipv4Addr, len: u8) -> Subnet {
        let bits = u32::from(addr) & mask(len);
        Subnet {
            addr: Ipv4Addr::from(bits),
            len,
        }
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.len) == u32::from(self.addr)
    }

    /// Whether the two share any address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        let len = self.len.min(other.len);
        u32::from(self.addr) & mask(len) == u32::from(other.addr) & mask(len)
    }

    /// Whether every address of `other` is in this one.
    pub fn covers(&self, other: &Subnet) -> bool {
        self.len <= other.len && self.contains(other.addr)
    }

    /// The first address for a host (after the network's own).
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) + u32::from(self.len < 31))
    }

    /// The last address for a host (before the broadcast address).
    pub fn last_host(&self) -> Ipv4Addr {
        let last = u32::from(self.addr) | !mask(self.len);
        Ipv4Addr::from(last - u32::from(self.len < 31))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn mask(len: u8) -> u32 {
    match len {
        0 => 0,
        l => u32::MAX << (32 - u32::from(l)),
    }
}

/// Docker's default address pools, in its order: `172.17.0.0/16` to
/// `172.31.0.0/16`, then `192.168.0.0/16` in `/20`s.
pub fn default_pools() -> impl Iterator<Item = Subnet> {
    let wide = (17..=31).map(|b| Subnet::new(Ipv4Addr::new(172, b, 0, 0), 16));
    let narrow = (0..16).map(|i| Subnet::new(Ipv4Addr::new(192, 168, i * 16, 0), 20));
    wide.chain(narrow)
}

/// The first default pool that overlaps none of `taken` (the host's
/// routes and the engine's other networks).
pub fn choose(taken: &[Subnet]) -> Option<Subnet> {
    default_pools().find(|p| !taken.iter().any(|t| t.overlaps(p)))
}

/// The destinations of the host's IPv4 routes (`/proc/net/route`), the
/// default route left out.
pub fn host_routes() -> Vec<Subnet> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    parse_routes(&text)
}

fn parse_routes(text: &str) -> Vec<Subnet> {
    // The kernel prints each address's four bytes as one number of this
    // machine's byte order.
    let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::to_ne_bytes);
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (dest, mask) = (hex(f.get(1)?)?, hex(f.get(7)?)?);
            let len = u32::from_ne_bytes(mask).count_ones() as u8;
            (len > 0).then(|| Subnet::new(Ipv4Addr::from(dest), len))
        })
        .collect()
}

/// The addresses of one network that endpoints hold.
#[derive(Debug, Default)]
pub struct Allocations {
    used: BTreeSet<Ipv4Addr>,
}

impl Allocations {
    /// The lowest free address of `range` for a host that is not
    /// `gateway`, now held; `None` when every one is taken.
    pub fn take(&mut self, range: &Subnet, gateway: Ipv4Addr) -> Option<Ipv4Addr> {
        let (first, last) = (u32::from(range.first_host()), u32::from(range.last_host()));
        let ip = (first..=last)
            .map(Ipv4Addr::from)
            .find(|ip| *ip != gateway && !self.used.contains(ip))?;
        self.used.insert(ip);
        Some(ip)
    }

    /// Holds `ip`; false when it is held already.
    pub fn hold(&mut self, ip: Ipv4Addr) -> bool {
        self.used.insert(ip)
    }

    pub fn release(&mut self, ip: Ipv4Addr) {
        self.used.remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Subnet {
        Subnet::parse(text).unwrap()
    }

    #[test]
    fn subnets_parse_and_compare() {
        assert_eq!(s("10.1.2.3/16").to_string(), "10.1.0.0/16");
        assert!(Subnet::parse("10.1.2.3").is_none());
        assert!(Subnet::parse("10.1.2.3/33").is_none());
        assert!(Subnet::parse("300.1.2.3/8").is_none());
        assert!(s("10.0.0.0/8").overlaps(&s("10.5.0.0/16")));
        assert!(s("10.5.0.0/16").overlaps(&s("10.0.0.0/8")));
        assert!(!s("10.5.0.0/16").overlaps(&s("10.6.0.0/16")));
        assert!(s("10.0.0.0/8").covers(&s("10.5.0.0/16")));
        assert!(!s("10.5.0.0/16").covers(&s("10.0.0.0/8")));
        assert_eq!(
            s("172.18.0.0/16").first_host(),
            Ipv4Addr::new(172, 18, 0, 1)
        );
        assert_eq!(
            s("172.18.0.0/16").last_host(),
            Ipv4Addr::new(172, 18, 255, 254)
        );
    }

    #[test]
    fn a_pool_is_chosen_around_what_is_taken() {
        assert_eq!(choose(&[]), Some(s("172.17.0.0/16")));
        let taken = [s("172.17.0.0/16"), s("172.18.5.0/24"), s("0.0.0.0/1")];
        assert_eq!(choose(&taken[..2]), Some(s("172.19.0.0/16")));
        // A route covering them all leaves the 192.168 pools.
        assert_eq!(choose(&[s("172.16.0.0/12")]), Some(s("192.168.0.0/20")));
        assert_eq!(choose(&[s("128.0.0.0/1")]), None);
        assert_eq!(choose(&taken[2..]), Some(s("172.17.0.0/16")));
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn the_hosts_routes_are_read_without_the_default_one() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
            docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        assert_eq!(
            parse_routes(text),
            vec![s("10.0.0.0/24"), s("172.17.0.0/16")]
        );
    }

    #[test]
    fn addresses_are_handed_out_lowest_first_and_come_back() {
        let mut a = Allocations::default();
        let net = s("172.18.0.0/29");
        let gw = Ipv4Addr::new(172, 18, 0, 1);
        assert_eq!(a.take(&net, gw), Some(Ipv4Addr::new(172, 18, 0, 2)));
        assert_eq!(a.take(&net, gw), Some(Ipv4Addr::new(172, 18, 0, 3)));
        assert!(!a.hold(Ipv4Addr::new(172, 18, 0, 3)));
        assert!(a.hold(Ipv4Addr::new(172, 18, 0, 5)));
        assert_eq!(a.take(&net, gw), Some(Ipv4Addr::new(172, 18, 0, 4)));
        assert_eq!(a.take(&net, gw), Some(Ipv4Addr::new(172, 18, 0, 6)));
        assert_eq!(a.take(&net, gw), None);
        a.release(Ipv4Addr::new(172, 18, 0, 3));
        assert_eq!(a.take(&net, gw), Some(Ipv4Addr::new(172, 18, 0, 3)));
    }
}
