//! The graph a picture shows, read from a [`Topology`]: nodes with their
//! kind, links as edges with both ends' interface names and addresses, and
//! each bridge segment as a switch node with one edge per member; a wire
//! is an edge that says so, with each end's impairment models.

use crate::topology::{Endpoint, Route, Topology};

/// What a node is in a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A node that does not forward.
    Host,
    /// A node with forwarding on.
    Router,
    /// The node that holds a bridge segment's `br0`.
    Switch,
}

impl Kind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Host => "host",
            Kind::Router => "router",
            Kind::Switch => "switch",
        }
    }
}

/// A node as drawn.
#[derive(Debug, Clone)]
pub(crate) struct DrawNode {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Short tags after the kind: `NAT`, `firewall`.
    pub(crate) tags: Vec<&'static str>,
    /// The node's static routes, as `ip route` writes them.
    pub(crate) routes: Vec<String>,
}

/// One end of an edge.
#[derive(Debug, Clone)]
pub(crate) struct DrawEnd {
    pub(crate) node: usize,
    pub(crate) ifname: String,
    pub(crate) addrs: Vec<String>,
    /// On a wire, the models of what this end sends and receives
    /// (`out: delay 50ms`, `in: loss 20%`).
    pub(crate) models: Vec<String>,
}

impl DrawEnd {
    fn new(node: usize, ifname: String, addrs: Vec<String>) -> DrawEnd {
        DrawEnd {
            node,
            ifname,
            addrs,
            models: Vec::new(),
        }
    }

    /// The label lines at this end: the interface, its addresses, then its
    /// wire models.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.ifname.as_str())
            .chain(self.addrs.iter().map(String::as_str))
            .chain(self.models.iter().map(String::as_str))
    }
}

/// A veth pair (a link, or a member's port on a switch).
#[derive(Debug, Clone)]
pub(crate) struct DrawEdge {
    pub(crate) a: DrawEnd,
    pub(crate) b: DrawEnd,
    /// A wire (veth ends joined by the lab's relay) rather than a veth pair.
    pub(crate) wire: bool,
}

impl DrawEdge {
    /// Whether the edge joins `x` and `y`, in either direction.
    pub(crate) fn joins(&self, x: usize, y: usize) -> bool {
        (self.a.node, self.b.node) == (x, y) || (self.a.node, self.b.node) == (y, x)
    }
}

/// Nodes in creation order and edges in declaration order (links first,
/// then segments).
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) nodes: Vec<DrawNode>,
    pub(crate) edges: Vec<DrawEdge>,
    /// The lab's seed, when the topology fixes it.
    pub(crate) seed: Option<u64>,
}

/// An end's wire models as label lines.
fn models(e: &Endpoint) -> Vec<String> {
    let Some(w) = &e.wire else {
        return Vec::new();
    };
    let out = w.egress.iter().map(|m| format!("out: {m}"));
    out.chain(w.ingress.iter().map(|m| format!("in: {m}")))
        .collect()
}

fn route_text(r: &Route) -> String {
    let mut s = r.dst.clone();
    if let Some(via) = &r.via {
        s.push_str(" via ");
        s.push_str(via);
    }
    if let Some(dev) = &r.dev {
        s.push_str(" dev ");
        s.push_str(dev);
    }
    s
}

impl Model {
    pub(crate) fn new(topo: &Topology) -> Model {
        let names = topo.node_names();
        let index = |n: &str| names.iter().position(|m| m == n);
        let mut nodes: Vec<DrawNode> = names
            .iter()
            .map(|name| {
                let kind = if topo.segments.iter().any(|s| &s.switch == name) {
                    Kind::Switch
                } else if topo.forwarding.contains(name) {
                    Kind::Router
                } else {
                    Kind::Host
                };
                let mut tags = Vec::new();
                if topo.nats.iter().any(|(n, _)| n == name) {
                    tags.push("NAT");
                }
                if topo.firewalls.iter().any(|(n, _)| n == name) {
                    tags.push("firewall");
                }
                DrawNode {
                    name: name.clone(),
                    kind,
                    tags,
                    routes: Vec::new(),
                }
            })
            .collect();
        for (node, route) in &topo.routes {
            if let Some(i) = index(node) {
                nodes[i].routes.push(route_text(route));
            }
        }
        let end = |e: &Endpoint| {
            index(&e.node).map(|node| DrawEnd {
                models: models(e),
                ..DrawEnd::new(node, e.ifname.clone(), e.addrs.clone())
            })
        };
        let mut edges = Vec::new();
        for link in &topo.links {
            if let (Some(a), Some(b)) = (end(&link.a), end(&link.b)) {
                let wire = link.a.wire.is_some() || link.b.wire.is_some();
                edges.push(DrawEdge { a, b, wire });
            }
        }
        for seg in &topo.segments {
            let Some(switch) = index(&seg.switch) else {
                continue;
            };
            for (i, m) in seg.members.iter().enumerate() {
                if let Some(a) = end(m) {
                    let b = DrawEnd::new(switch, format!("port{}", i + 1), Vec::new());
                    let wire = m.wire.is_some();
                    edges.push(DrawEdge { a, b, wire });
                }
            }
        }
        Model {
            nodes,
            edges,
            seed: topo.seed,
        }
    }

    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The neighbours of each node, each once, in edge order.
    pub(crate) fn neighbours(&self) -> Vec<Vec<usize>> {
        let mut adj = vec![Vec::new(); self.nodes.len()];
        for e in &self.edges {
            for (x, y) in [(e.a.node, e.b.node), (e.b.node, e.a.node)] {
                if x != y && !adj[x].contains(&y) {
                    adj[x].push(y);
                }
            }
        }
        adj
    }
}
