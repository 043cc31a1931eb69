//! What a node looks like from inside: links, addresses, routes and
//! neighbours as plain structs, each with a `Display` in the style of
//! `ip address show`, `ip route show` and `ip neigh show`; its nftables
//! ruleset and connection tracking table in the style of `nft list
//! ruleset` and `conntrack -L`. Pure data: the sys layer reads it from the
//! kernel.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

pub use crate::sys::netlink::dump::current_report;
pub use netfilter::{
    ConntrackEntry, NatMapping, NetfilterReport, NftChain, NftRule, NftSet, NftTable, Ruleset,
    Tuple,
};

mod netfilter;

/// The main routing table's id.
pub(crate) const RT_TABLE_MAIN: u32 = 254;

/// One interface of a node, with its addresses (`ip address show`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The ifindex.
    pub index: u32,
    /// The interface name.
    pub name: String,
    /// The link kind (`veth`, `bridge`), if it has one.
    pub kind: Option<String>,
    /// Interface flags as `ip` prints them (`UP`, `LOWER_UP`, ...).
    pub flags: Vec<&'static str>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Operational state (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`, ...).
    pub state: String,
    /// The MTU.
    pub mtu: u32,
    /// The MAC address, `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<String>,
    /// The link-layer broadcast address.
    pub broadcast: Option<String>,
    /// The bridge (ifindex) this interface is a port of.
    pub master: Option<u32>,
    /// The addresses on the interface.
    pub addrs: Vec<AddrInfo>,
}

/// An address on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    /// Address and prefix length.
    pub addr: IpNet,
    /// `global`, `link` or `host`.
    pub scope: &'static str,
    /// The IPv4 broadcast address, if set.
    pub broadcast: Option<IpAddr>,
    /// The interface's ifindex.
    pub ifindex: u32,
}

/// A route of the main table (`ip route show` and `ip -6 route show`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// The destination; `None` for a default route.
    pub dst: Option<IpNet>,
    /// The gateway.
    pub via: Option<IpAddr>,
    /// The output interface name.
    pub dev: Option<String>,
    /// `kernel`, `static`, `boot`, ...
    pub proto: String,
    /// `link`, `host`, `global`.
    pub scope: &'static str,
    /// The preferred source address.
    pub src: Option<IpAddr>,
    /// The metric (IPv6 routes always have one).
    pub metric: Option<u32>,
    /// The route type if not `unicast` (`unreachable`, `blackhole`, ...).
    pub kind: Option<String>,
    /// The nexthops of a multipath (ECMP) route, in the kernel's order;
    /// empty for a route with one path (`via` and `dev` give it).
    pub nexthops: Vec<NextHop>,
}

/// One path of a multipath route (`nexthop via GW dev NAME weight N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The gateway.
    pub via: Option<IpAddr>,
    /// The output interface name.
    pub dev: Option<String>,
    /// The weight, 1 to 256: the share of flows this path gets.
    pub weight: u16,
}

impl RouteInfo {
    /// Whether this route is a default route.
    pub fn is_default(&self) -> bool {
        self.dst.is_none()
    }
}

/// A neighbour table entry (`ip neigh show`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighInfo {
    /// The neighbour's IP address.
    pub addr: IpAddr,
    /// The interface name.
    pub dev: String,
    /// Its link-layer address, if resolved.
    pub lladdr: Option<String>,
    /// `REACHABLE`, `STALE`, `FAILED`, `INCOMPLETE`, ...
    pub state: &'static str,
    /// Whether the neighbour is a router (IPv6).
    pub router: bool,
}

/// Everything about one node: what diagnostics print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeReport {
    /// The node name.
    pub node: String,
    /// Links with addresses.
    pub links: Vec<LinkInfo>,
    /// Main-table routes, IPv4 then IPv6.
    pub routes: Vec<RouteInfo>,
    /// Neighbour entries.
    pub neighbours: Vec<NeighInfo>,
}
impl fmt::Display for LinkInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.index, self.name)?;
        write!(f, ": <{}> mtu {}", self.flags.join(","), self.mtu)?;
        if let Some(m) = self.master {
            write!(f, " master if{m}")?;
        }
        writeln!(f, " state {}", self.state)?;
        let kind = if self.flags.contains(&"LOOPBACK") {
            "loopback"
        } else {
            "ether"
        };
        if let Some(mac) = &self.mac {
            write!(f, "    link/{kind} {mac}")?;
            if let Some(brd) = &self.broadcast {
                write!(f, " brd {brd}")?;
            }
            writeln!(f)?;
        }
        for a in &self.addrs {
            let fam = if a.addr.addr().is_ipv4() {
                "inet"
            } else {
                "inet6"
            };
            write!(f, "    {fam} {}", a.addr)?;
            if let Some(b) = a.broadcast {
                write!(f, " brd {b}")?;
            }
            write!(f, " scope {}", a.scope)?;
            if a.addr.addr().is_ipv4() {
                write!(f, " {}", self.name)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for RouteInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(k) = &self.kind {
            write!(f, "{k} ")?;
        }
        match self.dst {
            None => write!(f, "default")?,
            Some(d) => write!(f, "{d}")?,
        }
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        if self.proto != "boot" && self.proto != "unspec" {
            write!(f, " proto {}", self.proto)?;
        }
        if self.scope != "global" {
            write!(f, " scope {}", self.scope)?;
        }
        if let Some(s) = self.src {
            write!(f, " src {s}")?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        for h in &self.nexthops {
            write!(f, " {h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nexthop")?;
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        write!(f, " weight {}", self.weight)
    }
}

impl fmt::Display for NeighInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} dev {}", self.addr, self.dev)?;
        if let Some(l) = &self.lladdr {
            write!(f, " lladdr {l}")?;
        }
        if self.router {
            write!(f, " router")?;
        }
        write!(f, " {}", self.state)
    }
}

impl fmt::Display for NodeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "node {}:", self.node)?;
        writeln!(f, "  $ ip address show")?;
        for l in &self.links {
            for line in l.to_string().lines() {
                writeln!(f, "  {line}")?;
            }
        }
        writeln!(f, "  $ ip route show")?;
        for r in &self.routes {
            writeln!(f, "  {r}")?;
        }
        writeln!(f, "  $ ip neigh show")?;
        for n in &self.neighbours {
            writeln!(f, "  {n}")?;
        }
        Ok(())
    }
}
