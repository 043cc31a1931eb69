//! Expressions read back into the model of [`crate::ruleset`]: the rules
//! this crate writes, and rules `nft` writes for the same statements,
//! whatever table they are in. A rule with expressions outside the model
//! comes back as `None` and is listed by its expression names.
//!
//! The expressions are a register machine; reading them is following the
//! registers: a load puts a known field in a register, a `cmp`, `lookup` or
//! statement then says what is done with it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::consts::*;
use super::expr::{payload_of, slot_of_reg, slots};
use super::msg::{attr_str, attr_u64_be, attrs};
use super::Family;
use crate::ruleset::{
    CtState, Field, Limit, Match, NatFlags, NatKind, NatStmt, NatTo, PortRange, Reject, Rule, Stmt,
    Verdict,
};
use crate::vocab::Family as Ip;

/// One expression's attributes, by type.
struct Expr<'a> {
    name: String,
    data: HashMap<u16, &'a [u8]>,
}

impl Expr<'_> {
    fn u32(&self, ty: u16) -> Option<u32> {
        Some(u32::from_be_bytes(
            self.data.get(&ty)?.get(..4)?.try_into().ok()?,
        ))
    }
    fn u64(&self, ty: u16) -> Option<u64> {
        attr_u64_be(self.data.get(&ty)?)
    }
    fn str(&self, ty: u16) -> Option<String> {
        self.data.get(&ty).map(|v| attr_str(v))
    }
    fn u8(&self, ty: u16) -> Option<u8> {
        self.data.get(&ty)?.first().copied()
    }
    /// The `NFTA_DATA_VALUE` inside nested attribute `ty`.
    fn value(&self, ty: u16) -> Option<Vec<u8>> {
        attrs(self.data.get(&ty)?)
            .find(|(t, _)| *t == NFTA_DATA_VALUE)
            .map(|(_, v)| v.to_vec())
    }
}

/// The expressions of a `NFTA_RULE_EXPRESSIONS` list.
fn parse_list(list: &[u8]) -> Vec<Expr<'_>> {
    attrs(list)
        .filter(|(ty, _)| *ty == NFTA_LIST_ELEM)
        .map(|(_, elem)| {
            let mut name = String::new();
            let mut data = HashMap::new();
            for (ty, v) in attrs(elem) {
                match ty {
                    NFTA_EXPR_NAME => name = attr_str(v),
                    NFTA_EXPR_DATA => data.extend(attrs(v)),
                    _ => {}
                }
            }
            Expr { name, data }
        })
        .collect()
}

/// The names of the expressions of a list: `[ meta cmp payload ... ]`.
pub(super) fn names(list: &[u8]) -> String {
    let names: Vec<String> = parse_list(list).into_iter().map(|e| e.name).collect();
    format!("[ {} ]", names.join(" "))
}

/// What a register slot holds.
#[derive(Clone, Debug)]
enum Value {
    Meta(u32),
    /// A field of the packet whose place is known.
    Field(Field),
    Ct {
        key: u32,
        dir: Option<u8>,
    },
    Masked(Box<Value>, Vec<u8>),
    Imm(Vec<u8>),
    /// The first byte of an ICMPv6 header.
    Icmpv6Type,
    /// The type field of an Ethernet header.
    EtherType,
    /// A map's data, loaded by a lookup.
    MapData {
        key: Vec<Field>,
        map: String,
    },
}

/// A set's key and data lengths, to know how many fields a lookup reads.
pub(super) type SetLens<'a> = &'a dyn Fn(&str) -> Option<(u32, u32)>;

struct Reader<'s> {
    table: Family,
    regs: HashMap<u32, Value>,
    matches: Vec<Match>,
    stmts: Vec<Stmt>,
    /// The position in `matches` of a `meta nfproto` not yet known to be a
    /// dependency.
    nfproto_at: Option<usize>,
    /// An `ether type ip6` check seen, not yet known to be the dependency of
    /// an `icmpv6 type` (the model has no match of its own for it).
    ether_ip6: bool,
    /// A `cmp gte` waiting for its `cmp lte`: (field, low port).
    range_low: Option<(Field, u16)>,
    sets: SetLens<'s>,
}

impl Reader<'_> {
    /// The family of the last `meta nfproto` seen, else the table's.
    fn family(&self) -> Option<Ip> {
        if let Some(Match::NfProto(f)) = self.nfproto_at.and_then(|i| self.matches.get(i)) {
            return Some(*f);
        }
        match self.table {
            Family::Ip => Some(Ip::V4),
            Family::Ip6 => Some(Ip::V6),
            Family::Inet | Family::Bridge => None,
        }
    }

    /// A network header load is what the pending `meta nfproto` was for.
    fn absorb_dependency(&mut self) {
        if let Some(i) = self.nfproto_at.take() {
            self.matches.remove(i);
        }
    }

    fn field_of(&self, v: &Value) -> Option<Field> {
        match v {
            Value::Field(f) => Some(*f),
            Value::Ct { key, dir: Some(0) } => match *key {
                NFT_CT_SRC_IP => Some(Field::CtOriginalSaddr(Ip::V4)),
                NFT_CT_SRC_IP6 => Some(Field::CtOriginalSaddr(Ip::V6)),
                NFT_CT_PROTO_SRC => Some(Field::CtOriginalProtoSrc),
                _ => None,
            },
            Value::Ct { key, dir: Some(1) } => match *key {
                NFT_CT_SRC_IP => Some(Field::CtReplySaddr(Ip::V4)),
                NFT_CT_SRC_IP6 => Some(Field::CtReplySaddr(Ip::V6)),
                NFT_CT_PROTO_SRC => Some(Field::CtReplyProtoSrc),
                _ => None,
            },
            _ => None,
        }
    }

    /// The field at `base`/`offset`, `len` bytes or fewer (`nft` loads only
    /// the whole bytes of a prefix): ports, or addresses of the family the
    /// rule checked (or the table's).
    fn payload_field(&self, base: u32, offset: u32, len: u32) -> Option<Field> {
        let ip = self.family();
        [
            Field::Sport,
            Field::Dport,
            Field::Saddr(Ip::V4),
            Field::Daddr(Ip::V4),
            Field::Saddr(Ip::V6),
            Field::Daddr(Ip::V6),
        ]
        .into_iter()
        .find(|f| {
            let family_ok = match f {
                Field::Saddr(x) | Field::Daddr(x) => Some(*x) == ip,
                _ => true,
            };
            let Some((b, o, l)) = payload_of(*f) else {
                return false;
            };
            let shorter_ok = matches!(f, Field::Saddr(_) | Field::Daddr(_));
            family_ok && b == base && o == offset && (l == len || (shorter_ok && len < l))
        })
    }

    /// The fields loaded from register `reg` on, `len` bytes in all.
    fn fields_from(&self, reg: u32, len: u32) -> Option<Vec<Field>> {
        let mut slot = slot_of_reg(reg)?;
        let mut left = len as i64;
        let mut out = Vec::new();
        while left > 0 {
            let f = self.field_of(self.regs.get(&slot)?)?;
            let n = slots(f.data_type().len());
            out.push(f);
            slot += n;
            left -= i64::from(n) * 4;
        }
        Some(out)
    }

    fn imm(&self, reg: Option<u32>) -> Option<Vec<u8>> {
        match self.regs.get(&slot_of_reg(reg?)?)? {
            Value::Imm(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn cmp(&mut self, e: &Expr<'_>) -> Option<()> {
        let v = self.regs.get(&slot_of_reg(e.u32(NFTA_CMP_SREG)?)?)?.clone();
        let op = e.u32(NFTA_CMP_OP)?;
        let data = e.value(NFTA_CMP_DATA)?;
        match (&v, op) {
            (Value::Meta(NFT_META_NFPROTO), NFT_CMP_EQ) => {
                let f = match data.first()? {
                    2 => Ip::V4,
                    10 => Ip::V6,
                    _ => return None,
                };
                self.nfproto_at = Some(self.matches.len());
                self.matches.push(Match::NfProto(f));
            }
            (Value::Icmpv6Type, NFT_CMP_EQ) => self.matches.push(Match::Icmpv6Type(*data.first()?)),
            (Value::EtherType, NFT_CMP_EQ) if data == ETHER_TYPE_IPV6.to_be_bytes() => {
                self.ether_ip6 = true;
            }
            (Value::Meta(NFT_META_L4PROTO), NFT_CMP_EQ) => {
                self.matches.push(Match::L4Proto(*data.first()?))
            }
            (Value::Meta(key @ (NFT_META_IIFNAME | NFT_META_OIFNAME)), NFT_CMP_EQ) => {
                // A name compared in full ends with a NUL; a shorter
                // comparison is a wildcard (`eth*`), outside the model.
                let end = data.iter().position(|&b| b == 0)?;
                let name = String::from_utf8(data[..end].to_vec()).ok()?;
                self.matches.push(if *key == NFT_META_IIFNAME {
                    Match::Iifname(name)
                } else {
                    Match::Oifname(name)
                });
            }
            (Value::Field(_) | Value::Masked(..), NFT_CMP_EQ) => {
                let (inner, mask) = match &v {
                    Value::Masked(inner, mask) => (inner.as_ref(), Some(mask.clone())),
                    other => (other, None),
                };
                let field = self.field_of(inner)?;
                match field {
                    Field::Sport | Field::Dport if mask.is_none() => {
                        let port = u16::from_be_bytes(data.get(..2)?.try_into().ok()?);
                        self.matches.push(port_match(field, PortRange::one(port)));
                    }
                    Field::Saddr(ip) | Field::Daddr(ip) => {
                        let net = prefix(ip, &data, mask.as_deref())?;
                        self.matches.push(match field {
                            Field::Saddr(_) => Match::Saddr(net),
                            _ => Match::Daddr(net),
                        });
                    }
                    _ => return None,
                }
            }
            (Value::Field(Field::Sport | Field::Dport), NFT_CMP_GTE | NFT_CMP_LTE) => {
                let field = self.field_of(&v)?;
                let port = u16::from_be_bytes(data.get(..2)?.try_into().ok()?);
                if op == NFT_CMP_GTE {
                    self.range_low = Some((field, port));
                } else {
                    let (f, lo) = self.range_low.take()?;
                    if f != field {
                        return None;
                    }
                    self.matches
                        .push(port_match(field, PortRange { lo, hi: port }));
                }
            }
            (Value::Masked(inner, mask), NFT_CMP_NEQ) if data.iter().all(|&b| b == 0) => {
                let bits = u32::from_ne_bytes(mask.get(..4)?.try_into().ok()?);
                match inner.as_ref() {
                    Value::Ct {
                        key: NFT_CT_STATE,
                        dir: None,
                    } => self.matches.push(Match::CtState(CtState(bits))),
                    Value::Ct {
                        key: NFT_CT_STATUS,
                        dir: None,
                    } => self.matches.push(Match::CtStatus(bits)),
                    _ => return None,
                }
            }
            _ => return None,
        }
        Some(())
    }

    fn nat(&mut self, e: &Expr<'_>) -> Option<()> {
        let kind = match e.u32(NFTA_NAT_TYPE)? {
            NFT_NAT_SNAT => NatKind::Snat,
            NFT_NAT_DNAT => NatKind::Dnat,
            _ => return None,
        };
        let family = match e.u32(NFTA_NAT_FAMILY)? {
            2 => Ip::V4,
            10 => Ip::V6,
            _ => return None,
        };
        let flags = e.u32(NFTA_NAT_FLAGS).unwrap_or(0);
        let min_reg = e.u32(NFTA_NAT_REG_ADDR_MIN)?;
        // The kernel dumps a maximum register equal to the minimum's when
        // none was given: one address, one port.
        let other = |reg: Option<u32>, min: Option<u32>| reg.filter(|r| Some(*r) != min);
        let max_reg = other(e.u32(NFTA_NAT_REG_ADDR_MAX), Some(min_reg));
        let proto_min = e.u32(NFTA_NAT_REG_PROTO_MIN);
        let proto_max = other(e.u32(NFTA_NAT_REG_PROTO_MAX), proto_min);
        let to = match self.regs.get(&slot_of_reg(min_reg)?)?.clone() {
            Value::MapData { key, map } => NatTo::Map { key, map },
            Value::Imm(min) => NatTo::Addr {
                min: ip_of(family, &min)?,
                max: match self.imm(max_reg) {
                    Some(max) => Some(ip_of(family, &max)?),
                    None => None,
                },
                ports: self.ports(proto_min, proto_max),
            },
            _ => return None,
        };
        self.stmts.push(Stmt::Nat(NatStmt {
            kind,
            family,
            to,
            flags: nat_flags(flags),
        }));
        Some(())
    }

    fn ports(&self, min: Option<u32>, max: Option<u32>) -> Option<PortRange> {
        let port = |v: Vec<u8>| Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?));
        let lo = port(self.imm(min)?)?;
        let hi = match self.imm(max) {
            Some(v) => port(v)?,
            None => lo,
        };
        Some(PortRange { lo, hi })
    }

    fn step(&mut self, e: &Expr<'_>) -> Option<()> {
        match e.name.as_str() {
            "meta" => {
                let slot = slot_of_reg(e.u32(NFTA_META_DREG)?)?;
                self.regs.insert(slot, Value::Meta(e.u32(NFTA_META_KEY)?));
            }
            "payload" => {
                let slot = slot_of_reg(e.u32(NFTA_PAYLOAD_DREG)?)?;
                let base = e.u32(NFTA_PAYLOAD_BASE)?;
                let offset = e.u32(NFTA_PAYLOAD_OFFSET)?;
                let len = e.u32(NFTA_PAYLOAD_LEN)?;
                if (base, offset, len) == (NFT_PAYLOAD_LL_HEADER, ETHER_TYPE_OFFSET, 2) {
                    self.regs.insert(slot, Value::EtherType);
                    return Some(());
                }
                if (base, offset, len) == (NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1) {
                    // `icmpv6 type`, whose dependencies are the `meta l4proto
                    // ipv6-icmp` just before and, before that, a bridge
                    // table's `ether type ip6` or an inet table's `meta
                    // nfproto ipv6`.
                    if self.matches.last() != Some(&Match::L4Proto(IPPROTO_ICMPV6)) {
                        return None;
                    }
                    self.matches.pop();
                    self.absorb_dependency();
                    self.ether_ip6 = false;
                    self.regs.insert(slot, Value::Icmpv6Type);
                    return Some(());
                }
                // The family is the pending dependency's: decide before
                // dropping it.
                let field = self.payload_field(base, offset, len)?;
                if base == NFT_PAYLOAD_NETWORK_HEADER {
                    self.absorb_dependency();
                }
                self.regs.insert(slot, Value::Field(field));
            }
            "ct" => {
                let slot = slot_of_reg(e.u32(NFTA_CT_DREG)?)?;
                let key = e.u32(NFTA_CT_KEY)?;
                self.regs.insert(
                    slot,
                    Value::Ct {
                        key,
                        dir: e.u8(NFTA_CT_DIRECTION),
                    },
                );
            }
            "bitwise" => {
                let src = self
                    .regs
                    .get(&slot_of_reg(e.u32(NFTA_BITWISE_SREG)?)?)?
                    .clone();
                let xor = e.value(NFTA_BITWISE_XOR)?;
                if xor.iter().any(|&b| b != 0) {
                    return None;
                }
                let slot = slot_of_reg(e.u32(NFTA_BITWISE_DREG)?)?;
                let mask = e.value(NFTA_BITWISE_MASK)?;
                self.regs.insert(slot, Value::Masked(Box::new(src), mask));
            }
            "cmp" => self.cmp(e)?,
            "immediate" => {
                let dreg = e.u32(NFTA_IMMEDIATE_DREG)?;
                if dreg == NFT_REG_VERDICT {
                    let inner = attrs(e.data.get(&NFTA_IMMEDIATE_DATA)?)
                        .find(|(t, _)| *t == NFTA_DATA_VERDICT)?
                        .1;
                    let code = attrs(inner).find(|(t, _)| *t == NFTA_VERDICT_CODE)?.1;
                    let v = match u32::from_be_bytes(code.get(..4)?.try_into().ok()?) {
                        0 => Verdict::Drop,
                        1 => Verdict::Accept,
                        _ => return None,
                    };
                    self.stmts.push(Stmt::Verdict(v));
                } else {
                    let value = e.value(NFTA_IMMEDIATE_DATA)?;
                    self.regs.insert(slot_of_reg(dreg)?, Value::Imm(value));
                }
            }
            "lookup" => {
                let set = e.str(NFTA_LOOKUP_SET)?;
                let (key_len, _) = (self.sets)(&set)?;
                let keys = self.fields_from(e.u32(NFTA_LOOKUP_SREG)?, key_len)?;
                match e.u32(NFTA_LOOKUP_DREG) {
                    None => match e.u32(NFTA_LOOKUP_FLAGS).unwrap_or(0) {
                        0 => self.matches.push(Match::InSet { keys, set }),
                        NFT_LOOKUP_F_INV => self.matches.push(Match::NotInSet { keys, set }),
                        _ => return None,
                    },
                    Some(dreg) => {
                        let data = Value::MapData {
                            key: keys,
                            map: set,
                        };
                        self.regs.insert(slot_of_reg(dreg)?, data);
                    }
                }
            }
            "dynset" => {
                // The kernel dumps a timeout of 0 for "the set's own".
                let own_timeout = e.u64(NFTA_DYNSET_TIMEOUT).unwrap_or(0) == 0;
                let exprs = [NFTA_DYNSET_EXPR, NFTA_DYNSET_EXPRESSIONS];
                let op = e.u32(NFTA_DYNSET_OP)?;
                if ![NFT_DYNSET_OP_UPDATE, NFT_DYNSET_OP_DELETE].contains(&op)
                    || !own_timeout
                    || exprs.iter().any(|a| e.data.contains_key(a))
                {
                    return None;
                }
                let set = e.str(NFTA_DYNSET_SET_NAME)?;
                let (key_len, data_len) = (self.sets)(&set)?;
                let key = self.fields_from(e.u32(NFTA_DYNSET_SREG_KEY)?, key_len)?;
                let data = match e.u32(NFTA_DYNSET_SREG_DATA) {
                    Some(r) => self.fields_from(r, data_len)?,
                    None => Vec::new(),
                };
                self.stmts.push(if op == NFT_DYNSET_OP_DELETE {
                    Stmt::Delete { set, key, data }
                } else {
                    Stmt::Update { set, key, data }
                });
            }
            "counter" => self.stmts.push(Stmt::Counter {
                packets: e.u64(NFTA_COUNTER_PACKETS).unwrap_or(0),
                bytes: e.u64(NFTA_COUNTER_BYTES).unwrap_or(0),
            }),
            "limit" => {
                if e.u32(NFTA_LIMIT_TYPE).unwrap_or(0) != NFT_LIMIT_PKTS {
                    return None;
                }
                self.stmts.push(Stmt::Limit(Limit {
                    rate: e.u64(NFTA_LIMIT_RATE)?,
                    unit_secs: e.u64(NFTA_LIMIT_UNIT)?,
                    burst: e.u32(NFTA_LIMIT_BURST).unwrap_or(0),
                    over: e.u32(NFTA_LIMIT_FLAGS).unwrap_or(0) & NFT_LIMIT_F_INV != 0,
                }));
            }
            "reject" => {
                let r = match (e.u32(NFTA_REJECT_TYPE)?, e.u8(NFTA_REJECT_ICMP_CODE)) {
                    (NFT_REJECT_TCP_RST, _) => Reject::TcpReset,
                    (NFT_REJECT_ICMPX_UNREACH, Some(0)) => Reject::NoRoute,
                    (NFT_REJECT_ICMPX_UNREACH, Some(1)) => Reject::PortUnreachable,
                    (NFT_REJECT_ICMPX_UNREACH, Some(2)) => Reject::HostUnreachable,
                    (NFT_REJECT_ICMPX_UNREACH, Some(3)) => Reject::AdminProhibited,
                    _ => return None,
                };
                self.stmts.push(Stmt::Reject(r));
            }
            "nat" => self.nat(e)?,
            "masq" => {
                let flags = e.u32(NFTA_MASQ_FLAGS).unwrap_or(0);
                let min = e.u32(NFTA_MASQ_REG_PROTO_MIN);
                let max = e.u32(NFTA_MASQ_REG_PROTO_MAX).filter(|r| Some(*r) != min);
                let ports = self.ports(min, max);
                self.stmts.push(Stmt::Masquerade {
                    ports,
                    flags: nat_flags(flags),
                });
            }
            _ => return None,
        }
        Some(())
    }
}

/// `th dport N` or a range, as a match.
fn port_match(f: Field, p: PortRange) -> Match {
    match f {
        Field::Sport => Match::Sport(p),
        _ => Match::Dport(p),
    }
}

/// The user's flags of a NAT statement (the kernel adds `MAP_IPS` and
/// `PROTO_SPECIFIED` of its own).
fn nat_flags(bits: u32) -> NatFlags {
    NatFlags {
        random: bits & NF_NAT_RANGE_PROTO_RANDOM != 0,
        fully_random: bits & NF_NAT_RANGE_PROTO_RANDOM_FULLY != 0,
        persistent: bits & NF_NAT_RANGE_PERSISTENT != 0,
    }
}

fn ip_of(family: Ip, bytes: &[u8]) -> Option<IpAddr> {
    match family {
        Ip::V4 => Some(Ipv4Addr::from(<[u8; 4]>::try_from(bytes.get(..4)?).ok()?).into()),
        Ip::V6 => Some(Ipv6Addr::from(<[u8; 16]>::try_from(bytes.get(..16)?).ok()?).into()),
    }
}

/// The network a comparison of an address field says: the value, with the
/// mask's length (or the bytes compared, when `nft` loaded only the
/// prefix's whole bytes).
pub(super) fn prefix(ip: Ip, value: &[u8], mask: Option<&[u8]>) -> Option<IpNet> {
    let full = match ip {
        Ip::V4 => 4,
        Ip::V6 => 16,
    };
    let len = match mask {
        Some(m) => {
            let ones = m.iter().map(|b| b.count_ones()).sum::<u32>();
            // Only a prefix's mask (ones, then zeros) says a network.
            let leading = m
                .iter()
                .position(|b| *b != 0xff)
                .map_or(m.len() as u32 * 8, |i| i as u32 * 8 + m[i].leading_ones());
            if ones != leading {
                return None;
            }
            ones as u8
        }
        None => (value.len() * 8) as u8,
    };
    let mut bytes = value.to_vec();
    bytes.resize(full, 0);
    IpNet::new(ip_of(ip, &bytes)?, len).ok()
}

/// The rule a list of expressions says, with its counter's values; `None`
/// if some expression is outside the model.
pub(super) fn decode_rule(table: Family, list: &[u8], sets: SetLens<'_>) -> Option<Rule> {
    let mut r = Reader {
        table,
        regs: HashMap::new(),
        matches: Vec::new(),
        stmts: Vec::new(),
        nfproto_at: None,
        ether_ip6: false,
        range_low: None,
        sets,
    };
    for e in parse_list(list) {
        r.step(&e)?;
    }
    if r.range_low.is_some() || r.ether_ip6 {
        return None;
    }
    Some(Rule::new(r.matches, r.stmts))
}
