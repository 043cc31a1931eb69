//! The `[topology]` section of a suite file, and how it maps onto the
//! [`Topology`](crate::Topology) builder.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::units::{Dur, OneOrMany};
use crate::firewall::{Chain, CtState, Filter, Firewall, Nat, Policy, Proto, Rate, Reject};
use crate::{Endpoint, Route};

/// A lab: nodes, veth links, bridges, routes, forwarding, sysctls, NATs and
/// firewalls. Every list adds to what an included file declared.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// Nodes with no link (a node that is the end of a link or a member
    /// of a bridge needs no declaration).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub nodes: Vec<Spanned<String>>,
    /// Veth pairs between two nodes.
    #[serde(default)]
    #[schemars(with = "Vec<LinkSpec>")]
    pub links: Vec<Spanned<LinkSpec>>,
    /// L2 segments: a Linux bridge in a node of its own, one veth per member.
    #[serde(default)]
    #[schemars(with = "Vec<BridgeSpec>")]
    pub bridges: Vec<Spanned<BridgeSpec>>,
    /// Static routes.
    #[serde(default)]
    #[schemars(with = "Vec<RouteSpec>")]
    pub routes: Vec<Spanned<RouteSpec>>,
    /// Nodes that forward IPv4 and IPv6 (routers).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub forwarding: Vec<Spanned<String>>,
    /// Per-namespace sysctls: node name to a table of key = value.
    #[serde(default)]
    pub sysctls: BTreeMap<String, BTreeMap<String, String>>,
    /// Address translations on routers.
    #[serde(default)]
    #[schemars(with = "Vec<NatSpec>")]
    pub nat: Vec<Spanned<NatSpec>>,
    /// Stateful packet filters, one per node.
    #[serde(default)]
    #[schemars(with = "Vec<FirewallSpec>")]
    pub firewall: Vec<Spanned<FirewallSpec>>,
}

/// One end of a link or a bridge member: `{ node = "h1", iface = "eth0",
/// addr = "198.51.100.1/24" }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// The node.
    pub node: String,
    /// The interface name in that node.
    pub iface: String,
    /// Addresses in CIDR form (one or a list).
    #[serde(default)]
    pub addr: OneOrMany<String>,
    /// The MTU (68 to 65535).
    pub mtu: Option<u32>,
    /// The MAC address (`02:00:00:00:00:01`).
    pub mac: Option<String>,
    /// Joins this end's link (or, for a bridge member, its port) through
    /// the lab's userspace wire instead of a plain veth pair, so that its
    /// frames can be impaired and held at run time (`Endpoint::wire`).
    #[serde(default)]
    pub wire: bool,
    /// Makes the link a wire with this model on what this end sends.
    pub egress: Option<super::impair::ImpairSpec>,
    /// Makes the link a wire with this model on what this end receives.
    pub ingress: Option<super::impair::ImpairSpec>,
}

/// A veth pair.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// The end created first.
    pub a: EndpointSpec,
    /// The peer, created directly in its node.
    pub b: EndpointSpec,
}

/// A bridge (a switch node with `br0`) and its members.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BridgeSpec {
    /// The switch node's name.
    pub switch: String,
    /// The members' ends, at least one.
    #[schemars(with = "Vec<EndpointSpec>", length(min = 1))]
    pub members: Spanned<Vec<EndpointSpec>>,
    /// Whether the bridge forwards the members' multicast listener reports
    /// (MLD), which the switch drops by default (`Topology::forward_mld`).
    #[serde(default)]
    pub forward_mld: bool,
}

/// A static route in a node.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The node.
    pub node: String,
    /// A CIDR prefix or `default`.
    pub to: String,
    /// The gateway.
    pub via: Option<String>,
    /// The output interface.
    pub dev: Option<String>,
}

impl RouteSpec {
    /// The route, as the builder takes it.
    pub fn route(&self) -> Route {
        let mut r = Route::to(&self.to);
        if let Some(via) = &self.via {
            r = r.via(via);
        }
        if let Some(dev) = &self.dev {
            r = r.dev(dev);
        }
        r
    }
}

/// The kind of a NAT (see `netns_test::firewall::Nat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NatKind {
    /// Source NAT to the address of `oif`.
    Masquerade,
    /// Source NAT to `addr` (or `first` to `last`).
    Snat,
    /// Everything arriving on `iif` goes to `to`.
    Dnat,
    /// `proto` packets arriving on `iif` for `port` go to `to`.
    PortForward,
    /// RFC 4787 endpoint-independent mapping and filtering on `oif`.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering.
    RestrictedCone,
    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    PortRestrictedCone,
    /// Address-and-port-dependent mapping and filtering.
    Symmetric,
    /// A carrier-grade NAT (RFC 6888).
    CarrierGrade,
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProtoSpec {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// ICMPv6.
    Icmpv6,
}

impl ProtoSpec {
    fn proto(self) -> Proto {
        match self {
            ProtoSpec::Tcp => Proto::Tcp,
            ProtoSpec::Udp => Proto::Udp,
            ProtoSpec::Icmp => Proto::Icmp,
            ProtoSpec::Icmpv6 => Proto::Icmpv6,
        }
    }
}

/// A NAT on a router; which fields apply depends on `kind`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NatSpec {
    /// The router.
    pub node: String,
    /// What it does.
    pub kind: NatKind,
    /// The outgoing interface (source NATs and presets).
    pub oif: Option<String>,
    /// The incoming interface (`dnat`, `port_forward`).
    pub iif: Option<String>,
    /// `snat`: the address.
    pub addr: Option<String>,
    /// `snat` to a range: the first address.
    pub first: Option<String>,
    /// `snat` to a range: the last address.
    pub last: Option<String>,
    /// `dnat`, `port_forward`: the inside host (`198.51.100.10` or `198.51.100.10:80`).
    pub to: Option<String>,
    /// `port_forward`: the protocol.
    pub proto: Option<ProtoSpec>,
    /// `port_forward`: the outside port.
    pub port: Option<u16>,
    /// Hairpinning.
    #[serde(default)]
    pub hairpin: bool,
    /// How long an idle UDP mapping lasts.
    pub mapping_timeout: Option<Dur>,
    /// Source NAT's ports, `[first, last]`.
    pub ports: Option<[u16; 2]>,
}

impl NatSpec {
    /// The NAT, or which field its kind lacks.
    pub fn nat(&self) -> Result<Nat, String> {
        let need = |field: &Option<String>, name: &str| {
            field
                .clone()
                .ok_or_else(|| format!("a `{:?}` NAT needs `{name}`", self.kind).to_lowercase())
        };
        let mut nat = match self.kind {
            NatKind::Masquerade => Nat::masquerade(need(&self.oif, "oif")?),
            NatKind::Snat => match (&self.addr, &self.first, &self.last) {
                (Some(a), None, None) => Nat::snat(need(&self.oif, "oif")?, a),
                (None, Some(f), Some(l)) => Nat::snat_range(need(&self.oif, "oif")?, f, l),
                _ => return Err("an snat NAT needs `addr`, or `first` and `last`".into()),
            },
            NatKind::Dnat => Nat::dnat(need(&self.iif, "iif")?, need(&self.to, "to")?),
            NatKind::PortForward => {
                let proto = self
                    .proto
                    .ok_or("a port_forward NAT needs `proto` (tcp or udp)")?;
                let port = self.port.ok_or("a port_forward NAT needs `port`")?;
                Nat::port_forward(
                    need(&self.iif, "iif")?,
                    proto.proto(),
                    port,
                    need(&self.to, "to")?,
                )
            }
            NatKind::FullCone => Nat::full_cone(need(&self.oif, "oif")?),
            NatKind::RestrictedCone => Nat::restricted_cone(need(&self.oif, "oif")?),
            NatKind::PortRestrictedCone => Nat::port_restricted_cone(need(&self.oif, "oif")?),
            NatKind::Symmetric => Nat::symmetric(need(&self.oif, "oif")?),
            NatKind::CarrierGrade => Nat::carrier_grade(need(&self.oif, "oif")?),
        };
        if self.hairpin {
            nat = nat.hairpin(true);
        }
        if let Some(t) = self.mapping_timeout {
            nat = nat.mapping_timeout(t.0);
        }
        if let Some([lo, hi]) = self.ports {
            nat = nat.ports(lo..=hi);
        }
        Ok(nat)
    }
}

/// A chain of a firewall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChainSpec {
    /// Packets for the node.
    Input,
    /// Packets routed through the node.
    Forward,
    /// Packets the node sends.
    Output,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpec {
    /// Let the packet through.
    Accept,
    /// Drop it silently.
    Drop,
    /// Answer with ICMP port unreachable.
    Reject,
    /// Answer with a TCP reset.
    RejectTcpReset,
    /// Answer with ICMP administratively prohibited.
    RejectAdminProhibited,
    /// Answer with ICMP host unreachable.
    RejectHostUnreachable,
}

/// A firewall: default policies and rules, in order.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirewallSpec {
    /// The node.
    pub node: String,
    /// `input` chain policy (accept unless set).
    pub input_policy: Option<PolicySpec>,
    /// `forward` chain policy.
    pub forward_policy: Option<PolicySpec>,
    /// `output` chain policy.
    pub output_policy: Option<PolicySpec>,
    /// Rules, first match wins.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// A chain's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicySpec {
    /// Accept.
    Accept,
    /// Drop.
    Drop,
}

/// One rule of a firewall.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The chain.
    pub chain: ChainSpec,
    /// What it does to matching packets.
    pub action: ActionSpec,
    /// Only this protocol.
    pub proto: Option<ProtoSpec>,
    /// Only IPv4 (`4`) or IPv6 (`6`).
    pub family: Option<u8>,
    /// Source address or prefix.
    pub from: Option<String>,
    /// Destination address or prefix.
    pub to: Option<String>,
    /// Source port.
    pub sport: Option<u16>,
    /// Destination port.
    pub dport: Option<u16>,
    /// Destination ports `[first, last]` (not with `dport`).
    pub dports: Option<[u16; 2]>,
    /// Incoming interface.
    pub iif: Option<String>,
    /// Outgoing interface.
    pub oif: Option<String>,
    /// Connection states, at least one: `new`, `established`, `related`,
    /// `invalid`, `untracked`.
    #[schemars(length(min = 1))]
    pub state: Option<Vec<String>>,
    /// At most this many packets a second (burst 5).
    pub limit_per_second: Option<u64>,
}

impl RuleSpec {
    fn filter(&self) -> Result<Filter, String> {
        let mut f = match self.action {
            ActionSpec::Accept => Filter::accept(),
            ActionSpec::Drop => Filter::drop(),
            ActionSpec::Reject => Filter::reject(),
            ActionSpec::RejectTcpReset => Filter::reject_with(Reject::TcpReset),
            ActionSpec::RejectAdminProhibited => Filter::reject_with(Reject::AdminProhibited),
            ActionSpec::RejectHostUnreachable => Filter::reject_with(Reject::HostUnreachable),
        };
        match self.family {
            None => {}
            Some(4) => f = f.ipv4(),
            Some(6) => f = f.ipv6(),
            Some(n) => return Err(format!("`family = {n}`: write 4 or 6")),
        }
        if let Some(p) = self.proto {
            f = f.proto(p.proto());
        }
        if let Some(a) = &self.from {
            f = f.from(a);
        }
        if let Some(a) = &self.to {
            f = f.to(a);
        }
        if let Some(p) = self.sport {
            f = f.sport(p);
        }
        match (self.dport, self.dports) {
            (Some(_), Some(_)) => {
                return Err("`dport` and `dports` both given: write one".into());
            }
            (Some(p), None) => f = f.dport(p),
            (None, Some([lo, hi])) => f = f.dports(lo..=hi),
            (None, None) => {}
        }
        if let Some(i) = &self.iif {
            f = f.iif(i);
        }
        if let Some(i) = &self.oif {
            f = f.oif(i);
        }
        if let Some(states) = &self.state {
            if states.is_empty() {
                return Err(
                    "`state = []` matches nothing: name at least one connection \
                            state, or leave `state` out"
                        .into(),
                );
            }
            let mut acc: Option<CtState> = None;
            for s in states {
                let one = match s.as_str() {
                    "new" => CtState::NEW,
                    "established" => CtState::ESTABLISHED,
                    "related" => CtState::RELATED,
                    "invalid" => CtState::INVALID,
                    "untracked" => CtState::UNTRACKED,
                    other => return Err(format!("unknown connection state `{other}`")),
                };
                acc = Some(acc.map_or(one, |a| a | one));
            }
            if let Some(st) = acc {
                f = f.state(st);
            }
        }
        if let Some(n) = self.limit_per_second {
            f = f.limit(Rate::per_second(n));
        }
        Ok(f)
    }
}

impl FirewallSpec {
    /// The firewall, or what is wrong in a rule.
    pub fn firewall(&self) -> Result<Firewall, String> {
        let policy = |p: PolicySpec| match p {
            PolicySpec::Accept => Policy::Accept,
            PolicySpec::Drop => Policy::Drop,
        };
        let mut fw = Firewall::new();
        for (chain, p) in [
            (Chain::Input, self.input_policy),
            (Chain::Forward, self.forward_policy),
            (Chain::Output, self.output_policy),
        ] {
            if let Some(p) = p {
                fw = fw.policy(chain, policy(p));
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let chain = match rule.chain {
                ChainSpec::Input => Chain::Input,
                ChainSpec::Forward => Chain::Forward,
                ChainSpec::Output => Chain::Output,
            };
            let filter = rule.filter().map_err(|e| format!("rule {}: {e}", i + 1))?;
            fw = fw.rule(chain, filter);
        }
        Ok(fw)
    }
}

impl EndpointSpec {
    /// The endpoint, as the builder takes it.
    pub fn endpoint(&self) -> Endpoint {
        let mut ep = Endpoint::new(&self.node, &self.iface);
        for a in self.addr.iter() {
            ep = ep.addr(a);
        }
        if let Some(m) = self.mtu {
            ep = ep.mtu(m);
        }
        if let Some(m) = &self.mac {
            ep = ep.mac(m);
        }
        if self.wire {
            ep = ep.wire();
        }
        if let Some(m) = &self.egress {
            ep = ep.egress(m.model());
        }
        if let Some(m) = &self.ingress {
            ep = ep.ingress(m.model());
        }
        ep
    }
}
