//! The nftables side of partitions: the rules and sets a partition makes in
//! a node, how they are counted and removed, and the network's registry of
//! active partitions, through which a router that gets a NAT while
//! partitions are active gets their forward rules too.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::lab::attach::Attachment;
use crate::lab::{Net, Node};
use crate::ruleset::{BaseChain, ChainKind, Field, Hook, Match, Rule, SetDef, Verdict};
use crate::sys::netlink::nft::{Batch, Family};
use crate::vocab::Family as Ip;

/// The table the faults' rules live in, in every node that has some.
pub(crate) const TABLE: &str = "netns_test";
/// Its chain for what a node receives.
pub(super) const INPUT: &str = "fault_input";
/// Its chain for what a NAT router forwards.
const FORWARD: &str = "fault_forward";

/// What one node gets for a partition: one transaction, and the names of
/// the sets it makes there.
#[derive(Default)]
pub(super) struct NodeChange {
    pub(super) batch: Option<Batch>,
    pub(super) sets: Vec<String>,
    /// Whether the batch adds the forward chain.
    pub(super) forward: bool,
}

impl NodeChange {
    pub(super) fn batch(&mut self) -> &mut Batch {
        self.batch.get_or_insert_with(base_batch)
    }

    /// Makes set `name` of `family` addresses holding `addrs`, once.
    pub(super) fn set(&mut self, name: String, family: Ip, addrs: &[IpAddr]) -> String {
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

    /// Adds the drop rule of `sets` to the forward chain, with its two
    /// sets (made if this change does not have them yet).
    pub(super) fn forward_drop(&mut self, sets: &ForwardSets, comment: &str) {
        let matches = vec![
            Match::InSet {
                keys: vec![Field::Saddr(sets.family)],
                set: self.set(sets.src.clone(), sets.family, &sets.from),
            },
            Match::InSet {
                keys: vec![Field::Daddr(sets.family)],
                set: self.set(sets.dst.clone(), sets.family, &sets.to),
            },
        ];
        self.forward_rule(&drop_rule(matches, comment));
    }
}

/// What a NAT router drops for one way of a partition in one family: what
/// goes from the addresses of set `src` (`from`) to those of set `dst`
/// (`to`).
#[derive(Debug, Clone)]
pub(super) struct ForwardSets {
    pub(super) family: Ip,
    pub(super) src: String,
    pub(super) from: Vec<IpAddr>,
    pub(super) dst: String,
    pub(super) to: Vec<IpAddr>,
}

/// What a partition made in one node: its sets there, and whether it has
/// forward rules there.
#[derive(Debug, Clone)]
pub(super) struct Made {
    pub(super) node: String,
    pub(super) sets: Vec<String>,
    pub(super) forward: bool,
}

/// The nodes a partition made rules in, shared by its heal, its evidence
/// and the registry, which adds the routers that get a NAT meanwhile.
pub(super) type Involved = Arc<Mutex<Vec<Made>>>;

/// An active partition, as the registry keeps it.
struct Active {
    id: u64,
    comment: String,
    forward: Vec<ForwardSets>,
    involved: Involved,
}

/// The active partitions of one network, attached to it so that a node's
/// NAT change finds them. Its lock is held while a partition is applied
/// and while a node's NATs change, so that a router getting a NAT and a
/// partition starting never miss each other.
#[derive(Default)]
pub(crate) struct Partitions {
    active: Mutex<Vec<Active>>,
}

impl Attachment for Partitions {
    fn tear_down(&self) {}
}

impl Partitions {
    /// The registry of `net`'s partitions; `None` once it was torn down.
    pub(super) fn of(net: &Net) -> Result<Option<Arc<Partitions>>> {
        net.attachments.get_or_insert(|| Ok(Partitions::default()))
    }

    /// The registry held still: no partition starts, heals or grows.
    pub(super) fn lock(&self) -> Held<'_> {
        Held(self.active.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Forgets partition `id` (it heals): no router is added to it after.
    pub(super) fn forget(&self, id: u64) {
        self.lock().0.retain(|a| a.id != id);
    }
}

/// The registry, locked.
pub(super) struct Held<'a>(MutexGuard<'a, Vec<Active>>);

impl Held<'_> {
    /// Records partition `id`, with its rules' `comment`, what a NAT router
    /// drops for it and the nodes it made rules in.
    pub(super) fn add(
        &mut self,
        id: u64,
        comment: String,
        forward: Vec<ForwardSets>,
        involved: Involved,
    ) {
        self.0.push(Active {
            id,
            comment,
            forward,
            involved,
        });
    }
}

/// Changes `node`'s NATs with `install`, then gives each active partition
/// of its network that has no forward rules in `node` those rules there,
/// in one transaction, when `node` has a NAT after the change. If that
/// transaction fails, `undo`, given what `install` returned, puts the NATs
/// back and its error is returned.
pub(crate) fn change_nats<T>(
    node: &Node,
    install: impl FnOnce() -> Result<T>,
    undo: impl FnOnce(&T) -> Result<()>,
) -> Result<T> {
    let Some(registry) = node
        .attachments()
        .get_or_insert(|| Ok(Partitions::default()))?
    else {
        // Torn down: no partition is active, and `install` refuses.
        return install();
    };
    let held = registry.lock();
    let installed = install()?;
    if held.0.is_empty() || node.netfilter_config().nats.is_empty() {
        return Ok(installed);
    }
    if let Err(e) = cover(node, &held.0) {
        // Leave nothing half made.
        let _ = undo(&installed);
        return Err(e);
    }
    Ok(installed)
}

/// Adds, in one transaction, the forward rules of each partition of
/// `active` that has none in `node` yet, and records them.
fn cover(node: &Node, active: &[Active]) -> Result<()> {
    let name = node.name();
    let mut change = NodeChange::default();
    let mut grown: Vec<(&Active, Vec<String>)> = Vec::new();
    for a in active {
        if a.forward.is_empty() {
            continue;
        }
        let mine = a
            .involved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|m| m.node == name)
            .cloned();
        if mine.as_ref().is_some_and(|m| m.forward) {
            continue;
        }
        // This partition's sets in the node, so that none is made twice.
        let before = std::mem::replace(&mut change.sets, mine.map(|m| m.sets).unwrap_or_default());
        for sets in &a.forward {
            change.forward_drop(sets, &a.comment);
        }
        let sets = std::mem::replace(&mut change.sets, before);
        grown.push((a, sets));
    }
    let Some(batch) = &change.batch else {
        return Ok(());
    };
    node.with_nft(|nft| nft.apply(batch))?;
    for (a, sets) in grown {
        let mut involved = a.involved.lock().unwrap_or_else(|p| p.into_inner());
        match involved.iter_mut().find(|m| m.node == name) {
            Some(m) => {
                m.sets = sets;
                m.forward = true;
            }
            None => involved.push(Made {
                node: name.to_string(),
                sets,
                forward: true,
            }),
        }
    }
    Ok(())
}

/// The nodes of `involved` now.
pub(super) fn snapshot(involved: &Involved) -> Vec<Made> {
    involved.lock().unwrap_or_else(|p| p.into_inner()).clone()
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

pub(super) fn drop_rule(matches: Vec<Match>, comment: &str) -> Rule {
    Rule::counted(matches, Verdict::Drop, comment)
}

/// Packets dropped so far by the rules with `comment` in `node`.
pub(super) fn counted(node: &Node, comment: &str) -> Result<u64> {
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
pub(super) fn remove_rules(node: &Node, comment: &str, sets: &[String]) -> Result<()> {
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
