//! Partitions: traffic between two sets of nodes stops, both ways or one
//! way, with nftables rules inside the nodes (a table of ours, `netns_test`,
//! so a user's own rules are never touched), until healed.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::lab::{Net, Node};
use crate::ruleset::{BaseChain, ChainKind, Field, Hook, Match, Rule, SetDef, Verdict};
use crate::sys::netlink::nft::{Batch, Family};
use crate::vocab::Family as Ip;

/// The table the faults' rules live in, in every node that has some.
pub(crate) const TABLE: &str = "netns_test";
/// Its chain for what a node receives.
const INPUT: &str = "fault_input";
/// Its chain for what a NAT router forwards.
const FORWARD: &str = "fault_forward";

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

/// What one node gets for a partition: one transaction, and the names of
/// the sets it makes there.
#[derive(Default)]
struct NodeChange {
    batch: Option<Batch>,
    sets: Vec<String>,
    forward: bool,
}

impl NodeChange {
    fn batch(&mut self) -> &mut Batch {
        self.batch.get_or_insert_with(base_batch)
    }

    /// Makes set `name` of `family` addresses holding `addrs`, once.
    fn set(&mut self, name: String, family: Ip, addrs: &[IpAddr]) -> String {
        if !self.sets.contains(&name) {
            let def = SetDef {
                name: name.clone(),
                key: vec![Field::Saddr(family).data_type()],
                data: Vec::new(),
                dynamic: false,
                timeout: None,
                size: None,
            };
            let batch = self.batch();
            batch.add_set(Family::Inet, TABLE, &def);
            batch.add_addresses(Family::Inet, TABLE, &name, addrs);
            self.sets.push(name.clone());
        }
        name
    }

    /// Adds `rule` to the forward chain, made first if need be.
    fn forward_rule(&mut self, rule: &Rule) {
        if !self.forward {
            self.forward = true;
            self.batch().add_chain(
                Family::Inet,
                TABLE,
                FORWARD,
                Some(early_chain(Hook::Forward)),
            );
        }
        self.batch().add_rule(Family::Inet, TABLE, FORWARD, rule);
    }
}

impl Net {
    /// Stops all traffic between the nodes of `a` and those of `b`, both
    /// ways, whatever the path (hosts behind routers included): each node
    /// drops what it receives from the other side's addresses, so senders
    /// see a silent loss. Other traffic flows.
    ///
    /// Through a NAT: each router with a NAT when the partition starts
    /// also drops what it forwards between the two sides, as it sees the
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
        let id = reserved.id();
        let comment = format!("netns-test fault {id}");
        // Per node, one transaction: our table and chains (made if absent),
        // then the sets and rules of this partition for the node.
        let mut changes: Vec<NodeChange> = (0..self.nodes().len())
            .map(|_| NodeChange::default())
            .collect();
        let nat_routers: Vec<usize> = (0..self.nodes().len())
            .filter(|i| !self.nodes()[*i].netfilter_config().nats.is_empty())
            .collect();
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
                let dst = format!("fault{id}_{w}_to{tag}");
                for &r in &nat_routers {
                    let matches = vec![
                        Match::InSet {
                            keys: vec![Field::Saddr(family)],
                            set: changes[r].set(src.clone(), family, &from),
                        },
                        Match::InSet {
                            keys: vec![Field::Daddr(family)],
                            set: changes[r].set(dst.clone(), family, &to),
                        },
                    ];
                    changes[r].forward_rule(&drop_rule(matches, &comment));
                }
            }
        }
        let involved: Vec<(usize, Vec<String>)> = changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.batch.is_some())
            .map(|(i, c)| (i, c.sets.clone()))
            .collect();
        let mut applied: Vec<&(usize, Vec<String>)> = Vec::new();
        for node in &involved {
            let Some(b) = &changes[node.0].batch else {
                continue;
            };
            if let Err(e) = self.nodes()[node.0].with_nft(|nft| nft.apply(b)) {
                // Leave nothing half made.
                for (done, sets) in applied {
                    let _ = remove_rules(&self.nodes()[*done], &comment, sets);
                }
                self.faults.cancel(reserved);
                return Err(e);
            }
            applied.push(node);
        }
        let ev_comment = comment.clone();
        let ev_nodes: Vec<usize> = involved.iter().map(|(i, _)| *i).collect();
        let started = self.faults.commit(
            self,
            reserved,
            Box::new(move |net: &Net, _| {
                let dropped: u64 = ev_nodes
                    .iter()
                    .filter_map(|i| counted(&net.nodes()[*i], &ev_comment).ok())
                    .sum();
                format!("{dropped} packets dropped")
            }),
            Box::new(move |net: &Net| {
                let mut first = Ok(());
                for (i, sets) in &involved {
                    let r = remove_rules(&net.nodes()[*i], &comment, sets);
                    if first.is_ok() {
                        first = r;
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

/// A filter chain on `hook` that accepts what it does not drop, before the
/// usual filter chains (priority 0).
fn early_chain(hook: Hook) -> BaseChain {
    BaseChain {
        hook,
        priority: -10,
        kind: ChainKind::Filter,
        policy: Verdict::Accept,
    }
}

/// A transaction that starts with our table and input chain (made if
/// absent).
fn base_batch() -> Batch {
    let mut b = Batch::new();
    b.add_table(Family::Inet, TABLE);
    b.add_chain(Family::Inet, TABLE, INPUT, Some(early_chain(Hook::Input)));
    b
}

fn drop_rule(matches: Vec<Match>, comment: &str) -> Rule {
    Rule::counted(matches, Verdict::Drop, comment)
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

/// Deletes the rules with `comment` in `node` and then `sets`, or our
/// table when nothing else of ours is left in it.
fn remove_rules(node: &Node, comment: &str, sets: &[String]) -> Result<()> {
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
            for set in sets {
                b.delete_set(Family::Inet, TABLE, set);
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
