//! NAT and firewalls on routers, over nftables in process: what a topology
//! declares ([`Nat`], [`Firewall`], with
//! [`Topology::nat`](crate::Topology::nat) and
//! [`Topology::firewall`](crate::Topology::firewall)), changed on a live
//! node ([`Node::set_nat`], [`Node::set_firewall`], undone by their guard,
//! in any order: see [`RulesetChange`]),
//! and looked at: the node's ruleset with counters ([`Node::ruleset`], as
//! `nft list ruleset` prints it), its connection tracking entries and the
//! NAT mappings among them ([`Node::conntrack`], [`Node::nat_mappings`]),
//! forgotten at once by [`Node::flush_conntrack`] (a router reboot).
//!
//! Everything is one nftables table per node, `inet netns_test_firewall`,
//! written over NETLINK_NETFILTER in one transaction (no `nft`,
//! `iptables` or `conntrack` binary, no C library, rootless too), gone with
//! the node. The rules each NAT kind installs, and the RFC 4787 behaviour
//! of each preset, are listed in `docs/nat.md`.
//!
//! ```no_run
//! use std::time::Duration;
//! use netns_test::firewall::{Filter, Firewall, Nat, Proto};
//! use netns_test::{Net, Route, Topology};
//!
//! let net = Net::build(
//!     &Topology::new()
//!         .link(("h1", "eth0", "198.51.100.1/26"), ("r1", "eth0", "198.51.100.62/26"))
//!         .link(("r1", "eth1", "203.0.113.1/24"), ("srv", "eth0", "203.0.113.10/24"))
//!         .forwarding("r1")
//!         .route("h1", Route::default_via("198.51.100.62"))
//!         .nat("r1", Nat::masquerade("eth1")),
//! )?;
//! // The server sees the router's outside address.
//! net["h1"].udp_request("203.0.113.10:7", b"hi").run()?;
//! println!("{:?}", net["r1"].nat_mappings()?);
//! {
//!     // A stricter NAT for a while, and a filter: back as declared after.
//!     let _nat = net["r1"].set_nat(Nat::symmetric("eth1"))?;
//!     let _fw = net["r1"].set_firewall(Firewall::new().forward(Filter::reject().tcp().dport(25)))?;
//!     println!("{}", net["r1"].ruleset()?);
//! }
//! net["r1"].flush_conntrack()?;
//! # Ok::<(), netns_test::Error>(())
//! ```

use crate::error::Result;
use crate::fault::change_nats;
use crate::lab::Node;
use crate::ruleset::{Change, Layers, NodeRuleset, RulesetConfig};
use crate::topology::compile_netfilter;

pub use crate::inspect::{ConntrackEntry, NatMapping, NetfilterReport, Ruleset};
pub use crate::ruleset::{
    Chain, CtState, Filter, Filtering, Firewall, Mapping, Nat, Policy, Proto, Rate, Reject,
};

/// A change of a node's NATs or firewall, made by [`Node::set_nat`] and
/// friends, undone when it drops (also on a panic).
///
/// Guards may drop in any order: what is in force is what the live guards
/// say, and the node's declaration (the topology's, with the changes kept
/// by [`keep`](RulesetChange::keep)) once every guard is gone. Each
/// change applies, in the order they were made, to what is in force under
/// it: a [`set_nat`](Node::set_nat) or [`remove_nat`](Node::remove_nat)
/// replaces the NATs under it, an [`add_nat`](Node::add_nat) adds its NAT
/// after them, a [`set_firewall`](Node::set_firewall) or
/// [`remove_firewall`](Node::remove_firewall) replaces the firewall under
/// it; a guard that drops takes out its own change, wherever it is. With
/// `a = set_nat(A)` then `b = set_nat(B)`, B is in force; dropping `a`
/// first changes nothing, dropping `b` then brings back the declared NATs.
/// NAT and firewall changes do not touch each other's part.
///
/// Changes of one node from several threads at once apply one after the
/// other, each to what the one before left: none is lost.
#[derive(Debug)]
#[must_use = "the change is undone when the guard drops; call .keep() to keep it"]
pub struct RulesetChange<'a> {
    node: &'a Node,
    /// The id of the change among the node's; `None` once undone or kept.
    id: Option<u64>,
}

impl RulesetChange<'_> {
    /// Keeps the change after the guard is gone: it stays in force, over
    /// the declaration and the changes made before it, whose guards then
    /// no longer take it out.
    pub fn keep(mut self) {
        if let Some(id) = self.id.take() {
            // Nothing in force changes: only the node's record of it.
            let _ = change(self.node, |layers| layers.keep(id));
        }
    }

    /// Takes the change out now, reporting an error instead of ignoring
    /// it as `drop` does.
    pub fn restore(mut self) -> Result<()> {
        match self.id.take() {
            Some(id) => release(self.node, id),
            None => Ok(()),
        }
    }
}

impl Drop for RulesetChange<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let _ = release(self.node, id);
        }
    }
}

/// Takes change `id` out of `node`'s, with an added NAT that what is left
/// under it does not admit.
fn release(node: &Node, id: u64) -> Result<()> {
    let view = node.netfilter_view();
    change(node, |layers| {
        layers.release(id, |config| compile_netfilter(&view, config).is_ok())
    })
    .map(|_| ())
}

/// Changes `node`'s layers with `edit`, the declaration in force checked
/// like the topology's, and returns the layers it replaced. They are read,
/// edited and applied under the node's netfilter lock: changes of one node
/// from several threads each apply to what the one before left.
fn change(node: &Node, edit: impl FnOnce(&mut Layers)) -> Result<Layers> {
    // A NAT router sees the true inside addresses between its
    // translations: the active partitions get their forward rules in it.
    change_nats(
        node,
        || {
            node.update_netfilter(
                |now| {
                    let mut new = now.clone();
                    edit(&mut new);
                    Ok(new)
                },
                |config| compile(node, config),
            )
        },
        // Run while the partitions' registry is still held, which every
        // change of the node holds too: nothing came between.
        |old| {
            let back = compile(node, &old.config())?;
            node.apply_netfilter(old.clone(), &back)
        },
    )
}

/// `config` checked like the topology's and compiled for `node`.
fn compile(node: &Node, config: &RulesetConfig) -> Result<NodeRuleset> {
    Ok(compile_netfilter(&node.netfilter_view(), config)?)
}

/// Puts `made` over the node's changes, with a guard that takes it out.
fn guard(node: &Node, made: Change) -> Result<RulesetChange<'_>> {
    let mut id = None;
    change(node, |layers| id = Some(layers.push(made)))?;
    Ok(RulesetChange { node, id })
}

impl Node {
    /// Makes `nat` the node's only NAT, checked like the topology's (the
    /// node must forward), until the guard drops. Existing connections
    /// keep their mappings (see [`flush_conntrack`](Node::flush_conntrack)).
    ///
    /// Guards may drop in any order: the NATs in force are those of the
    /// last live `set_nat` or [`remove_nat`](Node::remove_nat) (the
    /// declared ones when there is none), followed by the NATs of the
    /// live [`add_nat`](Node::add_nat) guards made after it. Dropping an
    /// older guard while a newer one lives changes nothing in force; once
    /// every guard is gone the declared NATs are back (see
    /// [`RulesetChange`]).
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// use netns_test::firewall::Nat;
    /// # let net = Net::build(&Topology::new()
    /// #     .link(("r1", "eth1", "203.0.113.1/24"), ("srv", "eth0", "203.0.113.10/24"))
    /// #     .forwarding("r1"))?;
    /// {
    ///     let _nat = net["r1"].set_nat(Nat::symmetric("eth1"))?;
    ///     // ... traffic through r1 is translated
    /// }
    /// // r1's NATs are as declared again; a bad one is refused whole:
    /// assert!(net["r1"].set_nat(Nat::masquerade("wan0")).is_err());
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn set_nat(&self, nat: Nat) -> Result<RulesetChange<'_>> {
        guard(self, Change::Nats(vec![nat]))
    }

    /// Adds `nat` after the node's NATs, until the guard drops; the guard
    /// then takes out that NAT alone, in any order with the others.
    ///
    /// The NAT is added to whatever is in force under it: a later
    /// [`set_nat`](Node::set_nat) or [`remove_nat`](Node::remove_nat)
    /// replaces it with the rest while its guard lives, and it is back,
    /// after the NATs in force then, when that guard drops first. Should
    /// the NATs in force under it, once a guard under it drops, no longer
    /// admit it (a second source NAT out of one interface), it goes with
    /// that guard, and its own guard then changes nothing.
    pub fn add_nat(&self, nat: Nat) -> Result<RulesetChange<'_>> {
        guard(self, Change::AddNat(nat))
    }

    /// Removes every NAT of the node, until the guard drops; guards drop
    /// in any order, as [`set_nat`](Node::set_nat)'s do.
    pub fn remove_nat(&self) -> Result<RulesetChange<'_>> {
        guard(self, Change::Nats(Vec::new()))
    }

    /// Makes `firewall` the node's firewall, until the guard drops.
    ///
    /// Guards may drop in any order: the firewall in force is that of the
    /// last live `set_firewall` or
    /// [`remove_firewall`](Node::remove_firewall) guard, and the declared
    /// one once every guard is gone (see [`RulesetChange`]).
    pub fn set_firewall(&self, firewall: Firewall) -> Result<RulesetChange<'_>> {
        guard(self, Change::Firewall(Some(firewall)))
    }

    /// Removes the node's firewall, until the guard drops; guards drop in
    /// any order, as [`set_firewall`](Node::set_firewall)'s do.
    pub fn remove_firewall(&self) -> Result<RulesetChange<'_>> {
        guard(self, Change::Firewall(None))
    }

    /// The node's whole nftables ruleset, every table (the faults', a
    /// switch node's and the user's too), with counters; `Display` prints it as `nft list
    /// ruleset` does (set elements aside).
    pub fn ruleset(&self) -> Result<Ruleset> {
        self.with_nft(|nft| nft.list_ruleset())
    }

    /// The node's connection tracking entries (`conntrack -L`).
    pub fn conntrack(&self) -> Result<Vec<ConntrackEntry>> {
        self.with_nft(|nft| nft.conntrack_list())
    }

    /// The source NAT mappings in use: inside endpoint, outside endpoint,
    /// remote endpoint, from the connection tracking entries.
    pub fn nat_mappings(&self) -> Result<Vec<NatMapping>> {
        Ok(self
            .conntrack()?
            .iter()
            .filter_map(|e| e.mapping())
            .collect())
    }

    /// Forgets every connection the node tracks, NAT mappings included, as
    /// a reboot of the router would: the next packet of each connection is
    /// new to it (and filtered, or mapped afresh, as such).
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().node("r1"))?;
    /// net["r1"].flush_conntrack()?;
    /// assert!(net["r1"].nat_mappings()?.is_empty());
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn flush_conntrack(&self) -> Result<()> {
        self.with_nft(|nft| nft.conntrack_flush())
    }

    /// The ruleset and connection tracking entries together, as a failed
    /// assertion prints them.
    pub fn netfilter_report(&self) -> Result<NetfilterReport> {
        Ok(NetfilterReport::new(
            self.name(),
            self.ruleset()?,
            self.conntrack()?,
        ))
    }
}
