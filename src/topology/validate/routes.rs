//! Static routes: destination, gateway, device, and one route per
//! destination in a node.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::addresses::prefix;
use super::{Builder, TopologyError};
use crate::topology::plan::{PlanIface, PlanRoute};

impl Builder<'_> {
    pub(super) fn routes(&mut self) -> Result<(), TopologyError> {
        // (node, destination) -> the destination as first given.
        let mut seen = HashMap::<(usize, IpNet), &str>::new();
        for (node, route) in &self.topo.routes {
            let ni = self.node_index(node, || format!("route {}", route.dst))?;
            let PlanRoute { dst, via, dev } =
                resolve_route(node, &self.plan.nodes[ni].ifaces, route)?;
            // The kernel keeps one route per destination (without metrics,
            // which a Route does not have): a second one would be refused.
            if let Some(first) = seen.insert((ni, dst), &route.dst) {
                return Err(TopologyError::DuplicateRoute {
                    node: node.clone(),
                    dst: dst.to_string(),
                    first: first.to_string(),
                    second: route.dst.clone(),
                });
            }
            // The kernel's own route to each IPv4 subnet of the node (not
            // for /32, nor in 0.0.0.0/8) has the same metric as ours.
            if let IpNet::V4(d) = dst {
                let connected = self.plan.nodes[ni].ifaces.iter().find_map(|i| {
                    i.addrs.iter().find_map(|a| match a {
                        IpNet::V4(a)
                            if a.prefix_len() < 32
                                && a.trunc() == d
                                && a.network().octets()[0] != 0 =>
                        {
                            Some((i.name.clone(), a.to_string()))
                        }
                        _ => None,
                    })
                });
                if let Some((ifname, addr)) = connected {
                    return Err(TopologyError::RouteToConnectedSubnet {
                        node: node.clone(),
                        dst: dst.to_string(),
                        ifname,
                        addr,
                    });
                }
            }
            self.plan.nodes[ni].routes.push(PlanRoute { dst, via, dev });
        }
        Ok(())
    }
}

/// Resolves `route` for node `node`, whose interfaces are `ifaces`: the
/// destination, gateway and device parsed and checked against the node (the
/// gateway on a connected subnet, the device one of its interfaces). Used by
/// validation and by routes changed at run time.
pub(crate) fn resolve_route(
    node: &str,
    ifaces: &[PlanIface],
    route: &crate::topology::Route,
) -> Result<PlanRoute, TopologyError> {
    let bad = |reason: String| TopologyError::InvalidRoute {
        node: node.to_string(),
        dst: route.dst.clone(),
        reason,
    };
    let via = match &route.via {
        None => None,
        Some(text) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| bad(format!("gateway `{text}` is not an IP address")))?,
        ),
    };
    let dst = if route.dst == "default" {
        match via {
            Some(IpAddr::V4(_)) => "0.0.0.0/0".parse().expect("valid"),
            Some(IpAddr::V6(_)) => "::/0".parse().expect("valid"),
            None => {
                return Err(bad(
                    "`default` needs a gateway (or write 0.0.0.0/0 or ::/0 with a device)".into(),
                ))
            }
        }
    } else {
        destination(&route.dst).map_err(bad)?
    };
    if let Some(gw) = via {
        if gw.is_ipv4() != dst.addr().is_ipv4() {
            return Err(bad(format!(
                "gateway {gw} is not of the destination's family"
            )));
        }
    }
    if via.is_none() && route.dev.is_none() {
        return Err(bad(
            "a route needs a gateway (`via`) or a device (`dev`)".into()
        ));
    }
    let dev = match &route.dev {
        None => None,
        Some(d) => {
            let iface = ifaces.iter().find(|i| &i.name == d).ok_or_else(|| {
                TopologyError::UnknownInterface {
                    node: node.to_string(),
                    ifname: d.clone(),
                    used_by: format!("route {}", route.dst),
                }
            })?;
            Some((iface.index, iface.name.clone()))
        }
    };
    if let Some(gw) = via {
        if ifaces.iter().flat_map(|i| &i.addrs).any(|a| a.addr() == gw) {
            return Err(bad(format!(
                "gateway {gw} is an address of `{node}` itself"
            )));
        }
        let candidates: Vec<&PlanIface> = ifaces
            .iter()
            .filter(|i| dev.as_ref().is_none_or(|(idx, _)| *idx == i.index))
            .collect();
        let connected = candidates
            .iter()
            .flat_map(|i| &i.addrs)
            .any(|a| a.contains(&gw));
        let broadcast_of = candidates.iter().flat_map(|i| &i.addrs).find(
            |a| matches!(a, IpNet::V4(n) if n.prefix_len() < 31 && IpAddr::V4(n.broadcast()) == gw),
        );
        if let Some(net) = broadcast_of {
            return Err(bad(format!(
                "gateway {gw} is the broadcast address of {}",
                net.trunc()
            )));
        }
        // A link-local gateway is on the link of its device, whatever the
        // addresses: every IPv6 interface has fe80::/64 (RFC 4291 2.5.6).
        if is_link_local(gw) {
            let Some((index, name)) = &dev else {
                return Err(bad(format!(
                    "link-local gateway {gw} needs a device (`dev`): it is on every link"
                )));
            };
            let iface = ifaces.iter().find(|i| i.index == *index);
            if iface.is_some_and(|i| i.mtu.is_some_and(|m| m < IPV6_MIN_MTU)) {
                return Err(bad(format!(
                    "interface `{name}` has an MTU under 1280: no IPv6 there"
                )));
            }
            return Ok(PlanRoute { dst, via, dev });
        }
        if !connected {
            return Err(TopologyError::GatewayUnreachable {
                node: node.to_string(),
                dst: route.dst.clone(),
                gateway: gw,
                on: match &route.dev {
                    Some(d) => format!("interface `{d}`"),
                    None => "the node".into(),
                },
            });
        }
    }
    Ok(PlanRoute { dst, via, dev })
}

/// A route destination: CIDR form with the host bits clear. `203.0.113.7/24`
/// is refused, as `ip route` refuses it, rather than cut to a prefix the
/// caller may not have meant.
fn destination(text: &str) -> Result<IpNet, String> {
    prefix(text).map_err(|why| format!("the destination {why}"))
}

/// The smallest MTU that carries IPv6 (RFC 8200).
const IPV6_MIN_MTU: u32 = 1280;

/// Whether `ip` is an IPv6 link-local unicast address (fe80::/10).
fn is_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}
