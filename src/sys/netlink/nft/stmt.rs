//! A rule's statements as nf_tables expressions, after its matches:
//! limits, rejects, NAT, masquerade and set updates, written as `nft` 1.0
//! writes them (see `expr.rs` for the registers and the matches).

use super::consts::*;
use super::expr::{
    expr, immediate, ip_bytes, load_fields, lookup, reg_of_slot, slots, Lookup, SetIds,
};
use super::msg::Attrs;
use super::Family;
use crate::ruleset::{Field, Limit, NatKind, NatStmt, NatTo, PortRange, Reject};
use crate::vocab::Family as Ip;

pub(super) fn limit(out: &mut Attrs, l: &Limit) {
    expr(out, "limit", |d| {
        d.u64_be(NFTA_LIMIT_RATE, l.rate);
        d.u64_be(NFTA_LIMIT_UNIT, l.unit_secs);
        d.u32_be(NFTA_LIMIT_BURST, l.burst);
        d.u32_be(NFTA_LIMIT_TYPE, NFT_LIMIT_PKTS);
        d.u32_be(NFTA_LIMIT_FLAGS, if l.over { NFT_LIMIT_F_INV } else { 0 });
    });
}

/// `reject type T code C`: ICMPX codes in an `inet` table (the kernel
/// picks ICMP or ICMPv6 by the packet), a TCP reset anywhere.
pub(super) fn reject(out: &mut Attrs, family: Family, r: &Reject) -> Result<(), String> {
    let (ty, code) = match (r, family) {
        (Reject::TcpReset, _) => (NFT_REJECT_TCP_RST, 0),
        (r, Family::Inet) => (NFT_REJECT_ICMPX_UNREACH, icmpx_code(*r)),
        (r, f) => return Err(format!("reject {r:?} in a table of family {f} (inet only)")),
    };
    expr(out, "reject", |d| {
        d.u32_be(NFTA_REJECT_TYPE, ty);
        d.bytes(NFTA_REJECT_ICMP_CODE, &[code]);
    });
    Ok(())
}

/// The `NFT_REJECT_ICMPX_*` code of an ICMP reject.
fn icmpx_code(r: Reject) -> u8 {
    match r {
        Reject::NoRoute => 0,
        Reject::PortUnreachable | Reject::TcpReset => 1,
        Reject::HostUnreachable => 2,
        Reject::AdminProhibited => 3,
    }
}

/// The `NF_NAT_RANGE_*` bits of the user's flags.
fn nat_flags(f: &crate::ruleset::NatFlags) -> u32 {
    let mut bits = 0;
    if f.random {
        bits |= NF_NAT_RANGE_PROTO_RANDOM;
    }
    if f.fully_random {
        bits |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
    }
    if f.persistent {
        bits |= NF_NAT_RANGE_PERSISTENT;
    }
    bits
}

/// Loads ports into the 16-byte registers from `reg`: (min, max) registers.
fn port_regs(out: &mut Attrs, p: PortRange, reg: u32) -> (u32, Option<u32>) {
    immediate(out, reg, &p.lo.to_be_bytes());
    if p.hi == p.lo {
        (reg, None)
    } else {
        immediate(out, reg + 1, &p.hi.to_be_bytes());
        (reg, Some(reg + 1))
    }
}

pub(super) fn nat(
    out: &mut Attrs,
    family: Family,
    n: &NatStmt,
    ids: SetIds<'_>,
) -> Result<(), String> {
    let nfproto = match n.family {
        Ip::V4 => Family::Ip.nfproto(),
        Ip::V6 => Family::Ip6.nfproto(),
    };
    let ty = match n.kind {
        NatKind::Snat => NFT_NAT_SNAT,
        NatKind::Dnat => NFT_NAT_DNAT,
    };
    let mut flags = nat_flags(&n.flags);
    let (addr_min, addr_max, proto_min, proto_max) = match &n.to {
        NatTo::Addr { min, max, ports } => {
            if Ip::of(*min) != n.family || max.is_some_and(|m| Ip::of(m) != n.family) {
                return Err(format!("a NAT to {min} of family {}", n.family));
            }
            immediate(out, NFT_REG_1, &ip_bytes(min));
            let mut reg = NFT_REG_2;
            let max_reg = max.map(|m| {
                immediate(out, reg, &ip_bytes(&m));
                reg += 1;
                reg - 1
            });
            let (pmin, pmax) = match ports {
                Some(p) => {
                    flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
                    let (a, b) = port_regs(out, *p, reg);
                    (Some(a), b)
                }
                None => (None, None),
            };
            (NFT_REG_1, max_reg, pmin, pmax)
        }
        NatTo::Map { key, map } => {
            load_fields(out, family, key, 0)?;
            lookup(out, reg_of_slot(0), Lookup::Data(NFT_REG_1), map, ids);
            let addr_len = match n.family {
                Ip::V4 => 4,
                Ip::V6 => 16,
            };
            (NFT_REG_1, None, Some(reg_of_slot(slots(addr_len))), None)
        }
    };
    expr(out, "nat", |d| {
        d.u32_be(NFTA_NAT_TYPE, ty);
        d.u32_be(NFTA_NAT_FAMILY, u32::from(nfproto));
        d.u32_be(NFTA_NAT_REG_ADDR_MIN, addr_min);
        if let Some(r) = addr_max {
            d.u32_be(NFTA_NAT_REG_ADDR_MAX, r);
        }
        if let Some(r) = proto_min {
            d.u32_be(NFTA_NAT_REG_PROTO_MIN, r);
        }
        if let Some(r) = proto_max {
            d.u32_be(NFTA_NAT_REG_PROTO_MAX, r);
        }
        if flags != 0 {
            d.u32_be(NFTA_NAT_FLAGS, flags);
        }
    });
    Ok(())
}

pub(super) fn masquerade(out: &mut Attrs, ports: &Option<PortRange>, f: &crate::ruleset::NatFlags) {
    let mut flags = nat_flags(f);
    let regs = ports.map(|p| {
        flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
        port_regs(out, p, NFT_REG_1)
    });
    expr(out, "masq", |d| {
        if flags != 0 {
            d.u32_be(NFTA_MASQ_FLAGS, flags);
        }
        if let Some((min, max)) = regs {
            d.u32_be(NFTA_MASQ_REG_PROTO_MIN, min);
            d.u32_be(NFTA_MASQ_REG_PROTO_MAX, max.unwrap_or(min));
        }
    });
}

/// `update @SET { KEY : DATA }` (`op` [`NFT_DYNSET_OP_UPDATE`]) or
/// `delete @SET { KEY : DATA }` ([`NFT_DYNSET_OP_DELETE`]): key from slot
/// 0, data from the next 16-byte register. Data with an address of the
/// packet is loaded first: its family dependency uses the first register,
/// which the key fills after it.
pub(super) fn dynset(
    out: &mut Attrs,
    family: Family,
    (op, set): (u32, &str),
    key: &[Field],
    data: &[Field],
    ids: SetIds<'_>,
) -> Result<(), String> {
    let end: u32 = key.iter().map(|f| slots(f.data_type().len())).sum();
    let data_slot = end.div_ceil(4) * 4;
    let data_first = data
        .iter()
        .any(|f| matches!(f, Field::Saddr(_) | Field::Daddr(_)));
    if data_first {
        load_fields(out, family, data, data_slot)?;
    }
    load_fields(out, family, key, 0)?;
    if !data.is_empty() && !data_first {
        load_fields(out, family, data, data_slot)?;
    }
    expr(out, "dynset", |d| {
        d.u32_be(NFTA_DYNSET_SREG_KEY, reg_of_slot(0));
        if !data.is_empty() {
            d.u32_be(NFTA_DYNSET_SREG_DATA, reg_of_slot(data_slot));
        }
        d.u32_be(NFTA_DYNSET_OP, op);
        d.str(NFTA_DYNSET_SET_NAME, set);
        if let Some(id) = ids(set) {
            d.u32_be(NFTA_DYNSET_SET_ID, id);
        }
    });
    Ok(())
}
