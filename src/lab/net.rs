//! The live network: a built topology, its nodes, and teardown.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Index;
use std::sync::Arc;

use std::sync::atomic::AtomicU64;

use super::attach::Attachments;
use super::build;
use super::faults::{ActiveFault, FaultBook};
use super::node::{Directory, Node};
use super::relay::{Relay, WireEnds};
use super::teardown::Teardown;
use crate::error::{Error, Result};
use crate::ruleset::Layers;
use crate::sys::fd_limit::{Demand, FirstOver, Shortage};
use crate::sys::netlink::route::SavedRoute;
use crate::sys::shared_flag::SharedFlag;
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
    /// The relay of the wires, if there are any.
    pub(crate) relay: Option<Relay>,
    /// The seed of every random choice of the wires.
    seed: u64,
    /// Set by the first teardown; shared with the nodes and the children
    /// they fork.
    pub(super) torn: Arc<SharedFlag>,
}

impl Net {
    /// Validates `topology`, then builds it.
    ///
    /// The lab holds one open file per node (two per node while it is
    /// built), and with wires two per wire and a few for their relay: if the
    /// soft open-file limit is too low, it is raised to the hard limit, and
    /// [`Error::TooManyFiles`] says so if that is not enough. Builds on several threads at once count each other's fds
    /// (until each has ended); a build that runs out of fds all the same
    /// (taken by something else meanwhile) fails with the same error.
    ///
    /// A validation error creates nothing. A kernel error halfway through
    /// (an address it refuses, say) returns the error after dropping
    /// everything already built.
    pub fn build(topology: &Topology) -> Result<Net> {
        let plan = Plan::new(topology)?;
        let demand = Demand {
            nodes: plan.nodes.len(),
            wires: plan.veths.iter().filter(|v| v.wire.is_some()).count(),
            threads: super::shares::threads_for(plan.nodes.len()),
        };
        let reservation = crate::sys::fd_limit::ensure_room_for(demand)
            .map_err(|s| too_many_files(&plan, &s, None))?;
        let built = Net::build_planned(&plan).map_err(|e| {
            if crate::sys::fd_limit::is_emfile(&e) {
                too_many_files(&plan, &reservation.ran_out(demand), named_node(&e))
            } else {
                e
            }
        });
        drop(reservation);
        built
    }

    /// Builds `plan`, once there is room for it under the open-file limit.
    fn build_planned(plan: &Plan) -> Result<Net> {
        crate::sys::process::adopt_orphans();
        let built = build::build(plan)?;
        let namespaces = built.namespaces;
        let seed = resolve_seed(plan.seed);
        let directory = Arc::new(Directory::of_plan(plan));
        let attachments = Arc::new(Attachments::default());
        let torn = Arc::new(SharedFlag::new().map_err(|e| Error::Spawn {
            op: "map the shared page of the lab's teardown flag".into(),
            source: e,
        })?);
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
                Arc::clone(&torn),
            )?);
        }
        let mut wires = 0;
        let veths = plan
            .veths
            .iter()
            .map(|v| {
                let wire = v.wire.as_ref().map(|_| {
                    wires += 1;
                    wires - 1
                });
                let end = |(n, i): (usize, usize)| VethEnd {
                    node: n,
                    ifname: plan.nodes[n].ifaces[i].name.clone(),
                    index: plan.nodes[n].ifaces[i].index,
                };
                Veth {
                    a: end(v.a),
                    b: end(v.b),
                    wire,
                    state_changes: Arc::default(),
                    lost_routes: Arc::default(),
                }
            })
            .collect::<Vec<_>>();
        let relay = match built.hub {
            None => None,
            Some(hub) => {
                let ends = built
                    .ports
                    .into_iter()
                    .zip(plan.veths.iter().filter(|v| v.wire.is_some()))
                    .map(|(ports, v)| WireEnds {
                        ports,
                        nodes: [v.a, v.b].map(|(n, _)| plan.nodes[n].name.clone()),
                    })
                    .collect();
                let models = plan
                    .veths
                    .iter()
                    .filter_map(|v| v.wire.as_ref().map(|w| w.models.clone()))
                    .collect();
                Some(Relay::start(hub, ends, models, seed)?)
            }
        };
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
            relay,
            seed,
            torn,
        };
        // NATs and firewalls last, once every route exists: one
        // transaction per node, through a socket closed after it (the lab
        // keeps one open file per node).
        for (node, pn) in net.nodes.iter().zip(&plan.nodes) {
            if !pn.netfilter.is_empty() {
                node.apply_netfilter(Layers::declared(pn.netfilter.clone()), &pn.ruleset)?;
                node.nft.lock().unwrap_or_else(|p| p.into_inner()).release();
            }
        }
        Ok(net)
    }

    /// Whether teardown has begun (a timed-out test's body may still run).
    pub(crate) fn is_torn_down(&self) -> bool {
        self.torn.is_set()
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

    /// The faults active now (link downs, flaps, partitions, wires impaired
    /// or held), oldest first, each with what it did so far. The evidence of
    /// a wire's fault waits for that direction's rule, if one is running,
    /// for at most [`REPORT_WAIT`](crate::wire::REPORT_WAIT) in all, then
    /// says the direction is busy.
    pub fn active_faults(&self) -> Vec<ActiveFault> {
        self.faults.list(self)
    }

    /// Ends fault `id`: undoes it, if it is still active; nothing if it
    /// ended already (by its guard, [`Net::heal`], or [`Link::up`] of its
    /// link). Unlike [`Link::up`], it never ends another fault of the same
    /// link: a nemesis ends with it what it started, and only that.
    ///
    /// [`Link::up`]: crate::fault::Link::up
    pub fn end_fault(&self, id: crate::fault::FaultId) -> Result<()> {
        self.faults.end(self, id.0)
    }

    /// Ends every active fault: links back up, partitions healed, flaps
    /// stopped. The guards of the faults then do nothing when dropped.
    ///
    /// Every fault is tried; the first error is returned. A fault that
    /// could not be undone (a route that could not be added back, say)
    /// stays active: [`Net::active_faults`] lists it with the error, and
    /// the next heal (or its guard) tries again.
    pub fn heal(&self) -> Result<()> {
        self.faults.end_all(self)
    }

    /// The seed every random choice of the lab's wires draws from: the
    /// `NETNS_TEST_SEED` variable if set, else [`Topology::seed`], else one
    /// drawn when the lab was built. Replaying a failure with the same seed
    /// and the same frames gives the same decisions.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether the lab has wires (and so a seed that matters).
    pub fn has_wires(&self) -> bool {
        self.relay.is_some()
    }

    /// The node that holds address `ip`, if exactly one does (maps probe
    /// hops to names); `None` for an address that nodes on separate
    /// segments share.
    pub fn node_of(&self, ip: IpAddr) -> Option<&Node> {
        let name = self.nodes.first()?.directory().name_of(ip)?;
        self.node(name).ok()
    }
}

/// The typed error for `shortage`, naming `node` (the node a build that ran
/// out of fds was working on), else the first node past the limit.
fn too_many_files(plan: &Plan, shortage: &Shortage, node: Option<&str>) -> Error {
    let first = match shortage.first_over {
        FirstOver::Node(i) => plan.nodes.get(i),
        FirstOver::Wire(i) => plan
            .veths
            .iter()
            .filter(|v| v.wire.is_some())
            .nth(i)
            .map(|v| &plan.nodes[v.a.0]),
    }
    .or(plan.nodes.last());
    let first = node.map(str::to_string).or(first.map(|n| n.name.clone()));
    Error::TooManyFiles {
        nodes: plan.nodes.len(),
        needed: shortage.needed,
        open: shortage.open,
        soft: shortage.soft,
        hard: shortage.hard,
        first_node_over: first.unwrap_or_default(),
    }
}

/// The node an error of the build names, if it names one.
fn named_node(e: &Error) -> Option<&str> {
    match e {
        Error::Netlink { node, .. } | Error::Sysctl { node, .. } | Error::Nftables { node, .. } => {
            Some(node)
        }
        // `node/iface`, or the hub's name.
        Error::Wire { place, .. } => place
            .split_once('/')
            .map(|(node, _)| node)
            .filter(|n| *n != super::hub::HUB),
        // `node `name`: what failed`.
        Error::Namespace { op, .. } => op.strip_prefix("node `")?.split('`').next(),
        _ => None,
    }
}

/// The lab's seed: `NETNS_TEST_SEED`, else the topology's, else drawn from
/// the clock and the process id.
fn resolve_seed(declared: Option<u64>) -> u64 {
    if let Some(s) = crate::sys::env::seed() {
        return s;
    }
    declared.unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        crate::vocab::Rng::split(t, u64::from(std::process::id())).next_u64()
    })
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
    /// Its position among the lab's wires, when it is a wire.
    pub(crate) wire: Option<usize>,
    /// Times the link was set down or up at run time (by `Link::down`,
    /// `Link::up`, a flap's thread); shared with that thread.
    pub(crate) state_changes: Arc<AtomicU64>,
    /// The routes through its ends that going down deleted, to add back
    /// when it comes up, as (node, route); its lock is held over each
    /// change of the link's state.
    pub(crate) lost_routes: Arc<std::sync::Mutex<Vec<(usize, SavedRoute)>>>,
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
