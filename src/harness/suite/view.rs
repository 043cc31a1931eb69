//! What a lab's names stand for, read from its plan before anything runs:
//! each node's interfaces and addresses, and the links between nodes; so
//! that a step naming a destination, an address or a link the lab lacks
//! is found when the file is loaded.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use crate::lab::Directory;
use crate::topology::Plan;
use crate::Topology;

/// A link of the lab: both ends as (node, interface), and whether it is a
/// wire.
#[derive(Debug, Clone)]
pub(crate) struct LinkView {
    pub(crate) a: (String, String),
    pub(crate) b: (String, String),
    pub(crate) wire: bool,
}

/// A lab's nodes, their interfaces and addresses, and its links.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabView {
    /// The node names, in order.
    pub(crate) nodes: Vec<String>,
    /// Each node's interfaces, with their addresses.
    ifaces: BTreeMap<String, Vec<(String, Vec<IpAddr>)>>,
    links: Vec<LinkView>,
    /// Which node holds which address.
    directory: Directory,
    /// Whether the interfaces and links are known (the lab was planned).
    planned: bool,
}

/// Why a text does not name a host of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostProblem {
    /// Neither an address nor a node.
    Unknown,
    /// A node with no address.
    NoAddress,
    /// A node, as a destination, whose every address another node holds
    /// too: why.
    NoOwnAddress(String),
}

/// What a step's `a`, `b` and `iface` name, when not exactly one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkProblem {
    /// No link, or several: how many.
    Found(usize),
    /// The one link is no wire.
    NotAWire(String),
}

impl LabView {
    /// The view of `topology` (which was validated: an invalid one gives
    /// only its node names).
    pub(crate) fn new(topology: &Topology) -> LabView {
        let nodes = topology.node_names();
        let Ok(plan) = Plan::new(topology) else {
            return LabView {
                nodes,
                ..LabView::default()
            };
        };
        let ifaces = plan
            .nodes
            .iter()
            .map(|n| {
                let ifs = n
                    .ifaces
                    .iter()
                    .map(|i| (i.name.clone(), i.addrs.iter().map(|a| a.addr()).collect()))
                    .collect();
                (n.name.clone(), ifs)
            })
            .collect();
        let end = |(n, i): (usize, usize)| {
            let node = &plan.nodes[n];
            (node.name.clone(), node.ifaces[i].name.clone())
        };
        let links = plan
            .veths
            .iter()
            .map(|v| LinkView {
                a: end(v.a),
                b: end(v.b),
                wire: v.wire.is_some(),
            })
            .collect();
        LabView {
            nodes,
            ifaces,
            links,
            directory: Directory::of_plan(&plan),
            planned: true,
        }
    }

    /// Whether `name` is a node.
    pub(crate) fn has_node(&self, name: &str) -> bool {
        self.nodes.iter().any(|n| n == name)
    }

    /// The addresses of node `name`, in the order declared.
    pub(crate) fn addrs(&self, name: &str) -> Vec<IpAddr> {
        self.ifaces
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|(_, a)| a.iter().copied())
            .collect()
    }

    /// Whether node `node` has interface `iface`; every node has `lo`
    /// (which is what a node with no other interface is captured on).
    pub(crate) fn has_iface(&self, node: &str, iface: &str) -> bool {
        !self.planned
            || iface == "lo"
            || self
                .ifaces
                .get(node)
                .is_some_and(|ifs| ifs.iter().any(|(n, _)| n == iface))
    }

    /// The address `text` stands for, as a step resolves it when it runs:
    /// an address, or a node's first IPv4 address that no other node
    /// holds (else its first such IPv6 one); none when that is not known
    /// before running, or there is none.
    pub(crate) fn ip(&self, text: &str) -> Option<IpAddr> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(ip);
        }
        self.directory.destination_of(text)?.ok()
    }

    /// The socket address `text` (`address:port` or `node:port`) stands
    /// for, as [`LabView::ip`] resolves its host.
    pub(crate) fn socket(&self, text: &str) -> Option<SocketAddr> {
        if let Ok(sa) = text.parse::<SocketAddr>() {
            return Some(sa);
        }
        let (host, port) = text.rsplit_once(':')?;
        Some(SocketAddr::new(self.ip(host)?, port.parse().ok()?))
    }

    /// Whether `text` names a host: an address, or a node with an address
    /// (one of its own if it is a `destination`, which a reply must come
    /// from).
    pub(crate) fn host(&self, text: &str, destination: bool) -> Result<(), HostProblem> {
        if text.parse::<IpAddr>().is_ok() {
            Ok(())
        } else if !self.has_node(text) {
            Err(HostProblem::Unknown)
        } else if self.planned && self.addrs(text).is_empty() {
            Err(HostProblem::NoAddress)
        } else if let Some(Err(e)) = self.directory.destination_of(text).filter(|_| destination) {
            Err(HostProblem::NoOwnAddress(e.to_string()))
        } else {
            Ok(())
        }
    }

    /// The one link between `a` (at `iface` if given) and `b`, a wire if
    /// `wire`; as `Net::link` and `Net::link_at` find it.
    pub(crate) fn link(
        &self,
        a: &str,
        b: &str,
        iface: Option<&str>,
        wire: bool,
    ) -> Result<(), LinkProblem> {
        if !self.planned {
            return Ok(());
        }
        let found: Vec<&LinkView> = self
            .links
            .iter()
            .filter(|l| {
                let (ea, eb) = if l.a.0 == a {
                    (&l.a, &l.b)
                } else {
                    (&l.b, &l.a)
                };
                ea.0 == a && eb.0 == b && iface.is_none_or(|i| ea.1 == i)
            })
            .collect();
        match found.as_slice() {
            [one] if wire && !one.wire => Err(LinkProblem::NotAWire(format!(
                "{}/{} -- {}/{}",
                one.a.0, one.a.1, one.b.0, one.b.1
            ))),
            [_] => Ok(()),
            more => Err(LinkProblem::Found(more.len())),
        }
    }
}
