//! Validation: turns a [`Topology`] into a resolved [`Plan`] or the first
//! error, before anything is created.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::plan::{Plan, PlanIface, PlanNode, PlanRoute, PlanVeth, BRIDGE_NAME};
use super::{Endpoint, Topology, TopologyError};
use crate::vocab::{check_ifname as kernel_ifname_rule, parse_mac, IfnameProblem};

fn check_node_name(name: &str) -> Result<(), TopologyError> {
    let reason = if name.is_empty() {
        "a node name cannot be empty"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "a node name cannot hold whitespace or control characters"
    } else {
        return Ok(());
    };
    Err(TopologyError::InvalidName {
        name: name.to_string(),
        reason: reason.into(),
    })
}

fn check_ifname(node: &str, name: &str) -> Result<(), TopologyError> {
    let invalid = |reason: String| {
        Err(TopologyError::InvalidName {
            name: format!("{node}/{name}"),
            reason,
        })
    };
    match kernel_ifname_rule(name) {
        Ok(()) => {}
        Err(IfnameProblem::TooLong(len)) => {
            return Err(TopologyError::NameTooLong {
                node: node.to_string(),
                ifname: name.to_string(),
                len,
            })
        }
        Err(problem) => return invalid(problem.to_string()),
    }
    if name == "lo" {
        return invalid("`lo` is the loopback every node already has".into());
    }
    Ok(())
}

fn parse_cidr(node: &str, ifname: &str, input: &str) -> Result<IpNet, TopologyError> {
    let bad = |reason: String| TopologyError::InvalidCidr {
        node: node.to_string(),
        ifname: ifname.to_string(),
        input: input.to_string(),
        reason,
    };
    let Some((ip, len)) = input.split_once('/') else {
        return Err(bad("missing /prefix length".into()));
    };
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| bad(format!("`{ip}` is not an IPv4 or IPv6 address")))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len.parse() {
        Ok(l) if l <= max => l,
        _ => {
            return Err(bad(format!(
                "prefix length `{len}` is not a number from 0 to {max} (IPv{})",
                if ip.is_ipv4() { 4 } else { 6 }
            )))
        }
    };
    IpNet::new(ip, len).map_err(|e| bad(e.to_string()))
}

struct Builder<'t> {
    topo: &'t Topology,
    plan: Plan,
    by_name: HashMap<String, usize>,
}

impl<'t> Builder<'t> {
    fn node_index(
        &self,
        node: &str,
        used_by: impl FnOnce() -> String,
    ) -> Result<usize, TopologyError> {
        self.by_name
            .get(node)
            .copied()
            .ok_or_else(|| TopologyError::UnknownNode {
                node: node.to_string(),
                used_by: used_by(),
            })
    }

    fn declare_nodes(&mut self) -> Result<(), TopologyError> {
        let mut explicit = HashMap::<&str, ()>::new();
        for (name, is_explicit) in &self.topo.mentions {
            check_node_name(name)?;
            if *is_explicit && explicit.insert(name, ()).is_some() {
                return Err(TopologyError::DuplicateNode { node: name.clone() });
            }
            if !self.by_name.contains_key(name) {
                self.by_name.insert(name.clone(), self.plan.nodes.len());
                self.plan.nodes.push(PlanNode {
                    name: name.clone(),
                    ..PlanNode::default()
                });
            }
        }
        // A switch node holds only its bridge: it cannot also be a host.
        for seg in &self.topo.segments {
            let used_as_host = self
                .topo
                .links
                .iter()
                .flat_map(|l| [&l.a, &l.b])
                .chain(self.topo.segments.iter().flat_map(|s| &s.members))
                .any(|e| e.node == seg.switch);
            if used_as_host {
                return Err(TopologyError::SwitchUsedAsHost {
                    node: seg.switch.clone(),
                });
            }
        }
        Ok(())
    }

    /// Adds an interface to a node, giving it the next free ifindex.
    fn add_iface(
        &mut self,
        node: usize,
        ep: &Endpoint,
        master: Option<u32>,
    ) -> Result<usize, TopologyError> {
        check_ifname(&ep.node, &ep.ifname)?;
        let n = &self.plan.nodes[node];
        if n.ifaces.iter().any(|i| i.name == ep.ifname)
            || (n.bridge.is_some() && ep.ifname == BRIDGE_NAME)
        {
            return Err(TopologyError::DuplicateInterface {
                node: ep.node.clone(),
                ifname: ep.ifname.clone(),
            });
        }
        let addrs = ep
            .addrs
            .iter()
            .map(|a| parse_cidr(&ep.node, &ep.ifname, a))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(mtu) = ep.mtu {
            if !(68..=65535).contains(&mtu) {
                return Err(TopologyError::InvalidMtu {
                    node: ep.node.clone(),
                    ifname: ep.ifname.clone(),
                    mtu,
                });
            }
        }
        let mac = match &ep.mac {
            None => None,
            Some(text) => {
                let bad = |reason| TopologyError::InvalidMac {
                    node: ep.node.clone(),
                    ifname: ep.ifname.clone(),
                    mac: text.clone(),
                    reason,
                };
                let mac = parse_mac(text)
                    .ok_or_else(|| bad("expected six hex octets like 02:00:00:00:00:01"))?;
                if mac[0] & 1 == 1 {
                    return Err(bad("a multicast address cannot be an interface address"));
                }
                if mac == [0; 6] {
                    return Err(bad("the all-zero address is not allowed"));
                }
                Some(mac)
            }
        };
        let n = &mut self.plan.nodes[node];
        // lo is 1; a switch's bridge takes 2.
        let index = n.ifaces.len() as u32 + if n.bridge.is_some() { 3 } else { 2 };
        n.ifaces.push(PlanIface {
            name: ep.ifname.clone(),
            index,
            addrs,
            mtu: ep.mtu,
            mac,
            master,
        });
        Ok(n.ifaces.len() - 1)
    }

    fn links(&mut self) -> Result<(), TopologyError> {
        for link in &self.topo.links {
            if link.a.node == link.b.node {
                return Err(TopologyError::SelfLink {
                    node: link.a.node.clone(),
                    a: link.a.ifname.clone(),
                    b: link.b.ifname.clone(),
                });
            }
            let na = self.node_index(&link.a.node, || "a link".into())?;
            let nb = self.node_index(&link.b.node, || "a link".into())?;
            let ia = self.add_iface(na, &link.a, None)?;
            let ib = self.add_iface(nb, &link.b, None)?;
            self.plan.veths.push(PlanVeth {
                a: (na, ia),
                b: (nb, ib),
            });
            check_segment_clash([(na, ia), (nb, ib)].iter().copied(), &self.plan)?;
        }
        Ok(())
    }

    fn segments(&mut self) -> Result<(), TopologyError> {
        for seg in &self.topo.segments {
            let ns = self.node_index(&seg.switch, || "a segment".into())?;
            self.plan.nodes[ns].bridge = Some(2);
            let mut ends = Vec::new();
            for (i, member) in seg.members.iter().enumerate() {
                let nm = self.node_index(&member.node, || format!("segment `{}`", seg.switch))?;
                let port = Endpoint::new(seg.switch.clone(), format!("port{}", i + 1));
                let ip = self.add_iface(ns, &port, Some(2))?;
                let im = self.add_iface(nm, member, None)?;
                // The switch creates each pair, with the member's end in the member.
                self.plan.veths.push(PlanVeth {
                    a: (ns, ip),
                    b: (nm, im),
                });
                ends.push((nm, im));
            }
            check_segment_clash(ends.iter().copied(), &self.plan)?;
        }
        Ok(())
    }

    fn routes(&mut self) -> Result<(), TopologyError> {
        for (node, route) in &self.topo.routes {
            let ni = self.node_index(node, || format!("route {}", route.dst))?;
            let bad = |reason: String| TopologyError::InvalidRoute {
                node: node.clone(),
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
            let dst =
                if route.dst == "default" {
                    match via {
                        Some(IpAddr::V4(_)) => "0.0.0.0/0".parse().expect("valid"),
                        Some(IpAddr::V6(_)) => "::/0".parse().expect("valid"),
                        None => return Err(bad(
                            "`default` needs a gateway (or write 0.0.0.0/0 or ::/0 with a device)"
                                .into(),
                        )),
                    }
                } else {
                    parse_cidr(node, "route", &route.dst)?.trunc()
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
            let n = &self.plan.nodes[ni];
            let dev = match &route.dev {
                None => None,
                Some(d) => {
                    let iface = n.ifaces.iter().find(|i| &i.name == d).ok_or_else(|| {
                        TopologyError::UnknownInterface {
                            node: node.clone(),
                            ifname: d.clone(),
                            used_by: format!("route {}", route.dst),
                        }
                    })?;
                    Some((iface.index, iface.name.clone()))
                }
            };
            if let Some(gw) = via {
                if n.ifaces
                    .iter()
                    .flat_map(|i| &i.addrs)
                    .any(|a| a.addr() == gw)
                {
                    return Err(bad(format!(
                        "gateway {gw} is an address of `{node}` itself"
                    )));
                }
                let candidates: Vec<&super::plan::PlanIface> = n
                    .ifaces
                    .iter()
                    .filter(|i| dev.as_ref().is_none_or(|(idx, _)| *idx == i.index))
                    .collect();
                let connected = candidates
                    .iter()
                    .flat_map(|i| &i.addrs)
                    .any(|a| a.contains(&gw));
                if !connected {
                    return Err(TopologyError::GatewayUnreachable {
                        node: node.clone(),
                        dst: route.dst.clone(),
                        gateway: gw,
                        on: match &route.dev {
                            Some(d) => format!("interface `{d}`"),
                            None => "the node".into(),
                        },
                    });
                }
            }
            self.plan.nodes[ni].routes.push(PlanRoute { dst, via, dev });
        }
        Ok(())
    }

    fn settings(&mut self) -> Result<(), TopologyError> {
        for node in &self.topo.forwarding {
            let ni = self.node_index(node, || "forwarding".into())?;
            let s = &mut self.plan.nodes[ni].sysctls;
            s.push(("net/ipv4/ip_forward".into(), "1".into()));
            s.push(("net/ipv6/conf/all/forwarding".into(), "1".into()));
            // Routers answer every probe: with the default rate limit (a
            // burst of 6 ICMP errors, then one a second per destination), a
            // second traceroute through the same router shows `*`.
            s.push(("net/ipv4/icmp_ratelimit".into(), "0".into()));
            s.push(("net/ipv6/icmp/ratelimit".into(), "0".into()));
        }
        for (node, key, value) in &self.topo.sysctls {
            let ni = self.node_index(node, || format!("sysctl {key}"))?;
            let bad = |reason| TopologyError::InvalidSysctl {
                node: node.clone(),
                key: key.clone(),
                reason,
            };
            if key.contains('/') || key.split('.').any(|p| p.is_empty()) {
                return Err(bad(
                    "a sysctl key is dot-separated words, like `net.ipv4.ip_forward`",
                ));
            }
            if !key.starts_with("net.") {
                return Err(bad("only `net.*` sysctls are per namespace"));
            }
            self.plan.nodes[ni]
                .sysctls
                .push((key.replace('.', "/"), value.clone()));
        }
        // IPv6 nodes: no DAD on any address, link-local ones included, so
        // neighbour discovery works the moment the build returns.
        for n in &mut self.plan.nodes {
            if n.has_ipv6() {
                n.sysctls
                    .insert(0, ("net/ipv6/conf/default/accept_dad".into(), "0".into()));
                n.sysctls
                    .insert(0, ("net/ipv6/conf/all/accept_dad".into(), "0".into()));
            }
        }
        Ok(())
    }
}

/// No address may appear twice among the interfaces of one L2 segment.
fn check_segment_clash(
    ends: impl Iterator<Item = (usize, usize)>,
    plan: &Plan,
) -> Result<(), TopologyError> {
    check_clash(ends, plan, "segment")
}

/// No address may appear twice among the given interfaces.
fn check_clash(
    ends: impl Iterator<Item = (usize, usize)>,
    plan: &Plan,
    scope: &'static str,
) -> Result<(), TopologyError> {
    let mut seen = HashMap::<IpAddr, String>::new();
    for (n, i) in ends {
        let node = &plan.nodes[n];
        let iface = &node.ifaces[i];
        for a in &iface.addrs {
            let who = format!("{}/{}", node.name, iface.name);
            if let Some(first) = seen.insert(a.addr(), who.clone()) {
                return Err(TopologyError::AddressClash {
                    addr: a.addr(),
                    scope,
                    first,
                    second: who,
                });
            }
        }
    }
    Ok(())
}

/// No address may appear twice in one node.
fn check_node_clash(plan: &Plan) -> Result<(), TopologyError> {
    for (n, node) in plan.nodes.iter().enumerate() {
        check_clash((0..node.ifaces.len()).map(|i| (n, i)), plan, "node")?;
    }
    Ok(())
}

impl Plan {
    /// Validates `topo` and resolves it.
    pub(crate) fn new(topo: &Topology) -> Result<Plan, TopologyError> {
        let mut b = Builder {
            topo,
            plan: Plan::default(),
            by_name: HashMap::new(),
        };
        b.declare_nodes()?;
        // Switch nodes get their bridge before any port is numbered.
        for seg in &topo.segments {
            let ns = b.by_name[&seg.switch];
            b.plan.nodes[ns].bridge = Some(2);
        }
        b.links()?;
        b.segments()?;
        check_node_clash(&b.plan)?;
        b.routes()?;
        b.settings()?;
        Ok(b.plan)
    }
}
