//! NAT and firewalls on routers, over nftables in process: what a topology
//! declares ([`Nat`], [`Firewall`], with
//! [`Topology::nat`](crate::Topology::nat) and
//! [`Topology::firewall`](crate::Topology::firewall)), changed on a live
//! node ([`Node::set_nat`], [`Node::set_firewall`], undone by their guard),
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
use crate::ruleset::RulesetConfig;
use crate::topology::compile_netfilter;

pub use crate::inspect::{ConntrackEntry, NatMapping, NetfilterReport, Ruleset};
pub use crate::ruleset::{
    Chain, CtState, Filter, Filtering, Firewall, Mapping, Nat, Policy, Proto, Rate, Reject,
};

/// What a guard puts back: a part of a node's declaration it replaced, or
/// the one NAT it added, to take out again.
#[derive(Debug, Clone)]
enum Part {
    Nats(Vec<Nat>),
    Firewall(Option<Firewall>),
    Added(Nat),
}

/// A change of a node's NATs or firewall, made by [`Node::set_nat`] and
/// friends; dropping it puts back what it replaced (also on a panic), the
/// NATs or the firewall only, so guards of both kinds may drop in any order.
/// An [`add_nat`](Node::add_nat) guard takes out only the NAT it added, so
/// several of them may drop in any order too. Changes of one node from
/// several threads at once apply one after the other, each to what the
/// one before left: none is lost.
#[derive(Debug)]
#[must_use = "the change is undone when the guard drops; call .keep() to keep it"]
pub struct RulesetChange<'a> {
    node: &'a Node,
    previous: Option<Part>,
}

impl RulesetChange<'_> {
    /// Keeps the change after the guard is gone.
    pub fn keep(mut self) {
        self.previous = None;
    }

    /// Puts back what the change replaced now, reporting an error instead
    /// of ignoring it as `drop` does.
    pub fn restore(mut self) -> Result<()> {
        match self.previous.take() {
            Some(part) => change(self.node, |config| part.put(config)).map(|_| ()),
            None => Ok(()),
        }
    }
}

impl Drop for RulesetChange<'_> {
    fn drop(&mut self) {
        if let Some(part) = self.previous.take() {
            let _ = change(self.node, |config| part.put(config));
        }
    }
}

impl Part {
    /// Puts this part into `config`: the NATs or the firewall it holds,
    /// or, for an added NAT, takes that NAT out again.
    fn put(self, config: &mut RulesetConfig) {
        match self {
            Part::Nats(nats) => config.nats = nats,
            Part::Firewall(fw) => config.firewall = fw,
            Part::Added(nat) => {
                // The last one equal to it: a later guard's copy goes first.
                if let Some(i) = config.nats.iter().rposition(|n| *n == nat) {
                    config.nats.remove(i);
                }
            }
        }
    }
}

/// Changes `node`'s declaration with `edit`, checked like the topology's,
/// and returns the declaration it replaced. The declaration is read,
/// edited and applied under the node's netfilter lock: changes of one node
/// from several threads each apply to what the one before left.
fn change(node: &Node, edit: impl FnOnce(&mut RulesetConfig)) -> Result<RulesetConfig> {
    // A NAT router sees the true inside addresses between its
    // translations: the active partitions get their forward rules in it.
    change_nats(
        node,
        || {
            node.update_netfilter(|now| {
                let mut new = now.clone();
                edit(&mut new);
                let ruleset = compile_netfilter(&node.netfilter_view(), &new)?;
                Ok((new, ruleset))
            })
        },
        // Run while the partitions' registry is still held, which every
        // change of the node holds too: nothing came between.
        |old| {
            let back = compile_netfilter(&node.netfilter_view(), old)?;
            node.apply_netfilter(old.clone(), &back)
        },
    )
}

/// Makes `part` the node's, with a guard that puts back what it replaced.
fn guard(node: &Node, part: Part) -> Result<RulesetChange<'_>> {
    let nats = matches!(part, Part::Nats(_));
    let old = change(node, |config| part.put(config))?;
    let previous = if nats {
        Part::Nats(old.nats)
    } else {
        Part::Firewall(old.firewall)
    };
    Ok(RulesetChange {
        node,
        previous: Some(previous),
    })
}

impl Node {
    /// Makes `nat` the node's only NAT, checked like the topology's (the
    /// node must forward), until the guard drops. Existing connections
    /// keep their mappings (see [`flush_conntrack`](Node::flush_conntrack)).
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
        guard(self, Part::Nats(vec![nat]))
    }

    /// Adds `nat` after the node's NATs, until the guard drops; the guard
    /// then takes out that NAT alone, whatever changed meanwhile.
    pub fn add_nat(&self, nat: Nat) -> Result<RulesetChange<'_>> {
        change(self, |config| config.nats.push(nat.clone()))?;
        Ok(RulesetChange {
            node: self,
            previous: Some(Part::Added(nat)),
        })
    }

    /// Removes every NAT of the node, until the guard drops.
    pub fn remove_nat(&self) -> Result<RulesetChange<'_>> {
        guard(self, Part::Nats(Vec::new()))
    }

    /// Makes `firewall` the node's firewall, until the guard drops.
    pub fn set_firewall(&self, firewall: Firewall) -> Result<RulesetChange<'_>> {
        guard(self, Part::Firewall(Some(firewall)))
    }

    /// Removes the node's firewall, until the guard drops.
    pub fn remove_firewall(&self) -> Result<RulesetChange<'_>> {
        guard(self, Part::Firewall(None))
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
