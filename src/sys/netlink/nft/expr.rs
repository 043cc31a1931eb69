//! Rules as nf_tables expressions: what a [`Rule`] says, and the list of
//! expressions (the kernel's register machine) that says it, written the
//! way `nft` writes the same rule so that `nft list ruleset` prints it back.
//!
//! `ip daddr 198.51.100.0/24 counter drop` in an `inet` table becomes:
//!
//! ```text
//! [ meta load nfproto => reg 1 ]                      the inet dependency
//! [ cmp eq reg 1 0x02 ]                               NFPROTO_IPV4
//! [ payload load 4b @ network header + 16 => reg 1 ]  the destination
//! [ bitwise reg 1 = (reg 1 & 0x00ffffff) ^ 0x0 ]      the prefix's mask
//! [ cmp eq reg 1 0x006433c6 ]                         198.51.100.0
//! [ counter ]
//! [ immediate reg 0 drop ]                            the verdict
//! ```

use std::net::IpAddr;

use ipnet::IpNet;

use super::msg::Attrs;
use super::Family;

/// `NFTA_LIST_ELEM`: one element of a list attribute.
pub(super) const NFTA_LIST_ELEM: u16 = 1;
/// `NFTA_EXPR_NAME`: the expression's type, a string.
pub(super) const NFTA_EXPR_NAME: u16 = 1;
/// `NFTA_EXPR_DATA`: the expression's own attributes.
pub(super) const NFTA_EXPR_DATA: u16 = 2;

/// `NFTA_META_DREG`.
const NFTA_META_DREG: u16 = 1;
/// `NFTA_META_KEY`.
const NFTA_META_KEY: u16 = 2;
/// `NFT_META_IIFNAME`: the input interface's name, `IFNAMSIZ` bytes.
pub(super) const NFT_META_IIFNAME: u32 = 6;
/// `NFT_META_OIFNAME`: the output interface's name.
pub(super) const NFT_META_OIFNAME: u32 = 7;
/// `NFT_META_NFPROTO`: the packet's family (`NFPROTO_*`), one byte.
pub(super) const NFT_META_NFPROTO: u32 = 15;
/// `NFT_META_L4PROTO`: the transport protocol number, one byte.
pub(super) const NFT_META_L4PROTO: u32 = 16;

/// `NFTA_PAYLOAD_DREG`.
const NFTA_PAYLOAD_DREG: u16 = 1;
/// `NFTA_PAYLOAD_BASE`.
const NFTA_PAYLOAD_BASE: u16 = 2;
/// `NFTA_PAYLOAD_OFFSET`.
const NFTA_PAYLOAD_OFFSET: u16 = 3;
/// `NFTA_PAYLOAD_LEN`.
const NFTA_PAYLOAD_LEN: u16 = 4;
/// `NFT_PAYLOAD_NETWORK_HEADER`.
pub(super) const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
/// `NFT_PAYLOAD_TRANSPORT_HEADER`.
pub(super) const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;

/// `NFTA_CMP_SREG`.
const NFTA_CMP_SREG: u16 = 1;
/// `NFTA_CMP_OP`.
const NFTA_CMP_OP: u16 = 2;
/// `NFTA_CMP_DATA`.
const NFTA_CMP_DATA: u16 = 3;
/// `NFT_CMP_EQ`.
pub(super) const NFT_CMP_EQ: u32 = 0;

/// `NFTA_BITWISE_SREG`.
const NFTA_BITWISE_SREG: u16 = 1;
/// `NFTA_BITWISE_DREG`.
const NFTA_BITWISE_DREG: u16 = 2;
/// `NFTA_BITWISE_LEN`.
const NFTA_BITWISE_LEN: u16 = 3;
/// `NFTA_BITWISE_MASK`.
const NFTA_BITWISE_MASK: u16 = 4;
/// `NFTA_BITWISE_XOR`.
const NFTA_BITWISE_XOR: u16 = 5;

/// `NFTA_IMMEDIATE_DREG`.
const NFTA_IMMEDIATE_DREG: u16 = 1;
/// `NFTA_IMMEDIATE_DATA`.
const NFTA_IMMEDIATE_DATA: u16 = 2;

/// `NFTA_DATA_VALUE`: plain bytes.
const NFTA_DATA_VALUE: u16 = 1;
/// `NFTA_DATA_VERDICT`: a verdict.
const NFTA_DATA_VERDICT: u16 = 2;
/// `NFTA_VERDICT_CODE`.
const NFTA_VERDICT_CODE: u16 = 1;

/// `NFTA_COUNTER_BYTES`.
pub(super) const NFTA_COUNTER_BYTES: u16 = 1;
/// `NFTA_COUNTER_PACKETS`.
pub(super) const NFTA_COUNTER_PACKETS: u16 = 2;

/// `NFT_REG_VERDICT`: the register a verdict is written to.
pub(super) const NFT_REG_VERDICT: u32 = 0;
/// `NFT_REG_1`: the first 16-byte data register, the one `nft` uses.
pub(super) const NFT_REG_1: u32 = 1;

/// `NFTNL_UDATA_RULE_COMMENT`: the type of a comment in a rule's user data
/// (libnftnl's TLVs: type, length, value; the value NUL-terminated).
pub(super) const UDATA_RULE_COMMENT: u8 = 0;
/// The longest comment `nft` accepts (`NFTNL_UDATA_COMMENT_MAXLEN`).
pub(super) const COMMENT_MAX: usize = 128;

/// `IFNAMSIZ`: interface names are compared as this many bytes, NUL-padded.
const IFNAMSIZ: usize = 16;

/// The verdict of a rule, or the policy of a base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `accept` (`NF_ACCEPT`).
    Accept,
    /// `drop` (`NF_DROP`).
    Drop,
}

impl Verdict {
    /// The kernel's code for it: `NF_DROP` 0, `NF_ACCEPT` 1.
    pub(super) fn code(self) -> u32 {
        match self {
            Verdict::Drop => 0,
            Verdict::Accept => 1,
        }
    }
}

/// One condition of a rule; a rule matches when all of its conditions do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Match {
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
    /// `th sport N`: the source port, the first 2 bytes of the transport
    /// header (no protocol check, as in `nft`; add [`Match::L4Proto`]).
    Sport(u16),
    /// `th dport N`: the destination port, bytes 2-3 of the transport header.
    Dport(u16),
}

/// A rule: conditions, an optional counter, a verdict, a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The conditions, all of which must hold.
    pub(crate) exprs: Vec<Match>,
    /// Whether to count matching packets and bytes (`counter`).
    pub(crate) counter: bool,
    /// What to do with a matching packet.
    pub(crate) verdict: Verdict,
    /// A comment, shown by `nft list ruleset` and read back by
    /// [`Nft::list_rules`](super::Nft::list_rules).
    pub(crate) comment: Option<String>,
}

/// One expression: a list element holding its name and its attributes.
fn expr(out: &mut Attrs, name: &str, data: impl FnOnce(&mut Attrs)) {
    out.nested(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, name);
        e.nested(NFTA_EXPR_DATA, data);
    });
}

/// `meta load KEY => reg 1`.
fn meta(out: &mut Attrs, key: u32) {
    expr(out, "meta", |d| {
        d.u32_be(NFTA_META_KEY, key);
        d.u32_be(NFTA_META_DREG, NFT_REG_1);
    });
}

/// `payload load LENb @ BASE header + OFFSET => reg 1`.
fn payload(out: &mut Attrs, base: u32, offset: u32, len: u32) {
    expr(out, "payload", |d| {
        d.u32_be(NFTA_PAYLOAD_DREG, NFT_REG_1);
        d.u32_be(NFTA_PAYLOAD_BASE, base);
        d.u32_be(NFTA_PAYLOAD_OFFSET, offset);
        d.u32_be(NFTA_PAYLOAD_LEN, len);
    });
}

/// `bitwise reg 1 = (reg 1 & MASK) ^ 0`.
fn mask(out: &mut Attrs, mask: &[u8]) {
    expr(out, "bitwise", |d| {
        d.u32_be(NFTA_BITWISE_SREG, NFT_REG_1);
        d.u32_be(NFTA_BITWISE_DREG, NFT_REG_1);
        d.u32_be(NFTA_BITWISE_LEN, mask.len() as u32);
        d.nested(NFTA_BITWISE_MASK, |v| {
            v.bytes(NFTA_DATA_VALUE, mask);
        });
        d.nested(NFTA_BITWISE_XOR, |v| {
            v.bytes(NFTA_DATA_VALUE, &vec![0; mask.len()]);
        });
    });
}

/// `cmp eq reg 1 VALUE`.
fn cmp_eq(out: &mut Attrs, value: &[u8]) {
    expr(out, "cmp", |d| {
        d.u32_be(NFTA_CMP_SREG, NFT_REG_1);
        d.u32_be(NFTA_CMP_OP, NFT_CMP_EQ);
        d.nested(NFTA_CMP_DATA, |v| {
            v.bytes(NFTA_DATA_VALUE, value);
        });
    });
}

/// `counter`: starts at zero, so no attributes.
fn counter(out: &mut Attrs) {
    out.nested(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "counter");
    });
}

/// `immediate reg 0 VERDICT`.
fn verdict(out: &mut Attrs, verdict: Verdict) {
    expr(out, "immediate", |d| {
        d.u32_be(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
        d.nested(NFTA_IMMEDIATE_DATA, |data| {
            data.nested(NFTA_DATA_VERDICT, |v| {
                v.u32_be(NFTA_VERDICT_CODE, verdict.code());
            });
        });
    });
}

/// An address match: the `nfproto` dependency in an `inet` table, the
/// load of the address field, the prefix's mask when it is shorter than the
/// address, the comparison.
fn address(out: &mut Attrs, family: Family, net: &IpNet, source: bool) -> Result<(), String> {
    let (nfproto, offset, name) = match (net, source) {
        // IPv4 header: saddr at 12, daddr at 16.
        (IpNet::V4(_), true) => (Family::Ip, 12, "ip saddr"),
        (IpNet::V4(_), false) => (Family::Ip, 16, "ip daddr"),
        // IPv6 header: saddr at 8, daddr at 24.
        (IpNet::V6(_), true) => (Family::Ip6, 8, "ip6 saddr"),
        (IpNet::V6(_), false) => (Family::Ip6, 24, "ip6 daddr"),
    };
    match family {
        Family::Inet => {
            meta(out, NFT_META_NFPROTO);
            cmp_eq(out, &[nfproto.nfproto()]);
        }
        f if f == nfproto => {}
        f => return Err(format!("`{name} {net}` in a table of family {f}")),
    }
    let (addr, netmask) = match (net.network(), net.netmask()) {
        (IpAddr::V4(a), IpAddr::V4(m)) => (a.octets().to_vec(), m.octets().to_vec()),
        (IpAddr::V6(a), IpAddr::V6(m)) => (a.octets().to_vec(), m.octets().to_vec()),
        _ => unreachable!("an IpNet's network and netmask share its family"),
    };
    payload(out, NFT_PAYLOAD_NETWORK_HEADER, offset, addr.len() as u32);
    if net.prefix_len() < net.max_prefix_len() {
        mask(out, &netmask);
    }
    cmp_eq(out, &addr);
    Ok(())
}

/// An interface name as `nft` compares it: `IFNAMSIZ` bytes, NUL-padded.
fn ifname(name: &str) -> Result<Vec<u8>, String> {
    if name.is_empty() || name.len() >= IFNAMSIZ || name.contains('\0') {
        return Err(format!(
            "interface name {name:?}: 1 to {} bytes, no NUL",
            IFNAMSIZ - 1
        ));
    }
    let mut v = name.as_bytes().to_vec();
    v.resize(IFNAMSIZ, 0);
    Ok(v)
}

/// The `NFTA_RULE_EXPRESSIONS` list of `rule` in a table of `family`, or
/// why the rule cannot be written (an IPv6 address in an `ip` table, an
/// interface name too long).
pub(super) fn encode_rule(family: Family, rule: &Rule) -> Result<Attrs, String> {
    let mut out = Attrs::new();
    for m in &rule.exprs {
        match m {
            Match::Saddr(net) => address(&mut out, family, net, true)?,
            Match::Daddr(net) => address(&mut out, family, net, false)?,
            Match::Iifname(name) => {
                let value = ifname(name)?;
                meta(&mut out, NFT_META_IIFNAME);
                cmp_eq(&mut out, &value);
            }
            Match::Oifname(name) => {
                let value = ifname(name)?;
                meta(&mut out, NFT_META_OIFNAME);
                cmp_eq(&mut out, &value);
            }
            Match::L4Proto(proto) => {
                meta(&mut out, NFT_META_L4PROTO);
                cmp_eq(&mut out, &[*proto]);
            }
            Match::Sport(port) => {
                payload(&mut out, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
                cmp_eq(&mut out, &port.to_be_bytes());
            }
            Match::Dport(port) => {
                payload(&mut out, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
                cmp_eq(&mut out, &port.to_be_bytes());
            }
        }
    }
    if rule.counter {
        counter(&mut out);
    }
    verdict(&mut out, rule.verdict);
    Ok(out)
}

/// A comment as a rule's user data, in libnftnl's TLV format so that `nft`
/// shows it: type `NFTNL_UDATA_RULE_COMMENT`, length, the NUL-terminated text.
pub(super) fn encode_comment(comment: &str) -> Result<Vec<u8>, String> {
    if comment.len() > COMMENT_MAX || comment.contains('\0') {
        return Err(format!(
            "comment {comment:?}: at most {COMMENT_MAX} bytes, no NUL"
        ));
    }
    let mut v = vec![UDATA_RULE_COMMENT, (comment.len() + 1) as u8];
    v.extend_from_slice(comment.as_bytes());
    v.push(0);
    Ok(v)
}

/// The comment in a rule's user data, if it has one.
pub(super) fn decode_comment(udata: &[u8]) -> Option<String> {
    let mut rest = udata;
    while let [ty, len, tail @ ..] = rest {
        let len = usize::from(*len);
        let value = tail.get(..len)?;
        if *ty == UDATA_RULE_COMMENT {
            return Some(super::msg::attr_str(value));
        }
        rest = &tail[len..];
    }
    None
}
