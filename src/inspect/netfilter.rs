//! A node's netfilter state as plain structs: its nftables ruleset, printed
//! as `nft list ruleset` prints it (with counters), and its connection
//! tracking table, printed as `conntrack -L` prints it, with the NAT
//! mappings in it.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// A node's nftables ruleset: every table, of every family.
///
/// `Display` prints it as `nft list ruleset` does, set elements left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ruleset {
    /// The tables, in the kernel's order.
    pub tables: Vec<NftTable>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NftTable {
    /// `inet`, `ip`, `ip6`, `arp`, `bridge` or `netdev`.
    pub family: String,
    /// The table's name.
    pub name: String,
    /// Its named sets and maps.
    pub sets: Vec<NftSet>,
    /// Its chains, in the kernel's order.
    pub chains: Vec<NftChain>,
}

/// A named set or map.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NftSet {
    /// The name.
    pub name: String,
    /// Whether it maps keys to data.
    pub is_map: bool,
    /// Its declaration, line by line (`type ...`, `flags ...`, `timeout ...`).
    pub declaration: Vec<String>,
}

/// A chain and its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NftChain {
    /// The name.
    pub name: String,
    /// A base chain's `type .. hook .. priority ..; policy ..;`.
    pub base: Option<String>,
    /// The rules, in order.
    pub rules: Vec<NftRule>,
}

/// A rule as the kernel holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NftRule {
    /// Its handle.
    pub handle: u64,
    /// The rule in `nft` syntax, counter and comment included; a rule this
    /// crate cannot read is its list of expressions (`[ meta cmp ... ]`).
    pub text: String,
    /// Its comment.
    pub comment: Option<String>,
    /// Packets its first counter counted.
    pub packets: Option<u64>,
    /// Bytes its first counter counted.
    pub bytes: Option<u64>,
}

impl Ruleset {
    /// Whether the node has no table at all.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The table `name` of `family` (`"inet"`), if the node has it.
    pub fn table(&self, family: &str, name: &str) -> Option<&NftTable> {
        self.tables
            .iter()
            .find(|t| t.family == family && t.name == name)
    }

    /// Every rule with its table and chain names: (table, chain, rule).
    pub fn rules(&self) -> impl Iterator<Item = (&str, &str, &NftRule)> {
        self.tables.iter().flat_map(|t| {
            t.chains.iter().flat_map(move |c| {
                c.rules
                    .iter()
                    .map(move |r| (t.name.as_str(), c.name.as_str(), r))
            })
        })
    }
}

impl NftTable {
    pub(crate) fn new(family: String, name: &str) -> NftTable {
        NftTable {
            family,
            name: name.to_string(),
            sets: Vec::new(),
            chains: Vec::new(),
        }
    }

    /// The chain called `name`.
    pub fn chain(&self, name: &str) -> Option<&NftChain> {
        self.chains.iter().find(|c| c.name == name)
    }
}

impl NftSet {
    pub(crate) fn new(name: &str, is_map: bool, declaration: Vec<String>) -> NftSet {
        NftSet {
            name: name.to_string(),
            is_map,
            declaration,
        }
    }
}

impl NftChain {
    pub(crate) fn new(name: &str, base: Option<String>) -> NftChain {
        NftChain {
            name: name.to_string(),
            base,
            rules: Vec::new(),
        }
    }
}

impl NftRule {
    pub(crate) fn new(
        handle: u64,
        text: String,
        comment: Option<String>,
        packets: Option<u64>,
        bytes: Option<u64>,
    ) -> NftRule {
        NftRule {
            handle,
            text,
            comment,
            packets,
            bytes,
        }
    }
}

impl fmt::Display for Ruleset {
    /// `nft list ruleset`, tabs and all.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tables {
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl fmt::Display for NftTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "table {} {} {{", self.family, self.name)?;
        let mut first = true;
        let mut gap = |f: &mut fmt::Formatter<'_>| {
            let r = if first { Ok(()) } else { writeln!(f) };
            first = false;
            r
        };
        for s in &self.sets {
            gap(f)?;
            let kind = if s.is_map { "map" } else { "set" };
            writeln!(f, "\t{kind} {} {{", s.name)?;
            for line in &s.declaration {
                writeln!(f, "\t\t{line}")?;
            }
            writeln!(f, "\t}}")?;
        }
        for c in &self.chains {
            gap(f)?;
            writeln!(f, "\tchain {} {{", c.name)?;
            if let Some(base) = &c.base {
                writeln!(f, "\t\t{base}")?;
            }
            for r in &c.rules {
                writeln!(f, "\t\t{}", r.text)?;
            }
            writeln!(f, "\t}}")?;
        }
        writeln!(f, "}}")
    }
}

/// One end of a connection in one direction: addresses and ports (or the
/// ICMP id, as the source port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Tuple {
    /// The source address.
    pub src: IpAddr,
    /// The destination address.
    pub dst: IpAddr,
    /// The source port (the ICMP echo id for ICMP).
    pub sport: Option<u16>,
    /// The destination port.
    pub dport: Option<u16>,
}

/// One entry of the connection tracking table (`conntrack -L`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConntrackEntry {
    /// The transport protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    pub proto: u8,
    /// The first packet's direction.
    pub original: Tuple,
    /// What replies look like, NAT applied: for source NAT, `reply.dst`
    /// and `reply.dport` are the outside address and port.
    pub reply: Tuple,
    /// The `IPS_*` status bits.
    pub status: u32,
    /// How long the entry lives on without traffic.
    pub timeout: Option<Duration>,
    /// The TCP state (`ESTABLISHED`, `SYN_SENT`...), for TCP.
    pub tcp_state: Option<String>,
}

/// A source NAT mapping in use: an inside endpoint, the outside endpoint it
/// was given, and the remote endpoint it talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NatMapping {
    /// The transport protocol number.
    pub proto: u8,
    /// The inside address and port.
    pub inside: SocketAddr,
    /// The outside address and port the NAT gave it.
    pub outside: SocketAddr,
    /// The remote address and port: the host that answers, after any
    /// destination NAT (for a hairpinned connection, the inside host behind
    /// the outside endpoint the inside one sent to).
    pub remote: SocketAddr,
}

/// `IPS_SEEN_REPLY`.
const SEEN_REPLY: u32 = 1 << 1;
/// `IPS_ASSURED`.
const ASSURED: u32 = 1 << 2;
/// `IPS_SRC_NAT`.
const SRC_NAT: u32 = 1 << 4;
/// `IPS_DST_NAT`.
const DST_NAT: u32 = 1 << 5;

impl ConntrackEntry {
    /// Whether the connection's source was translated (SNAT, masquerade).
    pub fn is_snat(&self) -> bool {
        self.status & SRC_NAT != 0
    }

    /// Whether its destination was translated (DNAT, port forwarding).
    pub fn is_dnat(&self) -> bool {
        self.status & DST_NAT != 0
    }

    /// The source NAT mapping of the entry, if its source was translated
    /// and it has ports.
    pub fn mapping(&self) -> Option<NatMapping> {
        if !self.is_snat() {
            return None;
        }
        Some(NatMapping {
            proto: self.proto,
            inside: SocketAddr::new(self.original.src, self.original.sport?),
            outside: SocketAddr::new(self.reply.dst, self.reply.dport?),
            // The reply's source: the host that answers, also when the
            // destination was translated too (a hairpinned connection),
            // where the original destination is the address before DNAT.
            remote: SocketAddr::new(self.reply.src, self.reply.sport?),
        })
    }
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        132 => "sctp".into(),
        p => format!("unknown({p})"),
    }
}

impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "src={} dst={}", self.src, self.dst)?;
        if let Some(p) = self.sport {
            write!(f, " sport={p}")?;
        }
        if let Some(p) = self.dport {
            write!(f, " dport={p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConntrackEntry {
    /// `conntrack -L` style: `udp 17 29 src=.. dst=.. sport=.. dport=..
    /// [UNREPLIED] src=.. dst=.. sport=.. dport=.. [ASSURED] snat`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<8} {} ", proto_name(self.proto), self.proto)?;
        if let Some(t) = self.timeout {
            write!(f, "{} ", t.as_secs())?;
        }
        if let Some(s) = &self.tcp_state {
            write!(f, "{s} ")?;
        }
        write!(f, "{}", self.original)?;
        if self.status & SEEN_REPLY == 0 {
            write!(f, " [UNREPLIED]")?;
        }
        write!(f, " {}", self.reply)?;
        if self.status & ASSURED != 0 {
            write!(f, " [ASSURED]")?;
        }
        if self.is_snat() {
            write!(f, " snat")?;
        }
        if self.is_dnat() {
            write!(f, " dnat")?;
        }
        Ok(())
    }
}

impl fmt::Display for NatMapping {
    /// `udp 198.51.100.1:4000 -> 203.0.113.1:4000 (to 203.0.113.10:3478)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {} (to {})",
            proto_name(self.proto),
            self.inside,
            self.outside,
            self.remote
        )
    }
}

/// A node's ruleset and connection tracking table, as a failed assertion
/// shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetfilterReport {
    /// The node.
    pub node: String,
    /// Its nftables ruleset.
    pub ruleset: Ruleset,
    /// Its connection tracking entries.
    pub conntrack: Vec<ConntrackEntry>,
}

impl NetfilterReport {
    /// A report of `node`'s ruleset and entries.
    pub fn new(node: impl Into<String>, ruleset: Ruleset, conntrack: Vec<ConntrackEntry>) -> Self {
        NetfilterReport {
            node: node.into(),
            ruleset,
            conntrack,
        }
    }

    /// Whether there is nothing to show: no table, no entry.
    pub fn is_empty(&self) -> bool {
        self.ruleset.is_empty() && self.conntrack.is_empty()
    }
}

impl fmt::Display for NetfilterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "node {} netfilter:", self.node)?;
        writeln!(f, "  $ nft list ruleset")?;
        for line in self.ruleset.to_string().lines() {
            writeln!(f, "  {}", line.replace('\t', "    "))?;
        }
        writeln!(f, "  $ conntrack -L")?;
        for e in &self.conntrack {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}
