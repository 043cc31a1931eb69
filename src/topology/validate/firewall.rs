//! NAT and firewalls: each node's declarations checked against its
//! interfaces and turned into the rules of its firewall table. Used by
//! validation and by changes on a live node. What each NAT kind installs
//! is listed in `docs/nat.md`; a unit test keeps that list true.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use super::addresses::parse_cidr;
use super::{Builder, TopologyError};
use crate::ruleset::{
    BaseChain, Chain, ChainKind, DataType, Field, FilterAction, Filtering, Hook, Limit, Mapping,
    Match, Nat, NatFlags, NatKind, NatSpec, NatStmt, NatTo, NodeRuleset, Policy, PortRange, Reject,
    Rule, RulesetConfig, SetDef, SourceTo, Stmt, Verdict,
};
use crate::vocab::Family;

/// `IPS_SRC_NAT`.
const IPS_SRC_NAT: u32 = 1 << 4;
/// `IPS_DST_NAT`.
const IPS_DST_NAT: u32 = 1 << 5;
/// How long a tracking set keeps a mapping without a timeout of the user's.
const DEFAULT_SET_TIMEOUT: Duration = Duration::from_secs(120);
/// The size of the tracking sets.
const SET_SIZE: u32 = 65535;

/// The chains of the firewall table, in the order they are made.
const NAT_PRE: &str = "nat_prerouting";
const NAT_POST: &str = "nat_postrouting";
const NAT_TRACK: &str = "nat_track";
/// The tracking sets of the RFC 4787 presets.
const FULLCONE: &str = "nat_fullcone";
const MAPPED: &str = "nat_mapped";
const CONTACTED: &str = "nat_contacted";

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
}

impl NodeView<'_> {
    fn iface(
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
    fn addr_on(
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
    fn inside(&self, outside: &str, family: Family) -> Vec<(String, IpNet)> {
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

/// The rules being gathered, chain by chain.
#[derive(Default)]
struct Out {
    pre: Vec<Rule>,
    post: Vec<Rule>,
    track: Vec<Rule>,
    hairpin: Vec<Rule>,
    sets: Vec<SetDef>,
    sysctls: Vec<(String, String)>,
    /// Whether an RFC 4787 preset was seen (one per node: they share sets).
    preset: bool,
}

impl Out {
    fn set(&mut self, name: &str, key: Vec<DataType>, data: Vec<DataType>, timeout: Duration) {
        if self.sets.iter().any(|s| s.name == name) {
            return;
        }
        self.sets.push(SetDef {
            name: name.into(),
            key,
            data,
            dynamic: true,
            timeout: Some(timeout),
            size: Some(SET_SIZE),
        });
    }

    fn hairpin_rule(&mut self, rule: Rule) {
        if !self.hairpin.contains(&rule) {
            self.hairpin.push(rule);
        }
    }
}

fn udp() -> Match {
    Match::L4Proto(17)
}

fn snat_to(addr: IpAddr, flags: NatFlags) -> Stmt {
    Stmt::Nat(NatStmt {
        kind: NatKind::Snat,
        family: Family::of(addr),
        to: NatTo::Addr {
            min: addr,
            max: None,
            ports: None,
        },
        flags,
    })
}

fn map_dnat() -> Stmt {
    Stmt::Nat(NatStmt {
        kind: NatKind::Dnat,
        family: Family::V4,
        to: NatTo::Map {
            key: vec![Field::Dport],
            map: FULLCONE.into(),
        },
        flags: NatFlags::default(),
    })
}

fn invalid(node: &str, nat: &Nat, reason: impl Into<String>) -> TopologyError {
    TopologyError::InvalidNat {
        node: node.to_string(),
        nat: nat.describe(),
        reason: reason.into(),
    }
}

/// Hairpinning through outside address `w`: inside hosts on the other
/// interfaces that send to `w` get the inbound translation `dnat` too, and
/// are translated to `w` on their way back in (so the peer answers `w`).
fn hairpin(
    out: &mut Out,
    node: &NodeView<'_>,
    oif: &str,
    w: IpAddr,
    inbound: &[Match],
    dnat: &Stmt,
) {
    for (lan, net) in node.inside(oif, Family::of(w)) {
        let mut matches = vec![Match::Iifname(lan.clone()), Match::Daddr(IpNet::from(w))];
        matches.extend_from_slice(inbound);
        let rule = Rule::new(matches, vec![dnat.clone()]);
        if !out.pre.contains(&rule) {
            out.pre.push(rule);
        }
        out.hairpin_rule(Rule::new(
            vec![
                Match::Oifname(lan),
                Match::Saddr(net),
                Match::CtStatus(IPS_DST_NAT),
            ],
            vec![snat_to(w, NatFlags::default())],
        ));
    }
}

fn source_nat(
    out: &mut Out,
    node: &NodeView<'_>,
    nat: &Nat,
    oif: &str,
    to: &SourceTo,
) -> Result<(), TopologyError> {
    node.iface(oif, || format!("NAT `{}`", nat.describe()))?;
    if nat.hairpin {
        return Err(invalid(
            node.name,
            nat,
            "hairpinning needs a preset or a port forward",
        ));
    }
    let ports = match nat.ports {
        Some((lo, hi)) if lo == 0 || lo > hi => {
            return Err(invalid(node.name, nat, format!("bad port range {lo}-{hi}")))
        }
        p => p.map(|(lo, hi)| PortRange { lo, hi }),
    };
    let parse = |text: &str| {
        text.parse::<IpAddr>()
            .map_err(|_| invalid(node.name, nat, format!("`{text}` is not an IP address")))
    };
    let stmt = |ports: Option<PortRange>| -> Result<Stmt, TopologyError> {
        Ok(match to {
            SourceTo::Masquerade => Stmt::Masquerade {
                ports,
                flags: nat.flags,
            },
            SourceTo::Addr(a) => {
                let min = parse(a)?;
                Stmt::Nat(NatStmt {
                    kind: NatKind::Snat,
                    family: Family::of(min),
                    to: NatTo::Addr {
                        min,
                        max: None,
                        ports,
                    },
                    flags: nat.flags,
                })
            }
            SourceTo::Range(a, b) => {
                let (min, max) = (parse(a)?, parse(b)?);
                if Family::of(min) != Family::of(max) {
                    return Err(invalid(node.name, nat, "the range mixes IPv4 and IPv6"));
                }
                Stmt::Nat(NatStmt {
                    kind: NatKind::Snat,
                    family: Family::of(min),
                    to: NatTo::Addr {
                        min,
                        max: Some(max),
                        ports,
                    },
                    flags: nat.flags,
                })
            }
        })
    };
    if nat.flags.persistent && !matches!(to, SourceTo::Range(..)) {
        return Err(invalid(
            node.name,
            nat,
            "`persistent` is for a range of addresses",
        ));
    }
    // Ports exist for TCP and UDP: one rule each with them, then one
    // without for the other protocols (`nft` refuses ports without a
    // protocol).
    if ports.is_some() {
        for proto in [6, 17] {
            out.post.push(Rule::new(
                vec![Match::Oifname(oif.into()), Match::L4Proto(proto)],
                vec![stmt(ports)?],
            ));
        }
    }
    out.post.push(Rule::new(
        vec![Match::Oifname(oif.into())],
        vec![stmt(None)?],
    ));
    Ok(())
}

fn forward_nat(
    out: &mut Out,
    node: &NodeView<'_>,
    nat: &Nat,
    iif: &str,
    proto: Option<crate::ruleset::Proto>,
    port: Option<u16>,
    to: &str,
) -> Result<(), TopologyError> {
    let what = || format!("NAT `{}`", nat.describe());
    node.iface(iif, what)?;
    if nat.ports.is_some() || nat.flags != NatFlags::default() {
        return Err(invalid(
            node.name,
            nat,
            "ports and port flags are for source NAT",
        ));
    }
    let (addr, to_port) = match (to.parse::<SocketAddr>(), to.parse::<IpAddr>()) {
        (Ok(sa), _) => (sa.ip(), Some(sa.port())),
        (_, Ok(ip)) => (ip, None),
        _ => {
            return Err(invalid(
                node.name,
                nat,
                format!("`{to}` is neither an address nor an address:port"),
            ))
        }
    };
    if to_port.is_some() && port.is_none() {
        return Err(invalid(
            node.name,
            nat,
            "a port to map to needs a port to forward",
        ));
    }
    if proto.is_some_and(|p| !p.has_ports()) && port.is_some() {
        return Err(invalid(node.name, nat, "ports are for TCP and UDP"));
    }
    let mut inbound = Vec::new();
    if let Some(p) = proto {
        inbound.push(Match::L4Proto(p.number()));
    }
    if let Some(p) = port {
        inbound.push(Match::Dport(PortRange::one(p)));
    }
    let dnat = Stmt::Nat(NatStmt {
        kind: NatKind::Dnat,
        family: Family::of(addr),
        to: NatTo::Addr {
            min: addr,
            max: None,
            ports: to_port.map(PortRange::one),
        },
        flags: NatFlags::default(),
    });
    let mut matches = vec![Match::Iifname(iif.into())];
    matches.extend(inbound.iter().cloned());
    out.pre.push(Rule::new(matches, vec![dnat.clone()]));
    if nat.hairpin {
        let w = node.addr_on(
            iif,
            Family::of(addr),
            &format!("hairpinning of `{}`", nat.describe()),
        )?;
        hairpin(out, node, iif, w, &inbound, &dnat);
    }
    Ok(())
}

fn behaviour(
    out: &mut Out,
    node: &NodeView<'_>,
    nat: &Nat,
    oif: &str,
    mapping: Mapping,
    filtering: Filtering,
) -> Result<(), TopologyError> {
    if nat.ports.is_some() || nat.flags != NatFlags::default() {
        return Err(invalid(node.name, nat, "a preset chooses its own ports"));
    }
    if out.preset {
        return Err(invalid(node.name, nat, "one RFC 4787 preset per node"));
    }
    out.preset = true;
    let w = node.addr_on(oif, Family::V4, &format!("NAT `{}`", nat.describe()))?;
    let timeout = nat.timeout.unwrap_or(DEFAULT_SET_TIMEOUT);
    let eim = match (mapping, filtering) {
        (Mapping::EndpointIndependent, _) => true,
        (Mapping::AddressAndPortDependent, Filtering::AddressAndPortDependent) => false,
        (Mapping::AddressAndPortDependent, _) => {
            return Err(invalid(
                node.name,
                nat,
                "address-and-port-dependent mapping comes with address-and-port-dependent \
                 filtering only",
            ))
        }
    };
    if !eim && nat.hairpin {
        return Err(invalid(
            node.name,
            nat,
            "hairpinning needs endpoint-independent mapping",
        ));
    }
    let flags = NatFlags {
        random: !eim,
        ..NatFlags::default()
    };
    out.post.push(Rule::new(
        vec![Match::Oifname(oif.into())],
        vec![snat_to(w, flags)],
    ));
    if !eim {
        return Ok(());
    }
    let outbound = || {
        vec![
            Match::Oifname(oif.into()),
            udp(),
            Match::CtStatus(IPS_SRC_NAT),
        ]
    };
    let inbound = || vec![Match::Iifname(oif.into()), udp()];
    let needs_map = filtering != Filtering::AddressAndPortDependent || nat.hairpin;
    if needs_map {
        let data = vec![DataType::Ipv4Addr, DataType::InetService];
        out.set(FULLCONE, vec![DataType::InetService], data, timeout);
        out.track.push(Rule::new(
            outbound(),
            vec![Stmt::Update {
                set: FULLCONE.into(),
                key: vec![Field::Sport],
                data: vec![
                    Field::CtOriginalSaddr(Family::V4),
                    Field::CtOriginalProtoSrc,
                ],
            }],
        ));
    }
    if filtering == Filtering::AddressDependent {
        let key = vec![DataType::InetService, DataType::Ipv4Addr];
        out.set(CONTACTED, key, Vec::new(), timeout);
        out.track.push(Rule::new(
            outbound(),
            vec![Stmt::Update {
                set: CONTACTED.into(),
                key: vec![Field::Sport, Field::Daddr(Family::V4)],
                data: Vec::new(),
            }],
        ));
        let mut m = inbound();
        m.push(Match::InSet {
            keys: vec![Field::Dport, Field::Saddr(Family::V4)],
            set: CONTACTED.into(),
        });
        out.pre.push(Rule::new(m, vec![map_dnat()]));
    }
    if filtering != Filtering::EndpointIndependent {
        out.set(MAPPED, vec![DataType::InetService], Vec::new(), timeout);
        out.track.push(Rule::new(
            outbound(),
            vec![Stmt::Update {
                set: MAPPED.into(),
                key: vec![Field::Sport],
                data: Vec::new(),
            }],
        ));
        let mut m = inbound();
        m.push(Match::InSet {
            keys: vec![Field::Dport],
            set: MAPPED.into(),
        });
        out.pre
            .push(Rule::new(m, vec![Stmt::Verdict(Verdict::Drop)]));
    } else {
        out.pre.push(Rule::new(inbound(), vec![map_dnat()]));
    }
    if nat.hairpin {
        hairpin(out, node, oif, w, &[udp()], &map_dnat());
    }
    Ok(())
}

/// The conntrack UDP timeouts of a mapping timeout: whole seconds, at least one.
fn timeout_sysctls(node: &str, nat: &Nat, out: &mut Out) -> Result<(), TopologyError> {
    let Some(t) = nat.timeout else {
        return Ok(());
    };
    if t.subsec_nanos() != 0 || t.as_secs() == 0 || t.as_secs() > u64::from(u32::MAX) {
        return Err(invalid(
            node,
            nat,
            format!("mapping timeout {t:?}: whole seconds, at least 1"),
        ));
    }
    for key in [
        "nf_conntrack_udp_timeout",
        "nf_conntrack_udp_timeout_stream",
    ] {
        let path = format!("net/netfilter/{key}");
        if let Some((_, v)) = out.sysctls.iter().find(|(p, _)| *p == path) {
            if *v != t.as_secs().to_string() {
                return Err(invalid(
                    node,
                    nat,
                    "two NATs of the node give different timeouts",
                ));
            }
            continue;
        }
        out.sysctls.push((path, t.as_secs().to_string()));
    }
    Ok(())
}

/// Checks `config` against `node` and turns it into its firewall table.
pub(crate) fn compile(
    node: &NodeView<'_>,
    config: &RulesetConfig,
) -> Result<NodeRuleset, TopologyError> {
    let mut out = Out::default();
    if !config.nats.is_empty() && node.forwarding == Some(false) {
        return Err(TopologyError::NatWithoutForwarding {
            node: node.name.to_string(),
        });
    }
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
            } => behaviour(&mut out, node, nat, oif, *mapping, *filtering)?,
        }
        timeout_sysctls(node.name, nat, &mut out)?;
    }
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

/// One rule of a firewall, checked.
fn filter_rule(
    node: &NodeView<'_>,
    chain: Chain,
    index: usize,
    f: &crate::ruleset::FilterSpec,
) -> Result<Rule, TopologyError> {
    let bad = |reason: String| TopologyError::InvalidFirewallRule {
        node: node.name.to_string(),
        chain: chain.name(),
        index,
        reason,
    };
    let used_by = || format!("firewall rule {index} of chain {}", chain.name());
    let mut matches = Vec::new();
    let net = |text: &str| -> Result<IpNet, TopologyError> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(IpNet::from(ip));
        }
        parse_cidr(node.name, "firewall", text).map(|n| n.trunc())
    };
    let saddr = f.saddr.as_deref().map(net).transpose()?;
    let daddr = f.daddr.as_deref().map(net).transpose()?;
    let families: Vec<Family> = saddr
        .iter()
        .chain(&daddr)
        .map(|n| Family::of(n.addr()))
        .collect();
    if families.windows(2).any(|w| w[0] != w[1])
        || f.family.is_some_and(|x| families.iter().any(|y| *y != x))
    {
        return Err(bad(
            "its addresses and family disagree (IPv4 and IPv6)".into()
        ));
    }
    if let Some(fam) = f.family.filter(|_| families.is_empty()) {
        matches.push(Match::NfProto(fam));
    }
    if let Some(i) = &f.iif {
        if chain == Chain::Output {
            return Err(bad("the output chain sees no input interface".into()));
        }
        if i != "lo" {
            node.iface(i, used_by)?;
        }
        matches.push(Match::Iifname(i.clone()));
    }
    if let Some(o) = &f.oif {
        if chain == Chain::Input {
            return Err(bad("the input chain sees no output interface".into()));
        }
        if o != "lo" {
            node.iface(o, used_by)?;
        }
        matches.push(Match::Oifname(o.clone()));
    }
    matches.extend(saddr.map(Match::Saddr));
    matches.extend(daddr.map(Match::Daddr));
    if let Some(p) = f.proto {
        matches.push(Match::L4Proto(p.number()));
    }
    for (ports, sport) in [(f.sport, true), (f.dport, false)] {
        let Some((lo, hi)) = ports else { continue };
        if !f.proto.is_some_and(|p| p.has_ports()) {
            return Err(bad("ports need `.tcp()` or `.udp()`".into()));
        }
        if lo > hi {
            return Err(bad(format!("port range {lo}-{hi} is empty")));
        }
        let r = PortRange { lo, hi };
        matches.push(if sport {
            Match::Sport(r)
        } else {
            Match::Dport(r)
        });
    }
    if let Some(s) = f.state {
        if s.0 == 0 {
            return Err(bad(
                "an empty set of connection states matches nothing".into()
            ));
        }
        matches.push(Match::CtState(s));
    }
    let mut stmts = Vec::new();
    if let Some((rate, over)) = f.limit {
        if rate.packets == 0 {
            return Err(bad("a rate of 0 packets".into()));
        }
        stmts.push(Stmt::Limit(Limit {
            rate: rate.packets,
            unit_secs: rate.unit_secs,
            burst: rate.burst,
            over,
        }));
    }
    stmts.push(Stmt::counter());
    stmts.push(match f.action {
        FilterAction::Accept => Stmt::Verdict(Verdict::Accept),
        FilterAction::Drop => Stmt::Verdict(Verdict::Drop),
        FilterAction::Reject(Reject::TcpReset) if f.proto.map(|p| p.number()) != Some(6) => {
            return Err(bad("a TCP reset answers TCP only: add `.tcp()`".into()))
        }
        FilterAction::Reject(r) => Stmt::Reject(r),
    });
    if let Some(c) = &f.comment {
        if c.len() > 128 || c.contains(['\0', '"']) {
            return Err(bad(
                "a comment is at most 128 bytes, without NUL or `\"`".into()
            ));
        }
    }
    Ok(Rule {
        matches,
        stmts,
        comment: f.comment.clone(),
    })
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
            if n.bridge.is_some() {
                return Err(TopologyError::NetfilterOnSwitch {
                    node: n.name.clone(),
                });
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
            };
            n.ruleset = compile(&view, &n.netfilter)?;
        }
        Ok(())
    }
}
