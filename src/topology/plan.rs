//! What validation produces: a resolved [`Plan`] (parsed addresses,
//! interface indices, route devices) that the lab builds as is.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::impairment::Impairment;
use crate::ruleset::{NodeRuleset, RulesetConfig};

/// The bridge device in a segment's switch node.
pub(crate) const BRIDGE_NAME: &str = "br0";

/// One interface to create in a node, with its fixed ifindex.
#[derive(Debug, Clone)]
pub(crate) struct PlanIface {
    pub name: String,
    pub index: u32,
    pub addrs: Vec<IpNet>,
    pub mtu: Option<u32>,
    pub mac: Option<[u8; 6]>,
    /// The bridge this interface is a port of (its index in the same node).
    pub master: Option<u32>,
}

/// A route to add in a node.
#[derive(Debug, Clone)]
pub(crate) struct PlanRoute {
    pub dst: IpNet,
    pub via: Option<IpAddr>,
    /// Output interface: (ifindex, name).
    pub dev: Option<(u32, String)>,
}

/// A node to create.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanNode {
    pub name: String,
    pub ifaces: Vec<PlanIface>,
    /// Index of a bridge device to create first, if this is a switch node.
    pub bridge: Option<u32>,
    /// Whether the switch drops its members' listener reports (the table
    /// of `ruleset::switch_ruleset`).
    pub drops_mld: bool,
    pub routes: Vec<PlanRoute>,
    /// Sysctls to write as soon as the node exists (before its interfaces,
    /// so `default` settings apply to them), as (`/proc/sys` relative path,
    /// value).
    pub sysctls: Vec<(String, String)>,
    /// Sysctls of one interface, written once the node's interfaces exist
    /// and before their addresses are added.
    pub iface_sysctls: Vec<(String, String)>,
    /// Whether the node forwards (a router).
    pub forwarding: bool,
    /// Its NATs and firewall, as declared.
    pub netfilter: RulesetConfig,
    /// What they become: the node's firewall table, installed last.
    pub ruleset: NodeRuleset,
}

impl PlanNode {
    pub(crate) fn has_ipv6(&self) -> bool {
        self.ifaces
            .iter()
            .flat_map(|i| &i.addrs)
            .any(|a| a.addr().is_ipv6())
    }
}

/// A link: (node, iface) positions of both ends; `a` creates it. A veth
/// pair, or, with `wire`, two veth ends each paired into the wire hub and
/// joined by the relay.
#[derive(Debug, Clone)]
pub(crate) struct PlanVeth {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub wire: Option<PlanWire>,
}

/// The models of a wire's two directions: `[a to b, b to a]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanWire {
    pub models: [Impairment; 2],
}

/// A validated topology, ready to build.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub nodes: Vec<PlanNode>,
    pub veths: Vec<PlanVeth>,
    /// The topology's seed, if it set one.
    pub seed: Option<u64>,
}
