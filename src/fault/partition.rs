//! Partitions: traffic between two sets of nodes stops, both ways or one
//! way, with nftables rules inside the nodes (a table of ours, `netns_test`,
//! so a user's own rules are never touched), until healed.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::partition_rules::{
    counted, drop_rule, remove_rules, snapshot, ForwardSets, Made, NodeChange, Partitions, INPUT,
    TABLE,
};
use super::{FaultError, FaultId};
use crate::error::{Error, Result};
use crate::lab::{Net, Node};
use crate::ruleset::{Field, Match};
use crate::sys::netlink::nft::Family;
use crate::vocab::Family as Ip;

/// Something that names a set of nodes: a name, an array, a slice or a
/// vector of names, or a node.
pub trait NodeSet {
    /// The names.
    fn node_names(&self) -> Vec<String>;
}

impl NodeSet for &str {
    fn node_names(&self) -> Vec<String> {
        vec![self.to_string()]
    }
}
impl NodeSet for String {
    fn node_names(&self) -> Vec<String> {
        vec![self.clone()]
    }
}
impl NodeSet for &Node {
    fn node_names(&self) -> Vec<String> {
        vec![self.name().to_string()]
    }
}
impl<const N: usize> NodeSet for [&str; N] {
    fn node_names(&self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}
impl NodeSet for &[&str] {
    fn node_names(&self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}
impl NodeSet for Vec<&str> {
    fn node_names(&self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}
impl NodeSet for Vec<String> {
    fn node_names(&self) -> Vec<String> {
        self.clone()
    }
}

/// A partition made by [`Net::partition`], [`Net::partition_one_way`] or
/// [`Net::isolate`]; dropping it heals it (also on a panic).
#[derive(Debug)]
#[must_use = "the partition heals when the guard drops"]
pub struct Partition<'a> {
    net: &'a Net,
    id: u64,
}

impl Partition<'_> {
    /// Heals now, reporting an error instead of ignoring it as `drop` does.
    pub fn heal(self) -> Result<()> {
        self.net.faults.end(self.net, self.id)
    }

    /// Lets the partition stay after the guard is gone, until
    /// [`Net::heal`]; it stays listed by [`Net::active_faults`].
    pub fn detach(self) {
        std::mem::forget(self);
    }

    /// Detaches the partition and returns its id, to heal it later with
    /// [`Net::end_fault`] (or [`Net::heal`]); it stays listed by
    /// [`Net::active_faults`] until then.
    pub fn into_id(self) -> FaultId {
        let id = FaultId(self.id);
        std::mem::forget(self);
        id
    }
}

impl Drop for Partition<'_> {
    fn drop(&mut self) {
        let _ = self.net.faults.end(self.net, self.id);
    }
}

/// One direction of a partition: packets from `from` to `to` are dropped.
struct Way {
    from: Vec<usize>,
    to: Vec<usize>,
}

impl Net {
    /// Stops all traffic between the nodes of `a` and those of `b`, both
    /// ways, whatever the path (hosts behind routers included): each node
    /// drops what it receives from the other side's addresses, so senders
    /// see a silent loss. Other traffic flows.
    ///
    /// Through a NAT: each router with a NAT also drops what it forwards
    /// between the two sides (a router that gets a NAT while the partition
    /// is active, from [`Node::set_nat`] or [`Node::add_nat`], gets these
    /// rules then, and the heal removes them with the rest; a NAT removed
    /// meanwhile leaves them until the heal, where they drop only what the
    /// partition drops anyway), as it sees the
    /// packets between its translations (the inside host's own address
    /// going out, the inside host as the destination coming in). So a host
    /// behind a NAT is cut off from the other side as well. What a NAT
    /// translates to its own address looks, to the far side, like the
    /// router's own traffic: partitioning the router from a node cuts off
    /// the hosts behind it from that node too. Between hosts each behind a
    /// NAT of its own (a peer-to-peer session across two NATs), no node
    /// sees both true ends, and the partition does not hold: partition
    /// what one side's NAT forwards instead (its inside hosts from the
    /// other side's NAT router).
    ///
    /// Every node named must have an address: the rules match addresses.
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().link(("a", "eth0", "198.51.100.1/24"), ("b", "eth0", "198.51.100.2/24")))?;
    /// {
    ///     let _split = net.partition("a", "b")?;
    ///     assert_eq!(net["a"].ping("b").run()?.received, 0);
    /// }
    /// assert_eq!(net["a"].ping("b").run()?.received, 1);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn partition(&self, a: impl NodeSet, b: impl NodeSet) -> Result<Partition<'_>> {
        let (a, b) = self.sides(a.node_names(), b.node_names())?;
        let description = format!("partition {} | {}", self.names(&a), self.names(&b));
        self.apply_partition(
            description,
            vec![
                Way {
                    from: a.clone(),
                    to: b.clone(),
                },
                Way { from: b, to: a },
            ],
        )
    }

    /// Stops traffic from the nodes of `from` to those of `to` only: `to`
    /// can still send to `from` (and its packets arrive).
    pub fn partition_one_way(&self, from: impl NodeSet, to: impl NodeSet) -> Result<Partition<'_>> {
        let (from, to) = self.sides(from.node_names(), to.node_names())?;
        let description = format!("partition {} -> {}", self.names(&from), self.names(&to));
        self.apply_partition(description, vec![Way { from, to }])
    }

    /// Cuts `node` off from every other node that has an address, both
    /// ways.
    pub fn isolate(&self, node: &str) -> Result<Partition<'_>> {
        let rest: Vec<String> = self
            .nodes()
            .iter()
            .filter(|n| n.name() != node && !n.declared_addrs().is_empty())
            .map(|n| n.name().to_string())
            .collect();
        self.partition(node, rest)
    }

    /// Node positions of two sets, checked: known nodes with addresses, not
    /// empty, apart.
    fn sides(&self, a: Vec<String>, b: Vec<String>) -> Result<(Vec<usize>, Vec<usize>)> {
        let pos = |names: &[String]| -> Result<Vec<usize>> {
            names
                .iter()
                .map(|n| self.position(n))
                .collect::<Result<BTreeSet<usize>>>()
                .map(|s| s.into_iter().collect())
        };
        let (pa, pb) = (pos(&a)?, pos(&b)?);
        if let Some(bare) = pa
            .iter()
            .chain(&pb)
            .find(|i| self.nodes()[**i].declared_addrs().is_empty())
        {
            return Err(Error::InvalidPartition {
                reason: format!(
                    "node `{}` has no address (a partition drops packets by address)",
                    self.nodes()[*bare].name()
                ),
            });
        }
        if pa.is_empty() || pb.is_empty() {
            return Err(Error::InvalidPartition {
                reason: "both sides need at least one node".into(),
            });
        }
        if let Some(both) = pa.iter().find(|i| pb.contains(i)) {
            return Err(Error::InvalidPartition {
                reason: format!("node `{}` is on both sides", self.nodes()[*both].name()),
            });
        }
        Ok((pa, pb))
    }

    fn names(&self, set: &[usize]) -> String {
        let names: Vec<&str> = set.iter().map(|i| self.nodes()[*i].name()).collect();
        format!("{{{}}}", names.join(", "))
    }

    /// The addresses the topology gave the nodes of `set` in `family`.
    fn addresses_of(&self, set: &[usize], family: Ip) -> Vec<IpAddr> {
        let mut addrs: Vec<IpAddr> = set
            .iter()
            .flat_map(|i| self.nodes()[*i].declared_addrs())
            .map(|(_, a)| a.addr())
            .filter(|a| Ip::of(*a) == family)
            .collect();
        addrs.sort();
        addrs.dedup();
        addrs
    }

    fn apply_partition(&self, description: String, ways: Vec<Way>) -> Result<Partition<'_>> {
        let reserved = self.faults.reserve_unique(description)?;
        let Some(registry) = Partitions::of(self)? else {
            let fault = reserved.description().to_string();
            self.faults.cancel(reserved);
            return Err(FaultError::TornDown { fault }.into());
        };
        let id = reserved.id();
        let comment = format!("netns-test fault {id}");
        // Held until the partition is recorded: a NAT installed meanwhile
        // is either seen here or gets the partition's forward rules.
        let mut held = registry.lock();
        // Per node, one transaction: our table and chains (made if absent),
        // then the sets and rules of this partition for the node.
        let mut changes: Vec<NodeChange> = (0..self.nodes().len())
            .map(|_| NodeChange::default())
            .collect();
        let nat_routers: Vec<usize> = (0..self.nodes().len())
            .filter(|i| !self.nodes()[*i].netfilter_config().nats.is_empty())
            .collect();
        let mut forward: Vec<ForwardSets> = Vec::new();
        for (w, way) in ways.iter().enumerate() {
            for family in [Ip::V4, Ip::V6] {
                let tag = match family {
                    Ip::V4 => 4,
                    Ip::V6 => 6,
                };
                let from = self.addresses_of(&way.from, family);
                if from.is_empty() {
                    continue;
                }
                let src = format!("fault{id}_{w}_from{tag}");
                // Dropped where they arrive: the sender sees a silent loss,
                // as on a real network (a drop on output would fail its
                // send with EPERM).
                for &n in &way.to {
                    let set = changes[n].set(src.clone(), family, &from);
                    let m = Match::InSet {
                        keys: vec![Field::Saddr(family)],
                        set,
                    };
                    changes[n].batch().add_rule(
                        Family::Inet,
                        TABLE,
                        INPUT,
                        &drop_rule(vec![m], &comment),
                    );
                }
                let to = self.addresses_of(&way.to, family);
                if to.is_empty() {
                    continue;
                }
                let sets = ForwardSets {
                    family,
                    src,
                    from,
                    dst: format!("fault{id}_{w}_to{tag}"),
                    to,
                };
                for &r in &nat_routers {
                    changes[r].forward_drop(&sets, &comment);
                }
                forward.push(sets);
            }
        }
        let mut applied: Vec<Made> = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            let Some(b) = &change.batch else {
                continue;
            };
            if let Err(e) = self.nodes()[i].with_nft(|nft| nft.apply(b)) {
                // Leave nothing half made.
                for done in applied {
                    if let Ok(node) = self.node(&done.node) {
                        let _ = remove_rules(node, &comment, &done.sets);
                    }
                }
                drop(held);
                self.faults.cancel(reserved);
                return Err(e);
            }
            applied.push(Made {
                node: self.nodes()[i].name().to_string(),
                sets: change.sets.clone(),
                forward: change.forward,
            });
        }
        let involved = Arc::new(Mutex::new(applied));
        held.add(id, comment.clone(), forward, Arc::clone(&involved));
        drop(held);
        let ev_comment = comment.clone();
        let ev_involved = Arc::clone(&involved);
        let started = self.faults.commit(
            self,
            reserved,
            Box::new(move |net: &Net, _| {
                let dropped: u64 = snapshot(&ev_involved)
                    .iter()
                    .filter_map(|m| net.node(&m.node).ok())
                    .filter_map(|node| counted(node, &ev_comment).ok())
                    .sum();
                format!("{dropped} packets dropped")
            }),
            Box::new(move |net: &Net| {
                // Forgotten first, so that no router is added after the
                // rules are removed.
                registry.forget(id);
                let mut first = Ok(());
                for m in snapshot(&involved) {
                    let Ok(node) = net.node(&m.node) else {
                        continue;
                    };
                    match remove_rules(node, &comment, &m.sets) {
                        // Done: a second try (after an error elsewhere)
                        // leaves this node alone.
                        Ok(()) => involved
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .retain(|n| !(n.node == m.node && n.sets == m.sets)),
                        Err(e) if first.is_ok() => first = Err(e),
                        Err(_) => {}
                    }
                }
                first
            }),
        )?;
        Ok(Partition {
            net: self,
            id: started,
        })
    }
}
