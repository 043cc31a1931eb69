//! The nftables rule language as plain data: what the library installs in
//! a node (tables, sets, base chains, rules) and what it reads back, printed
//! the way `nft list ruleset` prints it. Pure: no I/O.
//!
//! - this file: the model ([`Rule`], [`Match`], [`Stmt`], [`SetDef`],
//!   [`BaseChain`]) that `sys/netlink/nft` encodes and decodes;
//! - [`text`]: the `nft` syntax of rules, sets and chain headers;
//! - [`nat`] and [`filter`]: what a user declares ([`Nat`], [`Firewall`]),
//!   turned into rules by the topology's validation;
//! - [`compiled`]: the rules one node gets ([`NodeRuleset`]);
//! - [`layers`]: a node's declaration under the live guards of its
//!   changes ([`Layers`]);
//! - [`switch`]: the table of a segment's switch node, which keeps the
//!   members' multicast listener reports off the bridge.
//!
//! The fault layer's partitions use the model too, in a table of their own.

mod compiled;
mod filter;
mod layers;
mod nat;
mod switch;
pub(crate) mod text;

#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use crate::vocab::Family;

pub(crate) use compiled::{NodeRuleset, RulesetConfig, FIREWALL_FAMILY, FIREWALL_TABLE};
pub use filter::{Chain, CtState, Filter, Firewall, Policy, Proto, Rate, Reject};
pub(crate) use filter::{FilterAction, FilterSpec};
pub(crate) use layers::{Change, Layers};
pub use nat::{Filtering, Mapping, Nat};
pub(crate) use nat::{NatSpec, SourceTo};
pub(crate) use switch::{switch_ruleset, SWITCH_FAMILY, SWITCH_TABLE};

/// The family of a table: which packets its base chains see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableFamily {
    /// `inet`: IPv4 and IPv6 (`NFPROTO_INET`).
    Inet,
    /// `ip`: IPv4 only (`NFPROTO_IPV4`).
    Ip,
    /// `ip6`: IPv6 only (`NFPROTO_IPV6`).
    Ip6,
    /// `bridge`: frames a bridge forwards (`NFPROTO_BRIDGE`); its hooks
    /// have the numbers of [`Hook`]'s.
    Bridge,
}

/// A netfilter hook, where a base chain sees packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    /// `prerouting` (`NF_INET_PRE_ROUTING`): every packet that arrives.
    Prerouting,
    /// `input` (`NF_INET_LOCAL_IN`): packets for this node.
    Input,
    /// `forward` (`NF_INET_FORWARD`): packets routed through this node.
    Forward,
    /// `output` (`NF_INET_LOCAL_OUT`): packets this node sends.
    Output,
    /// `postrouting` (`NF_INET_POST_ROUTING`): every packet that leaves.
    Postrouting,
}

/// The type of a base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChainKind {
    /// `type filter`.
    Filter,
    /// `type nat`: consulted for the first packet of a connection only.
    Nat,
}

/// The verdict of a rule, or the policy of a base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `accept` (`NF_ACCEPT`).
    Accept,
    /// `drop` (`NF_DROP`).
    Drop,
}

/// What makes a chain a base chain: `type KIND hook HOOK priority P; policy V;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BaseChain {
    /// Where the chain sees packets.
    pub(crate) hook: Hook,
    /// The order among chains on the same hook, lowest first (`filter` is 0).
    pub(crate) priority: i32,
    /// The chain's type.
    pub(crate) kind: ChainKind,
    /// The verdict for packets no rule decided.
    pub(crate) policy: Verdict,
}

/// An inclusive range of ports; one port when both ends are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortRange {
    /// The first port.
    pub(crate) lo: u16,
    /// The last port.
    pub(crate) hi: u16,
}

impl PortRange {
    /// One port.
    pub(crate) fn one(port: u16) -> PortRange {
        PortRange { lo: port, hi: port }
    }
}

/// A value taken from a packet or its connection: a part of a set's key or
/// of a map's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// `th sport` (`udp sport` after `meta l4proto udp`): 2 bytes.
    Sport,
    /// `th dport`: 2 bytes.
    Dport,
    /// `ip saddr` or `ip6 saddr`.
    Saddr(Family),
    /// `ip daddr` or `ip6 daddr`.
    Daddr(Family),
    /// `ct original ip saddr`: the source before any NAT.
    CtOriginalSaddr(Family),
    /// `ct original proto-src`: the source port before any NAT.
    CtOriginalProtoSrc,
    /// `ct reply ip saddr`: the source of the replies before any NAT (the
    /// inside host of a connection a NAT forwarded in).
    CtReplySaddr(Family),
    /// `ct reply proto-src`: the source port of the replies before any NAT.
    CtReplyProtoSrc,
}

/// The type of a set's key or a map's data, as nftables names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataType {
    /// `ipv4_addr`.
    Ipv4Addr,
    /// `ipv6_addr`.
    Ipv6Addr,
    /// `inet_service`: a port.
    InetService,
}

impl DataType {
    /// nftables' number for the type (`TYPE_IPADDR`...).
    pub(crate) fn id(self) -> u32 {
        match self {
            DataType::Ipv4Addr => 7,
            DataType::Ipv6Addr => 8,
            DataType::InetService => 13,
        }
    }

    /// The type of number `id`.
    pub(crate) fn from_id(id: u32) -> Option<DataType> {
        match id {
            7 => Some(DataType::Ipv4Addr),
            8 => Some(DataType::Ipv6Addr),
            13 => Some(DataType::InetService),
            _ => None,
        }
    }

    /// Its length in bytes.
    pub(crate) fn len(self) -> usize {
        match self {
            DataType::Ipv4Addr => 4,
            DataType::Ipv6Addr => 16,
            DataType::InetService => 2,
        }
    }

    /// Its name in `nft` syntax.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DataType::Ipv4Addr => "ipv4_addr",
            DataType::Ipv6Addr => "ipv6_addr",
            DataType::InetService => "inet_service",
        }
    }
}

impl Field {
    /// The type of the value.
    pub(crate) fn data_type(self) -> DataType {
        match self {
            Field::Sport | Field::Dport | Field::CtOriginalProtoSrc | Field::CtReplyProtoSrc => {
                DataType::InetService
            }
            Field::Saddr(f)
            | Field::Daddr(f)
            | Field::CtOriginalSaddr(f)
            | Field::CtReplySaddr(f) => match f {
                Family::V4 => DataType::Ipv4Addr,
                Family::V6 => DataType::Ipv6Addr,
            },
        }
    }
}

/// One condition of a rule; a rule matches when all of its conditions do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Match {
    /// `meta nfproto ipv4|ipv6`.
    NfProto(Family),
    /// `ip saddr NET` or `ip6 saddr NET`, by the family of the network.
    Saddr(IpNet),
    /// `ip daddr NET` or `ip6 daddr NET`.
    Daddr(IpNet),
    /// `iifname NAME`: the interface the packet came in on.
    Iifname(String),
    /// `oifname NAME`: the interface the packet goes out of.
    Oifname(String),
    /// `meta l4proto N`: the transport protocol (6 TCP, 17 UDP, 1 ICMP...).
    L4Proto(u8),
    /// `icmpv6 type N`: `meta l4proto ipv6-icmp` and the first byte of the
    /// transport header, which `nft` prints as one match.
    Icmpv6Type(u8),
    /// `th sport N` or `th sport LO-HI`: the first 2 bytes of the transport
    /// header (no protocol check, as in `nft`; add [`Match::L4Proto`]).
    Sport(PortRange),
    /// `th dport N`: bytes 2-3 of the transport header.
    Dport(PortRange),
    /// `ct state a,b`: the connection's state is one of the bits.
    CtState(CtState),
    /// `ct status a,b`: one of the status bits is set (`IPS_*`).
    CtStatus(u32),
    /// `KEY . KEY @set`: the packet's fields are an element of a set.
    InSet {
        /// The fields, concatenated.
        keys: Vec<Field>,
        /// The set's name.
        set: String,
    },
    /// `KEY . KEY != @set`: the packet's fields are no element of a set.
    NotInSet {
        /// The fields, concatenated.
        keys: Vec<Field>,
        /// The set's name.
        set: String,
    },
}

/// The rate of a `limit`: `limit rate [over] N/UNIT [burst B packets]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    /// Packets per unit.
    pub(crate) rate: u64,
    /// The unit, in seconds (1, 60, 3600, 86400).
    pub(crate) unit_secs: u64,
    /// Packets allowed at once above the rate.
    pub(crate) burst: u32,
    /// `over`: the statement matches above the rate instead of below.
    pub(crate) over: bool,
}

/// The flags of a NAT statement: how ports are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct NatFlags {
    /// `random`: a port from a keyed hash of the connection's addresses and
    /// destination port (so one per destination), never the original one.
    pub(crate) random: bool,
    /// `fully-random`: a port at random for every connection.
    pub(crate) fully_random: bool,
    /// `persistent`: one address of a range per client.
    pub(crate) persistent: bool,
}

/// Source or destination NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NatKind {
    /// `snat`.
    Snat,
    /// `dnat`.
    Dnat,
}

/// Where a NAT statement maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NatTo {
    /// An address or a range, and maybe ports.
    Addr {
        /// The address, or the first of the range.
        min: IpAddr,
        /// The last address of the range.
        max: Option<IpAddr>,
        /// The ports.
        ports: Option<PortRange>,
    },
    /// `KEY map @map`: the address and port found in a map (address . port).
    Map {
        /// The fields looked up.
        key: Vec<Field>,
        /// The map's name.
        map: String,
    },
}

/// `snat ip to ...` or `dnat ip to ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NatStmt {
    /// Source or destination.
    pub(crate) kind: NatKind,
    /// The family it translates (the other family's packets pass).
    pub(crate) family: Family,
    /// The new address (and port).
    pub(crate) to: NatTo,
    /// How ports are chosen.
    pub(crate) flags: NatFlags,
}

/// One statement of a rule, after its matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stmt {
    /// `counter packets P bytes B` (zero when written).
    Counter {
        /// Packets counted.
        packets: u64,
        /// Bytes counted.
        bytes: u64,
    },
    /// `limit rate ...`.
    Limit(Limit),
    /// `update @set { KEY : DATA }`: adds the element or refreshes its timeout.
    Update {
        /// The set or map.
        set: String,
        /// The key's fields.
        key: Vec<Field>,
        /// The data's fields (a map's), or none.
        data: Vec<Field>,
    },
    /// `delete @set { KEY : DATA }`: removes the element with that key, if
    /// there is one, whatever its data (the kernel wants data for a map
    /// all the same).
    Delete {
        /// The set or map.
        set: String,
        /// The key's fields.
        key: Vec<Field>,
        /// The data's fields (a map's), or none.
        data: Vec<Field>,
    },
    /// `accept` or `drop`.
    Verdict(Verdict),
    /// `reject ...`.
    Reject(Reject),
    /// `snat ...`, `dnat ...`.
    Nat(NatStmt),
    /// `masquerade [to :PORTS] [FLAGS]`.
    Masquerade {
        /// The ports.
        ports: Option<PortRange>,
        /// How ports are chosen.
        flags: NatFlags,
    },
}

/// A rule: conditions, statements, a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The conditions, all of which must hold.
    pub(crate) matches: Vec<Match>,
    /// What to do with a matching packet, in order.
    pub(crate) stmts: Vec<Stmt>,
    /// A comment, shown by `nft list ruleset`.
    pub(crate) comment: Option<String>,
}

impl Rule {
    /// `MATCHES STMTS`, no comment.
    pub(crate) fn new(matches: Vec<Match>, stmts: Vec<Stmt>) -> Rule {
        Rule {
            matches,
            stmts,
            comment: None,
        }
    }

    /// `MATCHES counter VERDICT comment "COMMENT"`.
    pub(crate) fn counted(matches: Vec<Match>, verdict: Verdict, comment: &str) -> Rule {
        Rule {
            matches,
            stmts: vec![Stmt::counter(), Stmt::Verdict(verdict)],
            comment: Some(comment.to_string()),
        }
    }

    /// The packets and bytes of its first counter, if it has one.
    pub(crate) fn counter(&self) -> Option<(u64, u64)> {
        self.stmts.iter().find_map(|s| match s {
            Stmt::Counter { packets, bytes } => Some((*packets, *bytes)),
            _ => None,
        })
    }
}

impl Stmt {
    /// A counter at zero.
    pub(crate) fn counter() -> Stmt {
        Stmt::Counter {
            packets: 0,
            bytes: 0,
        }
    }
}

/// A named set or map: `set NAME { type KEY [: DATA]; flags ...; timeout T; }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetDef {
    /// The name.
    pub(crate) name: String,
    /// The key's types, concatenated.
    pub(crate) key: Vec<DataType>,
    /// A map's data types, concatenated; empty for a set.
    pub(crate) data: Vec<DataType>,
    /// `flags dynamic`: rules add elements (`update`).
    pub(crate) dynamic: bool,
    /// `flags timeout` with this default timeout for elements.
    pub(crate) timeout: Option<Duration>,
    /// `size N`, as the kernel reports it.
    pub(crate) size: Option<u32>,
}
