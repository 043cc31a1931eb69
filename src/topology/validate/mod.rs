//! Validation: turns a [`Topology`] into a resolved [`Plan`] or the first
//! error, before anything is created.
//!
//! This file declares the nodes and their interfaces (links and segments);
//! the checks live by subject: `names.rs`, `addresses.rs` (IP and MAC, and
//! what must be unique on a segment or in a node), `routes.rs`,
//! `sysctls.rs` (the allow-list of per-namespace sysctls), `firewall.rs`
//! (NATs and firewalls into nftables rules).

mod addresses;
mod filter_rules;
mod firewall;
#[cfg(test)]
mod firewall_tests;
mod names;
mod nat;
mod nat_presets;
mod routes;

pub(crate) use firewall::{compile as compile_netfilter, IfaceView, NodeView};

pub(crate) use routes::resolve_route;
mod sysctls;
mod wires;

use std::collections::HashMap;

use super::plan::{Plan, PlanIface, PlanNode, PlanVeth, BRIDGE_NAME};
use super::{Endpoint, Topology, TopologyError};
use addresses::{check_node_clash, check_segment_clash, parse_iface_addr, parse_iface_mac};
use names::{check_ifname, check_node_name};

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
            .map(|a| parse_iface_addr(&ep.node, &ep.ifname, a))
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
            Some(text) => Some(parse_iface_mac(&ep.node, &ep.ifname, text)?),
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

    /// Gives both ends of a veth one MTU: given on one end, it is the
    /// pair's; two different ones are an error.
    fn pair_mtu(&mut self, a: (usize, usize), b: (usize, usize)) -> Result<(), TopologyError> {
        let end = |(n, i): (usize, usize)| &self.plan.nodes[n].ifaces[i];
        let who =
            |(n, i): (usize, usize)| format!("{}/{}", self.plan.nodes[n].name, end((n, i)).name);
        let mtu = match (end(a).mtu, end(b).mtu) {
            (Some(x), Some(y)) if x != y => {
                return Err(TopologyError::MtuMismatch {
                    a: who(a),
                    mtu_a: x,
                    b: who(b),
                    mtu_b: y,
                })
            }
            (Some(m), _) | (None, Some(m)) => m,
            (None, None) => return Ok(()),
        };
        for (n, i) in [a, b] {
            let node = &mut self.plan.nodes[n];
            let iface = &mut node.ifaces[i];
            iface.mtu = Some(mtu);
            if mtu < 1280 && iface.addrs.iter().any(|a| a.addr().is_ipv6()) {
                return Err(TopologyError::MtuTooSmallForIpv6 {
                    node: node.name.clone(),
                    ifname: iface.name.clone(),
                    mtu,
                });
            }
        }
        Ok(())
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
            self.pair_mtu((na, ia), (nb, ib))?;
            self.plan.veths.push(PlanVeth {
                a: (na, ia),
                b: (nb, ib),
                wire: wires::plan_wire(&link.a, &link.b)?,
            });
            check_segment_clash([(na, ia), (nb, ib)].into_iter(), &self.plan)?;
        }
        Ok(())
    }

    fn segments(&mut self) -> Result<(), TopologyError> {
        for seg in &self.topo.segments {
            let ns = self.node_index(&seg.switch, || "a segment".into())?;
            self.plan.nodes[ns].bridge = Some(2);
            self.plan.nodes[ns].drops_mld = !self.topo.forward_mld.contains(&seg.switch);
            let mut ends = Vec::new();
            for (i, member) in seg.members.iter().enumerate() {
                let nm = self.node_index(&member.node, || format!("segment `{}`", seg.switch))?;
                let port = Endpoint::new(seg.switch.clone(), format!("port{}", i + 1));
                let wire = wires::plan_wire(&port, member)?;
                let ip = self.add_iface(ns, &port, Some(2))?;
                let im = self.add_iface(nm, member, None)?;
                self.pair_mtu((ns, ip), (nm, im))?;
                // The switch creates each pair, with the member's end in the member.
                self.plan.veths.push(PlanVeth {
                    a: (ns, ip),
                    b: (nm, im),
                    wire,
                });
                ends.push((nm, im));
            }
            check_segment_clash(ends.iter().copied(), &self.plan)?;
        }
        for switch in &self.topo.forward_mld {
            let n = self.node_index(switch, || "forward_mld".into())?;
            if self.plan.nodes[n].bridge.is_none() {
                return Err(TopologyError::NotASwitch {
                    node: switch.clone(),
                    used_by: "forward_mld".into(),
                });
            }
        }
        Ok(())
    }
}

impl Plan {
    /// Validates `topo` and resolves it.
    pub(crate) fn new(topo: &Topology) -> Result<Plan, TopologyError> {
        if let Some(e) = &topo.generator_error {
            return Err(e.clone());
        }
        let mut b = Builder {
            topo,
            plan: Plan {
                seed: topo.seed,
                ..Plan::default()
            },
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
        b.netfilter()?;
        Ok(b.plan)
    }
}
