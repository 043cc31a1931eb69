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
    /// The paths in `sysctls` of the IPv6 settings the library adds on its
    /// own (those the topology also sets are not among them): a kernel
    /// without IPv6 lacks them, which is then no error.
    pub own_sysctls: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Topology;

    #[test]
    fn the_ipv6_settings_the_library_adds_are_its_own_and_the_topologys_are_not() {
        let t = Topology::new()
            .link(
                ("h", "eth0", "2001:db8::1/64"),
                ("r", "eth0", "2001:db8::2/64"),
            )
            .bridge("sw", [("r", "eth1"), ("m", "eth0")])
            .forwarding("r")
            .sysctl("r", "net.ipv6.icmp.ratelimit", "5")
            .sysctl("h", "net.ipv6.conf.all.accept_dad", "1");
        let plan = Plan::new(&t).unwrap();
        let own = |name: &str| {
            let n = plan.nodes.iter().find(|n| n.name == name).unwrap();
            // Every one is a path the node writes.
            for p in &n.own_sysctls {
                assert!(n.sysctls.iter().any(|(k, _)| k == p), "{p}");
            }
            n.own_sysctls.clone()
        };
        assert_eq!(
            own("r"),
            [
                "net/ipv6/conf/all/accept_dad",
                "net/ipv6/conf/default/accept_dad",
                "net/ipv6/conf/default/router_solicitations",
                "net/ipv6/conf/all/forwarding",
            ]
        );
        assert_eq!(
            own("h"),
            [
                "net/ipv6/conf/default/accept_dad",
                "net/ipv6/conf/default/router_solicitations",
            ]
        );
        assert_eq!(own("sw"), ["net/ipv6/conf/default/disable_ipv6"]);
        assert_eq!(own("m"), ["net/ipv6/conf/default/router_solicitations"]);
    }
}
