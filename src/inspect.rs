//! Introspection of a node: links, addresses, routes and neighbours as plain
//! structs, each with a `Display` in the style of `ip address show`,
//! `ip route show` and `ip neigh show`.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{self as nl_link, LinkAttribute, LinkFlags, LinkMessage, State};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};

use crate::error::Result;
use crate::netlink::with_conn_here;

/// A report of the *calling thread's* namespace, labelled `label`.
///
/// Tests use it to snapshot the host namespace before and after a run. It
/// only reads (netlink dumps); it never changes anything.
pub fn current_report(label: &str) -> Result<NodeReport> {
    let label = label.to_string();
    // A thread inherits its creator's namespace and has no runtime context.
    std::thread::scope(|s| {
        s.spawn(|| report_here(&label))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Dumps links, addresses, routes and neighbours of the calling thread's namespace.
pub(crate) fn report_here(label: &str) -> Result<NodeReport> {
    let (links, addrs, routes, neighs) = with_conn_here(label, |c| {
        Box::pin(async move {
            Ok((
                c.dump_links().await?,
                c.dump_addresses().await?,
                c.dump_routes().await?,
                c.dump_neighbours().await?,
            ))
        })
    })?;
    let addrs: Vec<AddrInfo> = addrs.iter().filter_map(addr_info).collect();
    let mut links: Vec<LinkInfo> = links.iter().map(|l| link_info(l, &addrs)).collect();
    links.sort_by_key(|l| l.index);
    let routes = route_infos(&routes, &links);
    let neighbours = neigh_infos(&neighs, &links);
    Ok(NodeReport {
        node: label.to_string(),
        links,
        routes,
        neighbours,
    })
}

/// The main routing table's id.
const RT_TABLE_MAIN: u32 = 254;

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

pub(crate) fn mac_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn state_text(s: &State) -> String {
    match s {
        State::Up => "UP".into(),
        State::Down => "DOWN".into(),
        State::Unknown => "UNKNOWN".into(),
        State::LowerLayerDown => "LOWERLAYERDOWN".into(),
        State::NotPresent => "NOTPRESENT".into(),
        State::Testing => "TESTING".into(),
        State::Dormant => "DORMANT".into(),
        other => format!("{other:?}").to_uppercase(),
    }
}

fn flag_texts(f: LinkFlags) -> Vec<&'static str> {
    let table = [
        (LinkFlags::Loopback, "LOOPBACK"),
        (LinkFlags::Broadcast, "BROADCAST"),
        (LinkFlags::Pointopoint, "POINTOPOINT"),
        (LinkFlags::Multicast, "MULTICAST"),
        (LinkFlags::Noarp, "NOARP"),
        (LinkFlags::Promisc, "PROMISC"),
        (LinkFlags::Up, "UP"),
        (LinkFlags::LowerUp, "LOWER_UP"),
    ];
    table
        .iter()
        .filter(|(bit, _)| f.contains(*bit))
        .map(|(_, t)| *t)
        .collect()
}

fn addr_scope(s: &AddressScope) -> &'static str {
    match s {
        AddressScope::Universe => "global",
        AddressScope::Site => "site",
        AddressScope::Link => "link",
        AddressScope::Host => "host",
        AddressScope::Nowhere => "nowhere",
        _ => "other",
    }
}

pub(crate) fn addr_info(msg: &AddressMessage) -> Option<AddrInfo> {
    let ip = msg
        .attributes
        .iter()
        .find_map(|a| match a {
            AddressAttribute::Local(ip) => Some(*ip),
            _ => None,
        })
        .or_else(|| {
            msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::Address(ip) => Some(*ip),
                _ => None,
            })
        })?;
    Some(AddrInfo {
        addr: IpNet::new(ip, msg.header.prefix_len).ok()?,
        scope: addr_scope(&msg.header.scope),
        broadcast: msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Broadcast(b) => Some(IpAddr::V4(*b)),
            _ => None,
        }),
        ifindex: msg.header.index,
    })
}

pub(crate) fn link_info(msg: &LinkMessage, addrs: &[AddrInfo]) -> LinkInfo {
    let mut info = LinkInfo {
        index: msg.header.index,
        name: String::new(),
        kind: None,
        flags: flag_texts(msg.header.flags),
        up: msg.header.flags.contains(LinkFlags::Up),
        state: "UNKNOWN".into(),
        mtu: 0,
        mac: None,
        broadcast: None,
        master: None,
        addrs: addrs
            .iter()
            .filter(|a| a.ifindex == msg.header.index)
            .cloned()
            .collect(),
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => info.name = n.clone(),
            LinkAttribute::Mtu(m) => info.mtu = *m,
            LinkAttribute::Address(a) => info.mac = Some(mac_text(a)),
            LinkAttribute::Broadcast(a) => info.broadcast = Some(mac_text(a)),
            LinkAttribute::OperState(s) => info.state = state_text(s),
            LinkAttribute::Controller(m) => info.master = Some(*m),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let nl_link::LinkInfo::Kind(k) = i {
                        info.kind = Some(format!("{k:?}").to_lowercase());
                    }
                }
            }
            _ => {}
        }
    }
    info
}

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// Main-table routes of `msgs`, in the order `ip route` prints them.
pub(crate) fn route_infos(msgs: &[RouteMessage], links: &[LinkInfo]) -> Vec<RouteInfo> {
    let mut out = Vec::new();
    for msg in msgs {
        let table = msg
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::Table(t) => Some(*t),
                _ => None,
            })
            .unwrap_or(msg.header.table as u32);
        if table != RT_TABLE_MAIN {
            continue;
        }
        let mut r = RouteInfo {
            dst: None,
            via: None,
            dev: None,
            proto: match msg.header.protocol {
                RouteProtocol::Kernel => "kernel".into(),
                RouteProtocol::Static => "static".into(),
                RouteProtocol::Boot => "boot".into(),
                RouteProtocol::Ra => "ra".into(),
                other => format!("{other:?}").to_lowercase(),
            },
            scope: match msg.header.scope {
                RouteScope::Universe => "global",
                RouteScope::Link => "link",
                RouteScope::Host => "host",
                RouteScope::Site => "site",
                _ => "nowhere",
            },
            src: None,
            metric: None,
            kind: match msg.header.kind {
                RouteType::Unicast => None,
                other => Some(format!("{other:?}").to_lowercase()),
            },
        };
        let plen = msg.header.destination_prefix_length;
        for attr in &msg.attributes {
            match attr {
                RouteAttribute::Destination(a) => {
                    r.dst = route_addr(a).and_then(|ip| IpNet::new(ip, plen).ok());
                }
                RouteAttribute::Gateway(a) => r.via = route_addr(a),
                RouteAttribute::PrefSource(a) => r.src = route_addr(a),
                RouteAttribute::Priority(p) => r.metric = Some(*p),
                RouteAttribute::Oif(i) => {
                    r.dev = links
                        .iter()
                        .find(|l| l.index == *i)
                        .map(|l| l.name.clone())
                        .or_else(|| Some(format!("if{i}")));
                }
                _ => {}
            }
        }
        if r.dst.is_none() && plen != 0 {
            continue;
        }
        out.push(r);
    }
    out
}

fn neigh_state(s: &NeighbourState) -> &'static str {
    match s {
        NeighbourState::Incomplete => "INCOMPLETE",
        NeighbourState::Reachable => "REACHABLE",
        NeighbourState::Stale => "STALE",
        NeighbourState::Delay => "DELAY",
        NeighbourState::Probe => "PROBE",
        NeighbourState::Failed => "FAILED",
        NeighbourState::Noarp => "NOARP",
        NeighbourState::Permanent => "PERMANENT",
        _ => "NONE",
    }
}

pub(crate) fn neigh_infos(msgs: &[NeighbourMessage], links: &[LinkInfo]) -> Vec<NeighInfo> {
    let mut out = Vec::new();
    for msg in msgs {
        let Some(addr) = msg.attributes.iter().find_map(|a| match a {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => Some(IpAddr::V4(*v4)),
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => Some(IpAddr::V6(*v6)),
            _ => None,
        }) else {
            continue;
        };
        // Multicast and NOARP entries are noise in diagnostics, as in `ip neigh`.
        if addr.is_multicast() || matches!(msg.header.state, NeighbourState::Noarp) {
            continue;
        }
        let dev = links
            .iter()
            .find(|l| l.index == msg.header.ifindex)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("if{}", msg.header.ifindex));
        out.push(NeighInfo {
            addr,
            dev,
            lladdr: msg.attributes.iter().find_map(|a| match a {
                NeighbourAttribute::LinkLayerAddress(b) => Some(mac_text(b)),
                _ => None,
            }),
            state: neigh_state(&msg.header.state),
            router: msg
                .header
                .flags
                .contains(netlink_packet_route::neighbour::NeighbourFlags::Router),
        });
    }
    out
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
        Ok(())
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
