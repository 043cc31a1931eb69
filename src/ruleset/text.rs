//! The `nft` syntax of the model, as `nft list ruleset` (nftables 1.0)
//! prints it: rules with their implicit dependencies left out (`meta
//! l4proto udp udp dport 53` prints `udp dport 53`; the `meta nfproto ipv4`
//! before `ip saddr` in an `inet` table is never written), standard
//! priorities by name (`filter - 10`, `srcnat + 1`), set declarations.

use std::fmt::Write;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use super::{
    ChainKind, CtState, Field, Hook, Limit, Match, NatFlags, NatKind, NatStmt, NatTo, PortRange,
    Reject, Rule, SetDef, Stmt, TableFamily, Verdict,
};
use crate::vocab::Family;

impl TableFamily {
    /// The family as `nft` writes it: `inet`, `ip`, `ip6`, `bridge`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TableFamily::Inet => "inet",
            TableFamily::Ip => "ip",
            TableFamily::Ip6 => "ip6",
            TableFamily::Bridge => "bridge",
        }
    }
}

impl std::fmt::Display for TableFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Hook {
    /// The hook's name in `nft` syntax.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }
}

impl ChainKind {
    /// The name the kernel knows the type by.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ChainKind::Filter => "filter",
            ChainKind::Nat => "nat",
        }
    }
}

impl Verdict {
    /// `accept` or `drop`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Drop => "drop",
        }
    }
}

/// A priority as `nft` prints it in a table of `family`: the standard name
/// within 10 of it (`filter`, `filter - 10`, `srcnat + 1`), where that name
/// is valid on the hook (`dstnat` on prerouting, `srcnat` on postrouting),
/// else the number. The bridge family has names of its own.
pub(crate) fn priority(family: TableFamily, hook: Hook, prio: i32) -> String {
    const STD: [(&str, i32); 6] = [
        ("raw", -300),
        ("mangle", -150),
        ("dstnat", -100),
        ("filter", 0),
        ("security", 50),
        ("srcnat", 100),
    ];
    const BRIDGE: [(&str, i32); 4] = [
        ("dstnat", -300),
        ("filter", -200),
        ("out", 100),
        ("srcnat", 300),
    ];
    let names: &[(&str, i32)] = match family {
        TableFamily::Bridge => &BRIDGE,
        TableFamily::Inet | TableFamily::Ip | TableFamily::Ip6 => &STD,
    };
    for &(name, value) in names {
        if let Some(text) = near(name, value, prio) {
            let valid = match name {
                "dstnat" => hook == Hook::Prerouting,
                "srcnat" => hook == Hook::Postrouting,
                "out" => hook == Hook::Output,
                _ => true,
            };
            if !valid {
                break;
            }
            return text;
        }
    }
    prio.to_string()
}

/// `prio` as `nft` writes it by the named priority `name` (`value`) when
/// within 10 of it: `filter`, `filter + 3`, `srcnat - 1`.
pub(crate) fn near(name: &str, value: i32, prio: i32) -> Option<String> {
    // In i64: a priority may be any i32, and i32::MIN - 10 overflows.
    match i64::from(prio) - i64::from(value) {
        0 => Some(name.to_string()),
        d @ 1..=10 => Some(format!("{name} + {d}")),
        d @ -10..=-1 => Some(format!("{name} - {}", -d)),
        _ => None,
    }
}

/// `type filter hook input priority filter; policy accept;`
#[cfg(test)]
pub(crate) fn chain_header(family: TableFamily, base: &super::BaseChain) -> String {
    format!(
        "type {} hook {} priority {}; policy {};",
        base.kind.name(),
        base.hook.name(),
        priority(family, base.hook, base.priority),
        base.policy.name()
    )
}

/// A duration as `nft` prints it: `30s`, `2m30s`, `1h`, `500ms`.
pub(crate) fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let parts = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    let mut rest = ms;
    for (unit, name) in parts {
        if rest >= unit {
            let _ = write!(out, "{}{name}", rest / unit);
            rest %= unit;
        }
    }
    out
}

/// The lines inside a set's block: `type ...`, `size ...`, `flags ...`,
/// `timeout ...`.
pub(crate) fn set_lines(set: &SetDef) -> Vec<String> {
    let types = |t: &[super::DataType]| t.iter().map(|d| d.name()).collect::<Vec<_>>().join(" . ");
    let mut lines = Vec::new();
    if set.data.is_empty() {
        lines.push(format!("type {}", types(&set.key)));
    } else {
        lines.push(format!("type {} : {}", types(&set.key), types(&set.data)));
    }
    if let Some(size) = set.size {
        lines.push(format!("size {size}"));
    }
    let mut flags = Vec::new();
    if set.dynamic {
        flags.push("dynamic");
    }
    if set.timeout.is_some() {
        flags.push("timeout");
    }
    if !flags.is_empty() {
        lines.push(format!("flags {}", flags.join(",")));
    }
    if let Some(t) = set.timeout {
        lines.push(format!("timeout {}", duration(t)));
    }
    lines
}

/// `set NAME` or `map NAME`.
#[cfg(test)]
pub(crate) fn set_keyword(set: &SetDef) -> &'static str {
    if set.data.is_empty() {
        "set"
    } else {
        "map"
    }
}

/// The name `nft` gives transport protocol `p`.
pub(crate) fn l4proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        2 => "igmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        33 => "dccp".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        58 => "ipv6-icmp".into(),
        132 => "sctp".into(),
        136 => "udplite".into(),
        p => p.to_string(),
    }
}

/// The name `nft` gives ICMPv6 type `t`, or its number.
fn icmpv6_type_name(t: u8) -> String {
    match t {
        1 => "destination-unreachable".into(),
        2 => "packet-too-big".into(),
        3 => "time-exceeded".into(),
        4 => "parameter-problem".into(),
        128 => "echo-request".into(),
        129 => "echo-reply".into(),
        130 => "mld-listener-query".into(),
        131 => "mld-listener-report".into(),
        132 => "mld-listener-done".into(),
        133 => "nd-router-solicit".into(),
        134 => "nd-router-advert".into(),
        135 => "nd-neighbor-solicit".into(),
        136 => "nd-neighbor-advert".into(),
        137 => "nd-redirect".into(),
        138 => "router-renumbering".into(),
        141 => "ind-neighbor-solicit".into(),
        142 => "ind-neighbor-advert".into(),
        143 => "mld2-listener-report".into(),
        t => t.to_string(),
    }
}

/// Whether a field reads the transport header.
fn is_transport(f: &Field) -> bool {
    matches!(f, Field::Sport | Field::Dport)
}

/// Whether something after the matches reads the transport header: then
/// `meta l4proto tcp` (or udp) is the dependency of `tcp dport` and `nft`
/// leaves it out.
fn reads_transport(rule: &Rule, from: usize) -> bool {
    let in_match = rule.matches[from..].iter().any(|m| match m {
        Match::Sport(_) | Match::Dport(_) => true,
        Match::InSet { keys, .. } | Match::NotInSet { keys, .. } => keys.iter().any(is_transport),
        _ => false,
    });
    let in_stmt = rule.stmts.iter().any(|s| match s {
        Stmt::Update { key, data, .. } | Stmt::Delete { key, data, .. } => {
            key.iter().chain(data).any(is_transport)
        }
        Stmt::Nat(NatStmt {
            to: NatTo::Map { key, .. },
            ..
        }) => key.iter().any(is_transport),
        _ => false,
    });
    in_match || in_stmt
}

/// `ip saddr`, `udp dport`, `ct original proto-src`: a field, with `l4`
/// the protocol the rule matched (for `tcp`/`udp` instead of `th`).
fn field(f: &Field, l4: Option<u8>) -> String {
    let th = match l4 {
        Some(6) => "tcp",
        Some(17) => "udp",
        _ => "th",
    };
    let ip = |fam: &Family| match fam {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    };
    match f {
        Field::Sport => format!("{th} sport"),
        Field::Dport => format!("{th} dport"),
        Field::Saddr(fam) => format!("{} saddr", ip(fam)),
        Field::Daddr(fam) => format!("{} daddr", ip(fam)),
        Field::CtOriginalSaddr(fam) => format!("ct original {} saddr", ip(fam)),
        Field::CtOriginalProtoSrc => "ct original proto-src".into(),
        Field::CtReplySaddr(fam) => format!("ct reply {} saddr", ip(fam)),
        Field::CtReplyProtoSrc => "ct reply proto-src".into(),
    }
}

/// Fields joined by ` . `.
/// `update @SET { KEY : DATA }` or `delete ...` (`op`); a set's without
/// `: DATA`.
fn dynset(op: &str, set: &str, key: &[Field], data: &[Field], l4: Option<u8>) -> String {
    if data.is_empty() {
        format!("{op} @{set} {{ {} }}", concat(key, l4))
    } else {
        format!(
            "{op} @{set} {{ {} : {} }}",
            concat(key, l4),
            concat(data, l4)
        )
    }
}

fn concat(fields: &[Field], l4: Option<u8>) -> String {
    fields
        .iter()
        .map(|f| field(f, l4))
        .collect::<Vec<_>>()
        .join(" . ")
}

/// A network as `nft` prints it: the address alone for a host prefix.
fn net(n: &IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        format!("{}/{}", n.network(), n.prefix_len())
    }
}

fn ports(p: &PortRange) -> String {
    if p.lo == p.hi {
        p.lo.to_string()
    } else {
        format!("{}-{}", p.lo, p.hi)
    }
}

/// The names of the bits of `ct state`, in `nft`'s order.
const CT_STATES: [(u32, &str); 5] = [
    (CtState::INVALID.0, "invalid"),
    (CtState::ESTABLISHED.0, "established"),
    (CtState::RELATED.0, "related"),
    (CtState::NEW.0, "new"),
    (CtState::UNTRACKED.0, "untracked"),
];

/// The names of the bits of `ct status` (`IPS_*`).
const CT_STATUS: [(u32, &str); 7] = [
    (1, "expected"),
    (2, "seen-reply"),
    (4, "assured"),
    (8, "confirmed"),
    (16, "snat"),
    (32, "dnat"),
    (512, "dying"),
];

/// The bits of `value` by name, comma-separated; unnamed bits in hex.
fn bits(value: u32, names: &[(u32, &str)]) -> String {
    let mut out: Vec<String> = names
        .iter()
        .filter(|(b, _)| value & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let rest = names.iter().fold(value, |v, (b, _)| v & !b);
    if rest != 0 {
        out.push(format!("0x{rest:x}"));
    }
    out.join(",")
}

fn flags(f: &NatFlags) -> String {
    let mut out = Vec::new();
    if f.random {
        out.push("random");
    }
    if f.fully_random {
        out.push("fully-random");
    }
    if f.persistent {
        out.push("persistent");
    }
    if out.is_empty() {
        String::new()
    } else {
        format!(" {}", out.join(","))
    }
}

fn limit(l: &Limit) -> String {
    let unit = match l.unit_secs {
        1 => "second",
        60 => "minute",
        3600 => "hour",
        86400 => "day",
        _ => "?",
    };
    let over = if l.over { "over " } else { "" };
    let burst = if l.burst == 5 {
        String::new()
    } else {
        format!(" burst {} packets", l.burst)
    };
    format!("limit rate {over}{}/{unit}{burst}", l.rate)
}

fn reject(r: &Reject) -> String {
    match r {
        Reject::PortUnreachable => "reject".into(),
        Reject::HostUnreachable => "reject with icmpx host-unreachable".into(),
        Reject::AdminProhibited => "reject with icmpx admin-prohibited".into(),
        Reject::NoRoute => "reject with icmpx no-route".into(),
        Reject::TcpReset => "reject with tcp reset".into(),
    }
}

fn nat(n: &NatStmt, l4: Option<u8>) -> String {
    let kind = match n.kind {
        NatKind::Snat => "snat",
        NatKind::Dnat => "dnat",
    };
    let fam = match n.family {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    };
    let to = match &n.to {
        NatTo::Addr { min, max, ports: p } => {
            // With ports, each IPv6 address of a range is bracketed.
            let one = |a: &IpAddr| match (p, a) {
                (Some(_), IpAddr::V6(_)) => format!("[{a}]"),
                _ => a.to_string(),
            };
            let addr = match max {
                Some(max) => format!("{}-{}", one(min), one(max)),
                None => one(min),
            };
            match p {
                None => addr,
                Some(p) => format!("{addr}:{}", ports(p)),
            }
        }
        NatTo::Map { key, map } => format!("{} map @{map}", concat(key, l4)),
    };
    format!("{kind} {fam} to {to}{}", flags(&n.flags))
}

/// A rule's text as `nft list ruleset` prints it, without indentation.
pub(crate) fn rule(r: &Rule) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut l4: Option<u8> = None;
    for (i, m) in r.matches.iter().enumerate() {
        match m {
            Match::NfProto(f) => words.push(format!(
                "meta nfproto {}",
                match f {
                    Family::V4 => "ipv4",
                    Family::V6 => "ipv6",
                }
            )),
            Match::Saddr(n) => words.push(format!(
                "{} {}",
                field(&Field::Saddr(Family::of(n.addr())), l4),
                net(n)
            )),
            Match::Daddr(n) => words.push(format!(
                "{} {}",
                field(&Field::Daddr(Family::of(n.addr())), l4),
                net(n)
            )),
            Match::Iifname(name) => words.push(format!("iifname \"{name}\"")),
            Match::Oifname(name) => words.push(format!("oifname \"{name}\"")),
            Match::L4Proto(p) => {
                if matches!(p, 6 | 17) && reads_transport(r, i + 1) {
                    l4 = Some(*p);
                } else {
                    words.push(format!("meta l4proto {}", l4proto_name(*p)));
                }
            }
            Match::Icmpv6Type(t) => words.push(format!("icmpv6 type {}", icmpv6_type_name(*t))),
            Match::Sport(p) => words.push(format!("{} {}", field(&Field::Sport, l4), ports(p))),
            Match::Dport(p) => words.push(format!("{} {}", field(&Field::Dport, l4), ports(p))),
            Match::CtState(s) => words.push(format!("ct state {}", bits(s.0, &CT_STATES))),
            Match::CtStatus(s) => words.push(format!("ct status {}", bits(*s, &CT_STATUS))),
            Match::InSet { keys, set } => words.push(format!("{} @{set}", concat(keys, l4))),
            Match::NotInSet { keys, set } => words.push(format!("{} != @{set}", concat(keys, l4))),
        }
    }
    for s in &r.stmts {
        words.push(match s {
            Stmt::Counter { packets, bytes } => format!("counter packets {packets} bytes {bytes}"),
            Stmt::Limit(l) => limit(l),
            Stmt::Update { set, key, data } => dynset("update", set, key, data, l4),
            Stmt::Delete { set, key, data } => dynset("delete", set, key, data, l4),
            Stmt::Verdict(v) => v.name().to_string(),
            Stmt::Reject(rj) => reject(rj),
            Stmt::Nat(n) => nat(n, l4),
            Stmt::Masquerade { ports: p, flags: f } => match p {
                Some(p) => format!("masquerade to :{}{}", ports(p), flags(f)),
                None => format!("masquerade{}", flags(f)),
            },
        });
    }
    if let Some(c) = &r.comment {
        words.push(format!("comment \"{c}\""));
    }
    words.join(" ")
}
