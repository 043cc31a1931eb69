//! A node's declaration as its live guards make it: the declared NATs and
//! firewall (the base), and over them, in the order they were made, the
//! changes whose guards are alive or were kept. What is in force is the
//! changes applied one after the other to the base; a guard that drops
//! takes its own change out wherever it is, so guards may drop in any
//! order and, once every one is gone, the base is in force again.

use super::{Firewall, Nat, RulesetConfig};

/// One change of a node's NATs or firewall, as a guard holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// These NATs replace the ones under the change.
    Nats(Vec<Nat>),
    /// This NAT comes after the ones under the change.
    AddNat(Nat),
    /// This firewall (or none) replaces the one under the change.
    Firewall(Option<Firewall>),
}

impl Change {
    /// Applies the change to `config`.
    fn apply(&self, config: &mut RulesetConfig) {
        match self {
            Change::Nats(nats) => config.nats = nats.clone(),
            Change::AddNat(nat) => config.nats.push(nat.clone()),
            Change::Firewall(fw) => config.firewall = fw.clone(),
        }
    }
}

/// A change over the base, and the guard that takes it out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layer {
    /// The guard's id; `None` once the change was kept.
    guard: Option<u64>,
    change: Change,
}

/// A node's declaration: the base and the changes over it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Layers {
    /// What is in force under every change: the topology's declaration,
    /// with the kept changes no live guard is under.
    base: RulesetConfig,
    /// The changes, first made first.
    layers: Vec<Layer>,
    /// The id of the next guard.
    next: u64,
}

impl Layers {
    /// `config`, with no change over it.
    pub(crate) fn declared(config: RulesetConfig) -> Layers {
        Layers {
            base: config,
            ..Layers::default()
        }
    }

    /// The declaration in force: every change applied to the base, in the
    /// order they were made.
    pub(crate) fn config(&self) -> RulesetConfig {
        self.config_of(&self.layers)
    }

    fn config_of(&self, layers: &[Layer]) -> RulesetConfig {
        let mut config = self.base.clone();
        for layer in layers {
            layer.change.apply(&mut config);
        }
        config
    }

    /// Puts `change` over the others; returns the id of its guard.
    pub(crate) fn push(&mut self, change: Change) -> u64 {
        let id = self.next;
        self.next += 1;
        self.layers.push(Layer {
            guard: Some(id),
            change,
        });
        id
    }

    /// Takes out the change of guard `id`, wherever it is (nothing when
    /// there is none). A NAT added over it that the NATs then in force
    /// under it do not admit (`admits` says which declarations are
    /// admitted) goes too, so that what is in force stays one that was
    /// checked.
    pub(crate) fn release(&mut self, id: u64, admits: impl Fn(&RulesetConfig) -> bool) {
        let Some(at) = self.layers.iter().position(|l| l.guard == Some(id)) else {
            return;
        };
        self.layers.remove(at);
        if !admits(&self.config()) {
            // The NATs in force are those of the last replacement and the
            // NATs added after it: of the ones added after the change that
            // went, each stays if what is in force up to it is admitted.
            let last_set = self
                .layers
                .iter()
                .rposition(|l| matches!(l.change, Change::Nats(_)));
            let mut i = at.max(last_set.map_or(0, |s| s + 1));
            while i < self.layers.len() {
                let added = matches!(self.layers[i].change, Change::AddNat(_));
                if added && !admits(&self.config_of(&self.layers[..=i])) {
                    self.layers.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        self.fold();
    }

    /// Keeps the change of guard `id`: it stays when its guard is gone.
    pub(crate) fn keep(&mut self, id: u64) {
        if let Some(layer) = self.layers.iter_mut().find(|l| l.guard == Some(id)) {
            layer.guard = None;
        }
        self.fold();
    }

    /// Makes the kept changes under every live one part of the base.
    fn fold(&mut self) {
        let kept = self.layers.iter().take_while(|l| l.guard.is_none()).count();
        for layer in self.layers.drain(..kept) {
            layer.change.apply(&mut self.base);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::{Filter, Proto};

    fn nat(addr: &str) -> Nat {
        Nat::snat("eth1", addr)
    }

    fn nats(layers: &Layers) -> Vec<Nat> {
        layers.config().nats
    }

    fn declared() -> Layers {
        Layers::declared(RulesetConfig {
            nats: vec![nat("203.0.113.1")],
            firewall: None,
        })
    }

    #[test]
    fn replacements_dropped_in_any_order_leave_the_base() {
        for order in [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ] {
            let mut l = declared();
            let ids = [
                l.push(Change::Nats(vec![nat("203.0.113.7")])),
                l.push(Change::Nats(vec![nat("203.0.113.8")])),
                l.push(Change::Nats(Vec::new())),
            ];
            for (n, i) in order.iter().enumerate() {
                l.release(ids[*i], |_| true);
                // The last live replacement is in force.
                let live = order[n + 1..].iter().max();
                let want = match live {
                    None => vec![nat("203.0.113.1")],
                    Some(0) => vec![nat("203.0.113.7")],
                    Some(1) => vec![nat("203.0.113.8")],
                    Some(_) => Vec::new(),
                };
                assert_eq!(nats(&l), want, "{order:?} after {n}");
            }
            assert_eq!(
                l,
                Layers {
                    next: 3,
                    ..declared()
                }
            );
        }
    }

    #[test]
    fn added_nats_come_after_the_ones_in_force_under_them() {
        let mut l = declared();
        let set = l.push(Change::Nats(vec![nat("203.0.113.7")]));
        let fw = l.push(Change::Firewall(Some(
            Firewall::new().forward(Filter::drop()),
        )));
        let pf = Nat::port_forward("eth1", Proto::Udp, 53, "198.51.100.1");
        let added = l.push(Change::AddNat(pf.clone()));
        assert_eq!(nats(&l), vec![nat("203.0.113.7"), pf.clone()]);
        l.release(set, |_| true);
        assert_eq!(nats(&l), vec![nat("203.0.113.1"), pf]);
        assert!(l.config().firewall.is_some());
        l.release(added, |_| true);
        l.release(fw, |_| true);
        assert_eq!(l.config(), declared().config());
    }

    #[test]
    fn a_kept_change_stays_and_shadows_the_live_ones_under_it() {
        let mut l = declared();
        let first = l.push(Change::Nats(vec![nat("203.0.113.7")]));
        let second = l.push(Change::Nats(vec![nat("203.0.113.8")]));
        l.keep(second);
        l.release(first, |_| true);
        assert_eq!(nats(&l), vec![nat("203.0.113.8")]);
        assert!(l.layers.is_empty(), "folded into the base: {l:?}");
    }

    #[test]
    fn an_added_nat_not_admitted_under_what_is_left_goes_with_the_release() {
        let mut l = declared();
        let set = l.push(Change::Nats(vec![nat("203.0.113.7")]));
        let v6 = Nat::snat("eth1", "2001:db8::1");
        let bad = Nat::masquerade("eth1");
        let ok = l.push(Change::AddNat(v6.clone()));
        let _gone = l.push(Change::AddNat(bad.clone()));
        // `bad` after the base's NAT is refused, `v6` is not.
        let admits = |c: &RulesetConfig| !c.nats.contains(&bad);
        l.release(set, admits);
        assert_eq!(nats(&l), vec![nat("203.0.113.1"), v6]);
        l.release(ok, |_| true);
        assert_eq!(l.config(), declared().config());
    }
}
