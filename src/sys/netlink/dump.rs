//! Dumps of a namespace's links, addresses, routes and neighbours, turned
//! into the plain structs of [`crate::inspect`].

use std::net::IpAddr;

use ipnet::IpNet;

use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{self as nl_link, LinkAttribute, LinkFlags, LinkMessage, State};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteNextHop, RouteProtocol, RouteScope, RouteType,
    RouteVia,
};
use netlink_packet_route::AddressFamily;

use futures::TryStreamExt;

use super::{with_conn_here, Conn};
use crate::error::Result;
use crate::inspect::{
    AddrInfo, LinkInfo, NeighInfo, NextHop, NodeReport, RouteInfo, RT_TABLE_MAIN,
};
use crate::vocab::mac_text;

/// A report of the *calling thread's* namespace, labelled `label`.
///
/// Tests use it to snapshot the host namespace before and after a run. It
/// only reads (netlink dumps); it never changes anything.
pub fn current_report(label: &str) -> Result<NodeReport> {
    // A thread inherits its creator's namespace and has no runtime context.
    crate::sys::thread::run_scoped("netns-report".into(), "a report thread", || {
        report_here(label)
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

/// The gateway of `RTA_VIA`: one of the other family (an IPv4 route
/// through an IPv6 neighbour).
fn via_addr(v: &RouteVia) -> Option<IpAddr> {
    match v {
        RouteVia::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteVia::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// The name of interface `index`, or `if<index>` if it is not in `links`.
fn dev_name(links: &[LinkInfo], index: u32) -> String {
    links
        .iter()
        .find(|l| l.index == index)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| format!("if{index}"))
}

/// The gateway among a route's or a nexthop's attributes.
fn gateway(attrs: &[RouteAttribute]) -> Option<IpAddr> {
    attrs.iter().find_map(|a| match a {
        RouteAttribute::Gateway(a) => route_addr(a),
        RouteAttribute::Via(v) => via_addr(v),
        _ => None,
    })
}

fn next_hop(h: &RouteNextHop, links: &[LinkInfo]) -> NextHop {
    NextHop {
        via: gateway(&h.attributes),
        dev: (h.interface_index != 0).then(|| dev_name(links, h.interface_index)),
        // rtnh_hops holds the weight less one.
        weight: u16::from(h.hops) + 1,
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
            nexthops: Vec::new(),
        };
        let plen = msg.header.destination_prefix_length;
        for attr in &msg.attributes {
            match attr {
                RouteAttribute::Destination(a) => {
                    r.dst = route_addr(a).and_then(|ip| IpNet::new(ip, plen).ok());
                }
                RouteAttribute::Gateway(a) => r.via = route_addr(a),
                RouteAttribute::Via(v) => r.via = via_addr(v),
                RouteAttribute::PrefSource(a) => r.src = route_addr(a),
                RouteAttribute::Priority(p) => r.metric = Some(*p),
                RouteAttribute::Oif(i) => r.dev = Some(dev_name(links, *i)),
                RouteAttribute::MultiPath(hops) => {
                    r.nexthops = hops.iter().map(|h| next_hop(h, links)).collect();
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
        let dev = dev_name(links, msg.header.ifindex);
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

impl Conn {
    /// `ip link show`.
    pub(crate) async fn dump_links(&self) -> Result<Vec<LinkMessage>> {
        self.handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(self.err("ip link show"))
    }

    /// `ip address show`.
    pub(crate) async fn dump_addresses(&self) -> Result<Vec<AddressMessage>> {
        self.handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(self.err("ip address show"))
    }

    /// `ip route show table all` for both families.
    pub(crate) async fn dump_routes(&self) -> Result<Vec<RouteMessage>> {
        let mut all = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut msg = RouteMessage::default();
            msg.header.address_family = family;
            let part: Vec<RouteMessage> = self
                .handle
                .route()
                .get(msg)
                .execute()
                .try_collect()
                .await
                .map_err(self.err("ip route show"))?;
            all.extend(part);
        }
        Ok(all)
    }

    /// `ip neigh show` for both families.
    pub(crate) async fn dump_neighbours(&self) -> Result<Vec<NeighbourMessage>> {
        self.handle
            .neighbours()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(self.err("ip neigh show"))
    }
}
