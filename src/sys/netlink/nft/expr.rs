//! Rules as nf_tables expressions: the list of expressions (the kernel's
//! register machine) that says what a [`Rule`] says, written the way `nft`
//! 1.0 writes the same rule, attribute for attribute, so that `nft list
//! ruleset` prints it back (checked byte for byte against `nft --debug=mnl`
//! in `tests_encoding.rs`). The statements after the matches are in
//! `stmt.rs`.
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
//!
//! Registers: data registers are 16 bytes (`NFT_REG_1`..`NFT_REG_4`) or,
//! for concatenations, 4-byte slots (`NFT_REG32_00`..); a value at slot `s`
//! is named `NFT_REG_n` when it starts a 16-byte register, as `nft` does.

use std::net::IpAddr;

use ipnet::IpNet;

use super::consts::*;
use super::msg::Attrs;
use super::stmt::{dynset, limit, masquerade, nat, reject};
use super::Family;
use crate::ruleset::{Field, Match, PortRange, Rule, Stmt, Verdict};
use crate::vocab::Family as Ip;

/// The register that holds the value at 4-byte slot `slot`.
pub(super) fn reg_of_slot(slot: u32) -> u32 {
    if slot % 4 == 0 {
        NFT_REG_1 + slot / 4
    } else {
        NFT_REG32_00 + slot
    }
}

/// The 4-byte slot register `reg` starts at.
pub(super) fn slot_of_reg(reg: u32) -> Option<u32> {
    match reg {
        1..=4 => Some((reg - 1) * 4),
        8..=23 => Some(reg - NFT_REG32_00),
        _ => None,
    }
}

/// How many 4-byte slots a value of `len` bytes takes.
pub(super) fn slots(len: usize) -> u32 {
    len.div_ceil(4) as u32
}

/// Looks up the batch id of a set made in the same transaction.
pub(super) type SetIds<'a> = &'a dyn Fn(&str) -> Option<u32>;

/// One expression: a list element holding its name and its attributes.
pub(super) fn expr(out: &mut Attrs, name: &str, data: impl FnOnce(&mut Attrs)) {
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

/// `payload load LENb @ BASE header + OFFSET => reg`.
fn payload(out: &mut Attrs, base: u32, offset: u32, len: u32, dreg: u32) {
    expr(out, "payload", |d| {
        d.u32_be(NFTA_PAYLOAD_DREG, dreg);
        d.u32_be(NFTA_PAYLOAD_BASE, base);
        d.u32_be(NFTA_PAYLOAD_OFFSET, offset);
        d.u32_be(NFTA_PAYLOAD_LEN, len);
    });
}

/// `ct load KEY => reg [, dir DIR]`.
fn ct(out: &mut Attrs, key: u32, dreg: u32, dir: Option<u8>) {
    expr(out, "ct", |d| {
        d.u32_be(NFTA_CT_KEY, key);
        d.u32_be(NFTA_CT_DREG, dreg);
        if let Some(dir) = dir {
            d.bytes(NFTA_CT_DIRECTION, &[dir]);
        }
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

/// `cmp OP reg 1 VALUE`.
fn cmp(out: &mut Attrs, op: u32, value: &[u8]) {
    expr(out, "cmp", |d| {
        d.u32_be(NFTA_CMP_SREG, NFT_REG_1);
        d.u32_be(NFTA_CMP_OP, op);
        d.nested(NFTA_CMP_DATA, |v| {
            v.bytes(NFTA_DATA_VALUE, value);
        });
    });
}

/// `cmp eq reg 1 VALUE`.
fn cmp_eq(out: &mut Attrs, value: &[u8]) {
    cmp(out, NFT_CMP_EQ, value);
}

/// `immediate reg DREG VALUE`.
pub(super) fn immediate(out: &mut Attrs, dreg: u32, value: &[u8]) {
    expr(out, "immediate", |d| {
        d.u32_be(NFTA_IMMEDIATE_DREG, dreg);
        d.nested(NFTA_IMMEDIATE_DATA, |data| {
            data.bytes(NFTA_DATA_VALUE, value);
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

impl Verdict {
    /// The kernel's code for it: `NF_DROP` 0, `NF_ACCEPT` 1.
    pub(super) fn code(self) -> u32 {
        match self {
            Verdict::Drop => 0,
            Verdict::Accept => 1,
        }
    }
}

/// The `meta nfproto` check an `inet` table needs before reading a header
/// of family `ip`; nothing in a table of that family; an error in a table
/// of the other family.
fn family_dependency(out: &mut Attrs, table: Family, ip: Ip, what: &str) -> Result<(), String> {
    let (want, name) = match ip {
        Ip::V4 => (Family::Ip, "ip"),
        Ip::V6 => (Family::Ip6, "ip6"),
    };
    match table {
        Family::Inet => {
            meta(out, NFT_META_NFPROTO);
            cmp_eq(out, &[want.nfproto()]);
            Ok(())
        }
        f if f == want => Ok(()),
        f => Err(format!("`{name} {what}` in a table of family {f}")),
    }
}

/// `icmpv6 type T` as `nft` encodes it: in a `bridge` table after an
/// `ether type ip6` check, in an `inet` table after `meta nfproto ipv6`,
/// then `meta l4proto ipv6-icmp` and the first byte of the transport
/// header.
fn icmpv6_type(out: &mut Attrs, family: Family, t: u8) -> Result<(), String> {
    match family {
        Family::Bridge => {
            payload(out, NFT_PAYLOAD_LL_HEADER, ETHER_TYPE_OFFSET, 2, NFT_REG_1);
            cmp_eq(out, &ETHER_TYPE_IPV6.to_be_bytes());
        }
        f => family_dependency(out, f, Ip::V6, "icmpv6 type")?,
    }
    meta(out, NFT_META_L4PROTO);
    cmp_eq(out, &[IPPROTO_ICMPV6]);
    payload(out, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
    cmp_eq(out, &[t]);
    Ok(())
}

/// An address match: the family dependency, the load of the address
/// field, the prefix's mask when it is shorter than the address, the
/// comparison.
fn address(out: &mut Attrs, family: Family, net: &IpNet, source: bool) -> Result<(), String> {
    let ip = Ip::of(net.addr());
    let what = format!("{} {net}", if source { "saddr" } else { "daddr" });
    family_dependency(out, family, ip, &what)?;
    let (addr, netmask) = match (net.network(), net.netmask()) {
        (IpAddr::V4(a), IpAddr::V4(m)) => (a.octets().to_vec(), m.octets().to_vec()),
        (IpAddr::V6(a), IpAddr::V6(m)) => (a.octets().to_vec(), m.octets().to_vec()),
        _ => unreachable!("an IpNet's network and netmask share its family"),
    };
    let field = if source {
        Field::Saddr(ip)
    } else {
        Field::Daddr(ip)
    };
    let (_, offset, _) = payload_of(field).expect("addresses are in the network header");
    payload(
        out,
        NFT_PAYLOAD_NETWORK_HEADER,
        offset,
        addr.len() as u32,
        NFT_REG_1,
    );
    if net.prefix_len() < net.max_prefix_len() {
        mask(out, &netmask);
    }
    cmp_eq(out, &addr);
    Ok(())
}

/// Where a field is in the packet: (base, offset, length), if it is in the
/// packet (not in the connection).
pub(super) fn payload_of(f: Field) -> Option<(u32, u32, u32)> {
    match f {
        Field::Sport => Some((NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2)),
        Field::Dport => Some((NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)),
        Field::Saddr(Ip::V4) => Some((NFT_PAYLOAD_NETWORK_HEADER, 12, 4)),
        Field::Daddr(Ip::V4) => Some((NFT_PAYLOAD_NETWORK_HEADER, 16, 4)),
        Field::Saddr(Ip::V6) => Some((NFT_PAYLOAD_NETWORK_HEADER, 8, 16)),
        Field::Daddr(Ip::V6) => Some((NFT_PAYLOAD_NETWORK_HEADER, 24, 16)),
        // Conntrack's fields.
        _ => None,
    }
}

/// Loads `fields` into consecutive slots from `slot`, after the family
/// dependency of the first header field that needs one; returns the slot
/// after the last.
pub(super) fn load_fields(
    out: &mut Attrs,
    family: Family,
    fields: &[Field],
    mut slot: u32,
) -> Result<u32, String> {
    let header_family = fields.iter().find_map(|f| match f {
        Field::Saddr(ip) | Field::Daddr(ip) => Some(*ip),
        _ => None,
    });
    if let Some(ip) = header_family {
        family_dependency(out, family, ip, "address in a set key")?;
    }
    for f in fields {
        let dreg = reg_of_slot(slot);
        match (f, payload_of(*f)) {
            (_, Some((base, offset, len))) => payload(out, base, offset, len, dreg),
            (Field::CtOriginalSaddr(Ip::V4), None) => ct(out, NFT_CT_SRC_IP, dreg, Some(0)),
            (Field::CtOriginalSaddr(Ip::V6), None) => ct(out, NFT_CT_SRC_IP6, dreg, Some(0)),
            (Field::CtOriginalProtoSrc, None) => ct(out, NFT_CT_PROTO_SRC, dreg, Some(0)),
            (Field::CtReplySaddr(Ip::V4), None) => ct(out, NFT_CT_SRC_IP, dreg, Some(1)),
            (Field::CtReplySaddr(Ip::V6), None) => ct(out, NFT_CT_SRC_IP6, dreg, Some(1)),
            (Field::CtReplyProtoSrc, None) => ct(out, NFT_CT_PROTO_SRC, dreg, Some(1)),
            _ => unreachable!("every field is in the packet or the connection"),
        }
        slot += slots(f.data_type().len());
    }
    Ok(slot)
}

/// How a lookup uses the set: data into a register, membership, or
/// absence.
#[derive(Clone, Copy)]
pub(super) enum Lookup {
    /// A map's data goes to this register.
    Data(u32),
    /// The key is an element.
    Member,
    /// The key is no element (`NFT_LOOKUP_F_INV`).
    NotMember,
}

/// `lookup reg SREG set NAME [dreg DREG] [flags INV]`.
pub(super) fn lookup(out: &mut Attrs, sreg: u32, how: Lookup, set: &str, ids: SetIds<'_>) {
    expr(out, "lookup", |d| {
        d.u32_be(NFTA_LOOKUP_SREG, sreg);
        if let Lookup::Data(dreg) = how {
            d.u32_be(NFTA_LOOKUP_DREG, dreg);
        }
        d.str(NFTA_LOOKUP_SET, set);
        if let Some(id) = ids(set) {
            d.u32_be(NFTA_LOOKUP_SET_ID, id);
        }
        if let Lookup::NotMember = how {
            d.u32_be(NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
        }
    });
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

/// A port match: one port, or a range as `>= lo` and `<= hi`.
fn port_match(out: &mut Attrs, field: Field, p: PortRange) {
    let (base, offset, len) = payload_of(field).expect("ports are in the transport header");
    payload(out, base, offset, len, NFT_REG_1);
    if p.lo == p.hi {
        cmp_eq(out, &p.lo.to_be_bytes());
    } else {
        cmp(out, NFT_CMP_GTE, &p.lo.to_be_bytes());
        cmp(out, NFT_CMP_LTE, &p.hi.to_be_bytes());
    }
}

/// `ct load KEY => reg 1; bitwise & BITS; cmp neq 0`: one of the bits is set.
fn ct_bits(out: &mut Attrs, key: u32, bits: u32) {
    ct(out, key, NFT_REG_1, None);
    // ct state and status are host-endian 32-bit values.
    mask(out, &bits.to_ne_bytes());
    cmp(out, NFT_CMP_NEQ, &[0; 4]);
}

fn encode_match(out: &mut Attrs, family: Family, m: &Match, ids: SetIds<'_>) -> Result<(), String> {
    match m {
        Match::NfProto(ip) => {
            meta(out, NFT_META_NFPROTO);
            cmp_eq(
                out,
                &[match ip {
                    Ip::V4 => Family::Ip.nfproto(),
                    Ip::V6 => Family::Ip6.nfproto(),
                }],
            );
        }
        Match::Saddr(net) => address(out, family, net, true)?,
        Match::Daddr(net) => address(out, family, net, false)?,
        Match::Iifname(name) => {
            let value = ifname(name)?;
            meta(out, NFT_META_IIFNAME);
            cmp_eq(out, &value);
        }
        Match::Oifname(name) => {
            let value = ifname(name)?;
            meta(out, NFT_META_OIFNAME);
            cmp_eq(out, &value);
        }
        Match::L4Proto(proto) => {
            meta(out, NFT_META_L4PROTO);
            cmp_eq(out, &[*proto]);
        }
        Match::Icmpv6Type(t) => icmpv6_type(out, family, *t)?,
        Match::Sport(p) => port_match(out, Field::Sport, *p),
        Match::Dport(p) => port_match(out, Field::Dport, *p),
        Match::CtState(s) => ct_bits(out, NFT_CT_STATE, s.0),
        Match::CtStatus(s) => ct_bits(out, NFT_CT_STATUS, *s),
        Match::InSet { keys, set } => {
            load_fields(out, family, keys, 0)?;
            lookup(out, reg_of_slot(0), Lookup::Member, set, ids);
        }
        Match::NotInSet { keys, set } => {
            load_fields(out, family, keys, 0)?;
            lookup(out, reg_of_slot(0), Lookup::NotMember, set, ids);
        }
    }
    Ok(())
}

pub(super) fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The `NFTA_RULE_EXPRESSIONS` list of `rule` in a table of `family`, or
/// why the rule cannot be written (an IPv6 address in an `ip` table, an
/// interface name too long). `ids` gives the batch ids of the sets made in
/// the same transaction.
pub(super) fn encode_rule(family: Family, rule: &Rule, ids: SetIds<'_>) -> Result<Attrs, String> {
    let mut out = Attrs::new();
    for m in &rule.matches {
        encode_match(&mut out, family, m, ids)?;
    }
    for s in &rule.stmts {
        match s {
            Stmt::Counter { .. } => counter(&mut out),
            Stmt::Limit(l) => limit(&mut out, l),
            Stmt::Update { set, key, data } => dynset(
                &mut out,
                family,
                (NFT_DYNSET_OP_UPDATE, set),
                key,
                data,
                ids,
            )?,
            Stmt::Delete { set, key, data } => dynset(
                &mut out,
                family,
                (NFT_DYNSET_OP_DELETE, set),
                key,
                data,
                ids,
            )?,
            Stmt::Verdict(v) => verdict(&mut out, *v),
            Stmt::Reject(r) => reject(&mut out, family, r)?,
            Stmt::Nat(n) => nat(&mut out, family, n, ids)?,
            Stmt::Masquerade { ports, flags } => masquerade(&mut out, ports, flags),
        }
    }
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
