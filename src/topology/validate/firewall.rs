//! NAT and firewalls: each node's declarations checked against its
//! interfaces and turned into the rules of its firewall table (`nat.rs`
//! for the NATs, `filter_rules.rs` for the firewall's rules). Used by
//! validation and by changes on a live node. What each NAT kind installs
//! is listed in `docs/nat.md`; a unit test keeps that list true.

use std::net::IpAddr;

use ipnet::IpNet;

use super::filter_rules::filter_rule;
use super::nat::{forward_nat, source_nat, timeout_sysctls, Out};
use super::nat_presets::behaviour;
use super::{Builder, TopologyError};
use crate::ruleset::{
    BaseChain, Chain, ChainKind, Hook, NatSpec, NodeRuleset, Policy, RulesetConfig, Verdict,
};
use crate::vocab::Family;

/// The chains of the firewall table, in the order they are made.
const NAT_PRE: &str = "nat_prerouting";
const NAT_POST: &str = "nat_postrouting";
const NAT_TRACK: &str = "nat_track";

/// One interface of a node as the checks see it.
pub(crate) struct IfaceView<'a> {
    pub(crate) name: &'a str,
    pub(crate) addrs: &'a [IpNet],
}

/// Node facts the checks need.
pub(crate) struct NodeView<'a> {
    pub(crate) name: &'a str,
    pub(crate) ifaces: Vec<IfaceView<'a>>,
    /// Whether the node forwards; `None` when unknown (no check).
    pub(crate) forwarding: Option<bool>,
    /// Whether the node is a segment's switch (its bridge forwards frames
    /// that no `inet` table sees).
    pub(crate) switch: bool,
}

impl NodeView<'_> {
    pub(super) fn iface(
        &self,
        name: &str,
        used_by: impl FnOnce() -> String,
    ) -> Result<&IfaceView<'_>, TopologyError> {
        self.ifaces
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| TopologyError::UnknownInterface {
                node: self.name.to_string(),
                ifname: name.to_string(),
                used_by: used_by(),
            })
    }

    /// The first address of `family` on `ifname`.
    pub(super) fn addr_on(
        &self,
        ifname: &str,
        family: Family,
        used_by: &str,
    ) -> Result<IpAddr, TopologyError> {
        self.iface(ifname, || used_by.to_string())?
            .addrs
            .iter()
            .map(IpNet::addr)
            .find(|a| family.holds(*a))
            .ok_or_else(|| TopologyError::NoAddressForNat {
                node: self.name.to_string(),
                ifname: ifname.to_string(),
                family,
                used_by: used_by.to_string(),
            })
    }

    /// The other interfaces' networks of `family`: (interface, network).
    pub(super) fn inside(&self, outside: &str, family: Family) -> Vec<(String, IpNet)> {
        self.ifaces
            .iter()
            .filter(|i| i.name != outside)
            .flat_map(|i| {
                i.addrs
                    .iter()
                    .filter(move |a| family.holds(a.addr()))
                    .map(move |a| (i.name.to_string(), a.trunc()))
            })
            .collect()
    }
}

/// Checks `config` against `node` and turns it into its firewall table.
pub(crate) fn compile(
    node: &NodeView<'_>,
    config: &RulesetConfig,
) -> Result<NodeRuleset, TopologyError> {
    let mut out = Out::default();
    if node.switch && !config.is_empty() {
        return Err(TopologyError::NetfilterOnSwitch {
            node: node.name.to_string(),
        });
    }
    if !config.nats.is_empty() && node.forwarding == Some(false) {
        return Err(TopologyError::NatWithoutForwarding {
            node: node.name.to_string(),
        });
    }
    let mut preset_inbound = Vec::new();
    for nat in &config.nats {
        match &nat.spec {
            NatSpec::Source { oif, to } => source_nat(&mut out, node, nat, oif, to)?,
            NatSpec::Forward {
                iif,
                proto,
                port,
                to,
            } => forward_nat(&mut out, node, nat, iif, *proto, *port, to)?,
            NatSpec::Behaviour {
                oif,
                mapping,
                filtering,
            } => {
                let start = out.pre.len();
                behaviour(&mut out, node, nat, oif, *mapping, *filtering)?;
                preset_inbound = out.pre.split_off(start);
            }
        }
        timeout_sysctls(node.name, nat, &mut out)?;
    }
    // A preset's inbound rules go last: port forwards and `Nat::dnat`
    // declared with it take their ports first, whatever the preset's sets
    // say (its drop of mapped ports would otherwise shut a forward out).
    out.pre.extend(preset_inbound);
    let mut rs = NodeRuleset {
        sets: out.sets,
        sysctls: out.sysctls,
        ..NodeRuleset::default()
    };
    let base = |hook, priority, kind, policy| BaseChain {
        hook,
        priority,
        kind,
        policy,
    };
    if !config.nats.is_empty() {
        let accept = Verdict::Accept;
        rs.chains.push((
            NAT_PRE.into(),
            base(Hook::Prerouting, -100, ChainKind::Nat, accept),
        ));
        rs.chains.push((
            NAT_POST.into(),
            base(Hook::Postrouting, 100, ChainKind::Nat, accept),
        ));
        rs.rules
            .extend(out.pre.into_iter().map(|r| (NAT_PRE.to_string(), r)));
        let post = out.post.into_iter().chain(out.hairpin);
        rs.rules.extend(post.map(|r| (NAT_POST.to_string(), r)));
        if !out.track.is_empty() {
            // After source NAT (100): the packet carries its outside port.
            rs.chains.push((
                NAT_TRACK.into(),
                base(Hook::Postrouting, 101, ChainKind::Filter, accept),
            ));
            rs.rules
                .extend(out.track.into_iter().map(|r| (NAT_TRACK.to_string(), r)));
        }
    }
    if let Some(fw) = &config.firewall {
        for (chain, hook) in [
            (Chain::Input, Hook::Input),
            (Chain::Forward, Hook::Forward),
            (Chain::Output, Hook::Output),
        ] {
            let policy = match fw.policy_of(chain) {
                Policy::Accept => Verdict::Accept,
                Policy::Drop => Verdict::Drop,
            };
            rs.chains.push((
                chain.name().into(),
                base(hook, 0, ChainKind::Filter, policy),
            ));
        }
        for (i, (chain, f)) in fw.rules.iter().enumerate() {
            let rule = filter_rule(node, *chain, i + 1, &f.spec)?;
            rs.rules.push((chain.name().to_string(), rule));
        }
    }
    Ok(rs)
}

impl Builder<'_> {
    /// NATs and firewalls of the topology, per node.
    pub(super) fn netfilter(&mut self) -> Result<(), TopologyError> {
        let topo = self.topo;
        for (node, nat) in &topo.nats {
            let ni = self.node_index(node, || format!("NAT `{}`", nat.describe()))?;
            self.plan.nodes[ni].netfilter.nats.push(nat.clone());
        }
        for (node, fw) in &topo.firewalls {
            let ni = self.node_index(node, || "a firewall".into())?;
            let slot = &mut self.plan.nodes[ni].netfilter.firewall;
            if slot.is_some() {
                return Err(TopologyError::DuplicateFirewall { node: node.clone() });
            }
            *slot = Some(fw.clone());
        }
        for n in &mut self.plan.nodes {
            if n.netfilter.is_empty() {
                continue;
            }
            let view = NodeView {
                name: &n.name,
                ifaces: n
                    .ifaces
                    .iter()
                    .map(|i| IfaceView {
                        name: &i.name,
                        addrs: &i.addrs,
                    })
                    .collect(),
                forwarding: Some(topo.forwarding.contains(&n.name)),
                switch: n.bridge.is_some(),
            };
            n.ruleset = compile(&view, &n.netfilter)?;
            // The NAT writes its sysctls after the build: the topology's
            // own value of one would be overwritten without a word. (A NAT
            // set on a live router overrides it on purpose, and its guard
            // writes it back.)
            let clash = n
                .ruleset
                .sysctls
                .iter()
                .find_map(|(path, _)| n.sysctls.iter().any(|(p, _)| p == path).then_some(path));
            if let Some(path) = clash {
                let nat = n.netfilter.nats.iter().find(|x| x.timeout.is_some());
                return Err(TopologyError::InvalidNat {
                    node: n.name.clone(),
                    nat: nat.map(|x| x.describe()).unwrap_or_default(),
                    reason: format!(
                        "its mapping timeout sets `{}`, which a sysctl of the topology sets too",
                        path.replace('/', ".")
                    ),
                });
            }
        }
        Ok(())
    }
}
