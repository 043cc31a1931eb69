//! A stateful packet filter as a user declares it: a default policy per
//! chain and rules that accept, drop or reject by family, protocol,
//! addresses, ports, interfaces and connection state, optionally under a
//! rate limit. Plain data; the topology's validation turns it into
//! nftables rules (`topology/validate/firewall.rs`).

use std::ops::{BitOr, RangeInclusive};

use crate::vocab::Family;

/// A chain of the filter: where in a node a rule looks at packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    /// Packets addressed to the node itself (`hook input`).
    Input,
    /// Packets the node routes from one interface to another (`hook forward`).
    Forward,
    /// Packets the node sends (`hook output`).
    Output,
}

impl Chain {
    /// The chain's name in the node's table: `input`, `forward`, `output`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Chain::Input => "input",
            Chain::Forward => "forward",
            Chain::Output => "output",
        }
    }
}

/// What a chain does with a packet no rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Let it through (the default).
    Accept,
    /// Drop it silently.
    Drop,
}

/// How a `reject` answers: an ICMP (or ICMPv6) error of the packet's
/// family, or a TCP reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// ICMP port unreachable (the default): a TCP connect or a connected
    /// UDP socket fails with `ECONNREFUSED`.
    PortUnreachable,
    /// ICMP host unreachable (`EHOSTUNREACH`).
    HostUnreachable,
    /// ICMP administratively prohibited ("filtered"; on Linux `EHOSTUNREACH`
    /// over IPv4, `EACCES` over IPv6).
    AdminProhibited,
    /// ICMP no route (network unreachable, `ENETUNREACH`).
    NoRoute,
    /// A TCP reset (`ECONNREFUSED`); for TCP rules only.
    TcpReset,
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP (1).
    Icmp,
    /// ICMPv6 (58).
    Icmpv6,
    /// Any other protocol, by number.
    Number(u8),
}

impl Proto {
    /// The protocol number.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Icmpv6 => 58,
            Proto::Number(n) => n,
        }
    }

    /// Whether it has ports (TCP and UDP here).
    pub(crate) fn has_ports(self) -> bool {
        matches!(self.number(), 6 | 17)
    }
}

/// Connection states as conntrack sees them (`ct state`), combined with `|`.
///
/// ```
/// use netns_test::firewall::CtState;
/// let replies = CtState::ESTABLISHED | CtState::RELATED;
/// assert!(replies.contains(CtState::RELATED));
/// assert!(!replies.contains(CtState::NEW));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtState(pub(crate) u32);

impl CtState {
    /// A packet conntrack could not place (`invalid`).
    pub const INVALID: CtState = CtState(1);
    /// A packet of a connection that has seen traffic both ways (`established`).
    pub const ESTABLISHED: CtState = CtState(2);
    /// A packet related to a known connection, an ICMP error say (`related`).
    pub const RELATED: CtState = CtState(4);
    /// The first packet of a connection (`new`).
    pub const NEW: CtState = CtState(8);
    /// A packet exempt from tracking (`untracked`).
    pub const UNTRACKED: CtState = CtState(64);

    /// Whether every state of `other` is in `self`.
    pub fn contains(self, other: CtState) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for CtState {
    type Output = CtState;
    fn bitor(self, rhs: CtState) -> CtState {
        CtState(self.0 | rhs.0)
    }
}

/// A rate for [`Filter::limit`]: packets per second, minute, hour or day,
/// with a burst (5 unless set).
///
/// ```
/// use netns_test::firewall::Rate;
/// let r = Rate::per_second(10).burst(20);
/// # let _ = r;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub(crate) packets: u64,
    pub(crate) unit_secs: u64,
    pub(crate) burst: u32,
}

impl Rate {
    fn new(packets: u64, unit_secs: u64) -> Rate {
        Rate {
            packets,
            unit_secs,
            burst: 5,
        }
    }
    /// `packets` a second.
    pub fn per_second(packets: u64) -> Rate {
        Rate::new(packets, 1)
    }
    /// `packets` a minute.
    pub fn per_minute(packets: u64) -> Rate {
        Rate::new(packets, 60)
    }
    /// `packets` an hour.
    pub fn per_hour(packets: u64) -> Rate {
        Rate::new(packets, 3600)
    }
    /// `packets` a day.
    pub fn per_day(packets: u64) -> Rate {
        Rate::new(packets, 86400)
    }
    /// How many packets may pass at once above the rate (5 by default).
    pub fn burst(mut self, packets: u32) -> Rate {
        self.burst = packets;
        self
    }
}

/// What a rule does with the packets it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FilterAction {
    Accept,
    Drop,
    Reject(Reject),
}

/// A rule as declared: text is checked by the topology's validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FilterSpec {
    pub(crate) action: FilterAction,
    pub(crate) family: Option<Family>,
    pub(crate) proto: Option<Proto>,
    pub(crate) saddr: Option<String>,
    pub(crate) daddr: Option<String>,
    pub(crate) sport: Option<(u16, u16)>,
    pub(crate) dport: Option<(u16, u16)>,
    pub(crate) iif: Option<String>,
    pub(crate) oif: Option<String>,
    pub(crate) state: Option<CtState>,
    pub(crate) limit: Option<(Rate, bool)>,
    pub(crate) comment: Option<String>,
}

/// One rule of a [`Firewall`]: conditions (all must hold) and what to do.
/// Every rule counts the packets it matched (see `Node::ruleset`).
///
/// ```
/// use netns_test::firewall::{CtState, Filter, Rate};
/// // Replies to what the node started.
/// let replies = Filter::accept().state(CtState::ESTABLISHED | CtState::RELATED);
/// // SSH from one network, refused with a reset from anywhere else.
/// let ssh = Filter::accept().tcp().dport(22).from("198.51.100.0/26");
/// let others = Filter::reject_with(netns_test::firewall::Reject::TcpReset).tcp().dport(22);
/// // Pings, ten a second.
/// let pings = Filter::accept().icmp().limit(Rate::per_second(10));
/// # let _ = (replies, ssh, others, pings);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    pub(crate) spec: FilterSpec,
}

impl Filter {
    fn with(action: FilterAction) -> Filter {
        Filter {
            spec: FilterSpec {
                action,
                family: None,
                proto: None,
                saddr: None,
                daddr: None,
                sport: None,
                dport: None,
                iif: None,
                oif: None,
                state: None,
                limit: None,
                comment: None,
            },
        }
    }

    /// A rule that lets the packets through.
    pub fn accept() -> Filter {
        Filter::with(FilterAction::Accept)
    }

    /// A rule that drops them silently: a TCP connect times out.
    pub fn drop() -> Filter {
        Filter::with(FilterAction::Drop)
    }

    /// A rule that drops them with an ICMP port unreachable back: a TCP
    /// connect or a UDP request sees "refused" at once.
    pub fn reject() -> Filter {
        Filter::with(FilterAction::Reject(Reject::PortUnreachable))
    }

    /// A rule that drops them with the given answer back.
    pub fn reject_with(how: Reject) -> Filter {
        Filter::with(FilterAction::Reject(how))
    }

    /// Only IPv4 packets.
    pub fn ipv4(mut self) -> Filter {
        self.spec.family = Some(Family::V4);
        self
    }

    /// Only IPv6 packets.
    pub fn ipv6(mut self) -> Filter {
        self.spec.family = Some(Family::V6);
        self
    }

    /// Only packets of this transport protocol.
    pub fn proto(mut self, proto: Proto) -> Filter {
        self.spec.proto = Some(proto);
        self
    }

    /// Only TCP.
    pub fn tcp(self) -> Filter {
        self.proto(Proto::Tcp)
    }

    /// Only UDP.
    pub fn udp(self) -> Filter {
        self.proto(Proto::Udp)
    }

    /// Only ICMP (IPv4).
    pub fn icmp(self) -> Filter {
        self.proto(Proto::Icmp)
    }

    /// Only packets from this address or network (`198.51.100.0/26`; a
    /// network with host bits set, `198.51.100.7/26`, is refused).
    pub fn from(mut self, source: impl Into<String>) -> Filter {
        self.spec.saddr = Some(source.into());
        self
    }

    /// Only packets to this address or network.
    pub fn to(mut self, destination: impl Into<String>) -> Filter {
        self.spec.daddr = Some(destination.into());
        self
    }

    /// Only this source port (with [`tcp`](Filter::tcp) or [`udp`](Filter::udp)).
    pub fn sport(mut self, port: u16) -> Filter {
        self.spec.sport = Some((port, port));
        self
    }

    /// Only this destination port (with [`tcp`](Filter::tcp) or [`udp`](Filter::udp)).
    pub fn dport(mut self, port: u16) -> Filter {
        self.spec.dport = Some((port, port));
        self
    }

    /// Only source ports in the range.
    pub fn sports(mut self, ports: RangeInclusive<u16>) -> Filter {
        self.spec.sport = Some((*ports.start(), *ports.end()));
        self
    }

    /// Only destination ports in the range.
    pub fn dports(mut self, ports: RangeInclusive<u16>) -> Filter {
        self.spec.dport = Some((*ports.start(), *ports.end()));
        self
    }

    /// Only packets that came in on this interface (not in the output chain).
    pub fn iif(mut self, ifname: impl Into<String>) -> Filter {
        self.spec.iif = Some(ifname.into());
        self
    }

    /// Only packets that go out of this interface (not in the input chain).
    pub fn oif(mut self, ifname: impl Into<String>) -> Filter {
        self.spec.oif = Some(ifname.into());
        self
    }

    /// Only packets whose connection is in one of these states.
    pub fn state(mut self, state: CtState) -> Filter {
        self.spec.state = Some(state);
        self
    }

    /// Only while packets come at most at this rate: above it, the rule
    /// does not match and the next rule (or the policy) decides.
    pub fn limit(mut self, rate: Rate) -> Filter {
        self.spec.limit = Some((rate, false));
        self
    }

    /// Only the packets above this rate (`limit rate over`): a drop rule
    /// with it lets the rate through.
    pub fn limit_over(mut self, rate: Rate) -> Filter {
        self.spec.limit = Some((rate, true));
        self
    }

    /// A comment, shown in the node's ruleset (at most 128 bytes).
    pub fn comment(mut self, text: impl Into<String>) -> Filter {
        self.spec.comment = Some(text.into());
        self
    }
}

/// A stateful packet filter for one node: a policy per chain (accept by
/// default) and rules, checked in order; the first that matches decides.
///
/// ```
/// use netns_test::firewall::{Chain, CtState, Filter, Firewall, Policy};
/// use netns_test::{Route, Topology};
///
/// // r1 forwards what h1 starts, and only replies the other way.
/// let fw = Firewall::new()
///     .policy(Chain::Forward, Policy::Drop)
///     .forward(Filter::accept().state(CtState::ESTABLISHED | CtState::RELATED))
///     .forward(Filter::accept().iif("eth0"))
///     .input(Filter::reject().tcp().dport(22));
/// let t = Topology::new()
///     .link(("h1", "eth0", "198.51.100.1/26"), ("r1", "eth0", "198.51.100.62/26"))
///     .link(("r1", "eth1", "203.0.113.254/24"), ("h2", "eth0", "203.0.113.1/24"))
///     .forwarding("r1")
///     .firewall("r1", fw);
/// t.validate()?;
/// # Ok::<(), netns_test::TopologyError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Firewall {
    pub(crate) policies: Vec<(Chain, Policy)>,
    pub(crate) rules: Vec<(Chain, Filter)>,
}

impl Firewall {
    /// No rules; every chain accepts.
    pub fn new() -> Firewall {
        Firewall::default()
    }

    /// The policy of `chain`: what happens to packets no rule decided.
    pub fn policy(mut self, chain: Chain, policy: Policy) -> Firewall {
        self.policies.retain(|(c, _)| *c != chain);
        self.policies.push((chain, policy));
        self
    }

    /// Appends a rule to `chain`.
    pub fn rule(mut self, chain: Chain, filter: Filter) -> Firewall {
        self.rules.push((chain, filter));
        self
    }

    /// Appends a rule to the input chain.
    pub fn input(self, filter: Filter) -> Firewall {
        self.rule(Chain::Input, filter)
    }

    /// Appends a rule to the forward chain.
    pub fn forward(self, filter: Filter) -> Firewall {
        self.rule(Chain::Forward, filter)
    }

    /// Appends a rule to the output chain.
    pub fn output(self, filter: Filter) -> Firewall {
        self.rule(Chain::Output, filter)
    }

    /// The policy of `chain`.
    pub(crate) fn policy_of(&self, chain: Chain) -> Policy {
        self.policies
            .iter()
            .find(|(c, _)| *c == chain)
            .map_or(Policy::Accept, |(_, p)| *p)
    }
}
