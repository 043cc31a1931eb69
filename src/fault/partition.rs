//! Partitions: traffic between two sets of nodes stops, both ways or one
//! way, with nftables rules inside the nodes (a table of ours, `netns_test`,
//! so a user's own rules are never touched), until healed.

use std::collections::BTreeSet;

use ipnet::IpNet;

use crate::error::{Error, Result};
use crate::lab::{Net, Node};
use crate::ruleset::{BaseChain, ChainKind, Hook, Match, Rule, Verdict};
use crate::sys::netlink::nft::{Batch, Family};

/// The table the faults' rules live in, in every node that has some.
pub(crate) const TABLE: &str = "netns_test";
/// Its chain for what a node receives.
const INPUT: &str = "fault_input";

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

    /// Detaches the partition and returns its id in the network's book.
    pub(crate) fn into_id(self) -> u64 {
        let id = self.id;
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

    /// Cuts `node` off from every other node, both ways.
    pub fn isolate(&self, node: &str) -> Result<Partition<'_>> {
        let rest: Vec<String> = self
            .nodes()
            .iter()
            .map(|n| n.name().to_string())
            .filter(|n| n != node)
            .collect();
        self.partition(node, rest)
    }

    /// Node positions of two sets, checked: known nodes, not empty, apart.
    fn sides(&self, a: Vec<String>, b: Vec<String>) -> Result<(Vec<usize>, Vec<usize>)> {
        let pos = |names: &[String]| -> Result<Vec<usize>> {
            names
                .iter()
                .map(|n| self.position(n))
                .collect::<Result<BTreeSet<usize>>>()
                .map(|s| s.into_iter().collect())
        };
        let (pa, pb) = (pos(&a)?, pos(&b)?);
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

    /// The addresses the topology gave the nodes of `set`, as host prefixes.
    fn addresses_of(&self, set: &[usize]) -> Vec<IpNet> {
        set.iter()
            .flat_map(|i| self.nodes()[*i].declared_addrs())
            .map(|(_, a)| IpNet::from(a.addr()))
            .collect()
    }

    fn apply_partition(&self, description: String, ways: Vec<Way>) -> Result<Partition<'_>> {
        let id = self.faults.next_id();
        let comment = format!("netns-test fault {id}");
        // Per node, one transaction: our table and chains (made if absent),
        // then every rule of this partition for the node.
        let mut batches: Vec<Option<Batch>> = (0..self.nodes().len()).map(|_| None).collect();
        // Dropped where they arrive: the sender sees a silent loss, as on
        // a real network (a drop on output would fail its send with EPERM).
        for way in &ways {
            let from_addrs = self.addresses_of(&way.from);
            for &n in &way.to {
                for a in &from_addrs {
                    batches[n].get_or_insert_with(base_batch).add_rule(
                        Family::Inet,
                        TABLE,
                        INPUT,
                        &drop_rule(Match::Saddr(*a), &comment),
                    );
                }
            }
        }
        let involved: Vec<usize> = (0..batches.len())
            .filter(|i| batches[*i].is_some())
            .collect();
        let mut applied = Vec::new();
        for (i, b) in batches.iter().enumerate() {
            if let Some(b) = b {
                if let Err(e) = self.nodes()[i].with_nft(|nft| nft.apply(b)) {
                    // Leave nothing half made.
                    for done in applied {
                        let _ = remove_rules(&self.nodes()[done], &comment);
                    }
                    return Err(e);
                }
                applied.push(i);
            }
        }
        let (ev_comment, ev_nodes) = (comment.clone(), involved.clone());
        let started = self.faults.start_with_id(
            id,
            format!("partition {id}"),
            description,
            Box::new(move |net: &Net| {
                let dropped: u64 = ev_nodes
                    .iter()
                    .filter_map(|i| counted(&net.nodes()[*i], &ev_comment).ok())
                    .sum();
                format!("{dropped} packets dropped")
            }),
            Box::new(move |net: &Net| {
                let mut first = Ok(());
                for i in involved {
                    let r = remove_rules(&net.nodes()[i], &comment);
                    if first.is_ok() {
                        first = r;
                    }
                }
                first
            }),
        );
        Ok(Partition {
            net: self,
            id: started,
        })
    }
}

/// A transaction that starts with our table and chains (made if absent).
fn base_batch() -> Batch {
    let mut b = Batch::new();
    b.add_table(Family::Inet, TABLE);
    b.add_chain(
        Family::Inet,
        TABLE,
        INPUT,
        Some(BaseChain {
            hook: Hook::Input,
            // Before the usual filter chains (priority 0).
            priority: -10,
            kind: ChainKind::Filter,
            policy: Verdict::Accept,
        }),
    );
    b
}

fn drop_rule(m: Match, comment: &str) -> Rule {
    Rule::counted(vec![m], Verdict::Drop, comment)
}

/// Packets dropped so far by the rules with `comment` in `node`.
fn counted(node: &Node, comment: &str) -> Result<u64> {
    node.with_nft(|nft| {
        Ok(nft
            .list_rules(Family::Inet, TABLE)?
            .iter()
            .filter(|r| r.comment.as_deref() == Some(comment))
            .filter_map(|r| r.packets)
            .sum())
    })
}

/// Deletes the rules with `comment` in `node`, and our table when nothing
/// of ours is left in it.
fn remove_rules(node: &Node, comment: &str) -> Result<()> {
    node.with_nft(|nft| {
        let rules = match nft.list_rules(Family::Inet, TABLE) {
            Ok(r) => r,
            Err(Error::Nftables { source, .. }) if source.raw_os_error() == Some(libc_enoent()) => {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        let mut b = Batch::new();
        let (mine, others): (Vec<_>, Vec<_>) = rules
            .iter()
            .partition(|r| r.comment.as_deref() == Some(comment));
        if others.is_empty() {
            b.delete_table(Family::Inet, TABLE);
        } else {
            for r in mine {
                b.delete_rule(Family::Inet, TABLE, &r.chain, r.handle);
            }
        }
        if b.is_empty() {
            return Ok(());
        }
        nft.apply(&b)
    })
}

fn libc_enoent() -> i32 {
    nix::errno::Errno::ENOENT as i32
}
