//! The live network: a built topology, its nodes, and teardown.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Index;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use std::sync::atomic::AtomicU64;

use super::attach::Attachments;
use super::build;
use super::faults::{ActiveFault, FaultBook};
use super::node::{Directory, Node};
use super::teardown::Teardown;
use crate::error::{Error, Result};
use crate::topology::{Plan, Topology};

/// A built topology: one namespace per node, linked as described.
///
/// Dropping it (on return, on panic, on an error) stops the threads spawned
/// in its nodes, kills and reaps their child processes and closes the
/// namespace fds. Only those fds and threads hold the namespaces, so the
/// kernel frees them with every interface, address and route inside; the
/// same happens when the process dies, even by SIGKILL.
///
/// ```no_run
/// use netns_test::{Net, Topology};
///
/// let net = Net::build(&Topology::new().link(
///     ("n1", "n1-veth0", "198.51.100.1/24"),
///     ("n2", "n2-veth0", "198.51.100.2/24"),
/// ))?;
/// for route in net["n1"].routes()? {
///     println!("{route}");
/// }
/// # Ok::<(), netns_test::Error>(())
/// ```
#[derive(Debug)]
pub struct Net {
    nodes: Vec<Node>,
    /// Node positions by name.
    by_name: HashMap<String, usize>,
    /// Every veth pair, as built.
    veths: Vec<Veth>,
    /// The faults active now.
    pub(crate) faults: FaultBook,
    /// What upper layers attached (captures), shared with the nodes.
    pub(crate) attachments: Arc<Attachments>,
    /// Set by the first teardown.
    pub(super) torn: AtomicBool,
}

impl Net {
    /// Validates `topology`, then builds it.
    ///
    /// The lab holds one open file per node (two per node while it is
    /// built): if the soft open-file limit is too low, it is raised as far
    /// as the hard limit allows, and [`Error::TooManyFiles`] says so if that
    /// is not enough.
    ///
    /// A validation error creates nothing. A kernel error halfway through
    /// (an address it refuses, say) returns the error after dropping
    /// everything already built.
    pub fn build(topology: &Topology) -> Result<Net> {
        let plan = Plan::new(topology)?;
        if let Err(s) = crate::sys::fd_limit::ensure_room_for(plan.nodes.len()) {
            let first = plan.nodes.get(s.first_node_over).or(plan.nodes.last());
            return Err(Error::TooManyFiles {
                nodes: plan.nodes.len(),
                needed: s.needed,
                open: s.open,
                soft: s.soft,
                hard: s.hard,
                first_node_over: first.map(|n| n.name.clone()).unwrap_or_default(),
            });
        }
        crate::sys::process::adopt_orphans();
        let namespaces = build::build(&plan)?;
        let directory = Arc::new(Directory::new(
            plan.nodes
                .iter()
                .flat_map(|n| {
                    n.ifaces
                        .iter()
                        .flat_map(move |i| i.addrs.iter().map(move |a| (a.addr(), n.name.clone())))
                })
                .collect(),
        ));
        let attachments = Arc::new(Attachments::default());
        let mut nodes = Vec::with_capacity(namespaces.len());
        for (ns, pn) in namespaces.into_iter().zip(&plan.nodes) {
            let addrs = pn
                .ifaces
                .iter()
                .flat_map(|i| i.addrs.iter().map(move |a| (i.name.clone(), *a)))
                .collect();
            nodes.push(Node::new(
                ns,
                addrs,
                pn.ifaces.clone(),
                Arc::clone(&directory),
                Arc::clone(&attachments),
                pn.forwarding,
            )?);
        }
        let veths = plan
            .veths
            .iter()
            .map(|v| {
                let end = |(n, i): (usize, usize)| VethEnd {
                    node: n,
                    ifname: plan.nodes[n].ifaces[i].name.clone(),
                    index: plan.nodes[n].ifaces[i].index,
                };
                Veth {
                    a: end(v.a),
                    b: end(v.b),
                    state_changes: AtomicU64::new(0),
                }
            })
            .collect();
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name().to_string(), i))
            .collect();
        let net = Net {
            nodes,
            by_name,
            veths,
            faults: FaultBook::default(),
            attachments,
            torn: AtomicBool::new(false),
        };
        // NATs and firewalls last, once every route exists: one
        // transaction per node.
        for (node, pn) in net.nodes.iter().zip(&plan.nodes) {
            if !pn.netfilter.is_empty() {
                node.apply_netfilter(pn.netfilter.clone(), &pn.ruleset)?;
            }
        }
        Ok(net)
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Result<&Node> {
        self.position(name).map(|i| &self.nodes[i])
    }

    /// The position of node `name` in [`Net::nodes`].
    pub(crate) fn position(&self, name: &str) -> Result<usize> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownNode(name.to_string()))
    }

    /// All nodes, in creation order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Every veth pair of the network, as built.
    pub(crate) fn veths(&self) -> &[Veth] {
        &self.veths
    }

    /// The faults active now (link downs, flaps, partitions), oldest first,
    /// each with what it did so far.
    pub fn active_faults(&self) -> Vec<ActiveFault> {
        self.faults.list(self)
    }

    /// Ends every active fault: links back up, partitions healed, flaps
    /// stopped. The guards of the faults then do nothing when dropped.
    pub fn heal(&self) -> Result<()> {
        self.faults.end_all(self)
    }

    /// The node that holds address `ip`, if any (maps probe hops to names).
    pub fn node_of(&self, ip: IpAddr) -> Option<&Node> {
        let name = self.nodes.first()?.directory().name_of(ip)?;
        self.node(name).ok()
    }
}

/// One end of a veth pair.
#[derive(Debug, Clone)]
pub(crate) struct VethEnd {
    /// The node's position in `Net::nodes`.
    pub(crate) node: usize,
    pub(crate) ifname: String,
    pub(crate) index: u32,
}

/// A veth pair of the network.
#[derive(Debug)]
pub(crate) struct Veth {
    pub(crate) a: VethEnd,
    pub(crate) b: VethEnd,
    /// Times either end was set down or up at run time.
    pub(crate) state_changes: AtomicU64,
}

impl Index<&str> for Net {
    type Output = Node;

    /// `net["n1"]`; panics, listing the nodes, on an unknown name.
    fn index(&self, name: &str) -> &Node {
        match self.node(name) {
            Ok(n) => n,
            Err(_) => panic!(
                "unknown node `{name}`; this network has: {}",
                self.nodes
                    .iter()
                    .map(|n| n.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.tear_down(Teardown::Drop);
        // Dropping the nodes closes the namespace fds.
    }
}
