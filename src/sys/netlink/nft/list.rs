//! Reading back: whether a table exists, a table's rules with their
//! handles, comments and counters, and the whole ruleset as `nft list
//! ruleset` shows it.

use std::io;
use std::time::Duration;

use super::consts::*;
use super::expr::decode_comment;
use super::msg::{
    attr_str, attr_u64_be, attrs, nft_type, Attrs, Reply, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE,
    NFT_MSG_GETSET, NFT_MSG_GETTABLE, NFT_MSG_NEWRULE, NLM_F_ACK, NLM_F_DUMP,
};
use super::{Family, Nft};
use crate::error::Result;
use crate::inspect::{NftChain, NftRule, NftSet, NftTable, Ruleset};
use crate::ruleset::{text, DataType, Hook, SetDef};

/// One rule as the kernel holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleInfo {
    /// The chain it is in.
    pub(crate) chain: String,
    /// Its handle, for [`Batch::delete_rule`](super::Batch::delete_rule).
    pub(crate) handle: u64,
    /// Its comment, if it has one.
    pub(crate) comment: Option<String>,
    /// Packets its counter counted, if it has a counter.
    pub(crate) packets: Option<u64>,
    /// Bytes its counter counted, if it has a counter.
    pub(crate) bytes: Option<u64>,
}

impl Nft {
    /// Whether table `table` of `family` exists: `nft list table` without
    /// the listing.
    pub(crate) fn has_table(&mut self, family: Family, table: &str) -> Result<bool> {
        let op = format!("list table {family} {table}");
        let mut body = Attrs::new();
        body.str(NFTA_TABLE_NAME, table);
        let seq = self
            .send_one(
                nft_type(NFT_MSG_GETTABLE),
                NLM_F_ACK,
                family.nfproto(),
                body,
            )
            .map_err(|e| self.error(&op, e))?;
        // The reply: the table then an ack, or an error.
        loop {
            let datagram = self.recv(0).map_err(|e| self.error(&op, e))?;
            for reply in super::msg::replies(&datagram).map_err(|e| self.error(&op, e))? {
                match reply {
                    Reply::Ack { seq: s, errno } if s == seq => {
                        return match errno {
                            0 => Ok(true),
                            libc::ENOENT => Ok(false),
                            e => Err(self.error(&op, io::Error::from_raw_os_error(e))),
                        };
                    }
                    _ => {}
                }
            }
        }
    }

    /// Every rule of table `table` of `family`, chain by chain in the
    /// kernel's order (the order of the rules within a chain); an
    /// `ENOENT` error if the table does not exist.
    pub(crate) fn list_rules(&mut self, family: Family, table: &str) -> Result<Vec<RuleInfo>> {
        let op = format!("list rules {family} {table}");
        if !self.has_table(family, table)? {
            return Err(self.error(&op, io::Error::from_raw_os_error(libc::ENOENT)));
        }
        // The kernel dumps only the rules of the table named in the request.
        let mut body = Attrs::new();
        body.str(NFTA_RULE_TABLE, table);
        let seq = self
            .send_one(
                nft_type(NFT_MSG_GETRULE),
                NLM_F_DUMP,
                family.nfproto(),
                body,
            )
            .map_err(|e| self.error(&op, e))?;
        let mut rules = Vec::new();
        loop {
            let datagram = self.recv(0).map_err(|e| self.error(&op, e))?;
            for reply in super::msg::replies(&datagram).map_err(|e| self.error(&op, e))? {
                match reply {
                    Reply::Object {
                        msg, seq: s, attrs, ..
                    } if s == seq && msg == NFT_MSG_NEWRULE => {
                        rules.extend(parse_rule(attrs));
                    }
                    Reply::Done { seq: s } if s == seq => return Ok(rules),
                    Reply::Ack { seq: s, errno } if s == seq && errno != 0 => {
                        return Err(self.error(&op, io::Error::from_raw_os_error(errno)));
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A rule from the attributes of an `NFT_MSG_NEWRULE`; `None` without a
/// chain or a handle. Only the first counter of the rule is read.
pub(super) fn parse_rule(buf: &[u8]) -> Option<RuleInfo> {
    let mut chain = None;
    let mut handle = None;
    let mut comment = None;
    let mut counter = None;
    for (ty, value) in attrs(buf) {
        match ty {
            NFTA_RULE_CHAIN => chain = Some(attr_str(value)),
            NFTA_RULE_HANDLE => handle = attr_u64_be(value),
            NFTA_RULE_USERDATA => comment = decode_comment(value),
            NFTA_RULE_EXPRESSIONS if counter.is_none() => counter = find_counter(value),
            _ => {}
        }
    }
    let (packets, bytes) = counter.unzip();
    Some(RuleInfo {
        chain: chain?,
        handle: handle?,
        comment,
        packets,
        bytes,
    })
}

/// The (packets, bytes) of the first `counter` in a list of expressions.
fn find_counter(list: &[u8]) -> Option<(u64, u64)> {
    attrs(list)
        .filter(|&(ty, _)| ty == NFTA_LIST_ELEM)
        .find_map(|(_, elem)| {
            let mut is_counter = false;
            let mut data = None;
            for (ty, value) in attrs(elem) {
                match ty {
                    NFTA_EXPR_NAME => is_counter = attr_str(value) == "counter",
                    NFTA_EXPR_DATA => data = Some(value),
                    _ => {}
                }
            }
            if !is_counter {
                return None;
            }
            let (mut packets, mut bytes) = (0, 0);
            for (ty, value) in attrs(data.unwrap_or_default()) {
                match ty {
                    NFTA_COUNTER_PACKETS => packets = attr_u64_be(value).unwrap_or(0),
                    NFTA_COUNTER_BYTES => bytes = attr_u64_be(value).unwrap_or(0),
                    _ => {}
                }
            }
            Some((packets, bytes))
        })
}

/// A set as the kernel lists it: its declaration and its key and data
/// lengths (to read the lookups that use it).
struct SetView {
    family: u8,
    table: String,
    def: SetDef,
    key_len: u32,
    data_len: u32,
}

impl Nft {
    /// Sends a dump request of `msg` for every family and collects the
    /// objects' (family, attributes).
    fn dump_all(&mut self, msg: u8, op: &str) -> Result<Vec<(u8, Vec<u8>)>> {
        let seq = self
            .send_one(nft_type(msg), NLM_F_DUMP, 0, Attrs::new())
            .map_err(|e| self.error(op, e))?;
        let mut out = Vec::new();
        loop {
            let datagram = self.recv(0).map_err(|e| self.error(op, e))?;
            for reply in super::msg::replies(&datagram).map_err(|e| self.error(op, e))? {
                match reply {
                    Reply::Object {
                        seq: s,
                        family,
                        attrs,
                        ..
                    } if s == seq => out.push((family, attrs.to_vec())),
                    Reply::Done { seq: s } if s == seq => return Ok(out),
                    Reply::Ack { seq: s, errno } if s == seq && errno != 0 => {
                        return Err(self.error(op, io::Error::from_raw_os_error(errno)));
                    }
                    _ => {}
                }
            }
        }
    }

    /// The whole ruleset of the node, every table of every family, with
    /// counters: what `nft list ruleset` prints (set elements aside).
    ///
    /// Four dumps (tables, sets, chains, rules) that are not one snapshot:
    /// a change between them shows half made.
    pub(crate) fn list_ruleset(&mut self) -> Result<Ruleset> {
        let op = "list ruleset";
        let tables = self.dump_all(NFT_MSG_GETTABLE, op)?;
        let sets = self.dump_all(NFT_MSG_GETSET, op)?;
        let chains = self.dump_all(NFT_MSG_GETCHAIN, op)?;
        let rules = self.dump_all(NFT_MSG_GETRULE, op)?;
        let sets: Vec<SetView> = sets.iter().filter_map(|(f, a)| parse_set(*f, a)).collect();
        let mut out = Ruleset::default();
        for (family, a) in &tables {
            let Some(name) = attrs(a).find(|(t, _)| *t == NFTA_TABLE_NAME) else {
                continue;
            };
            let name = attr_str(name.1);
            let mine = |f: u8, t: &str| f == *family && t == name;
            let table_family = Family::from_nfproto(*family);
            let lens = |set: &str| {
                sets.iter()
                    .find(|s| mine(s.family, &s.table) && s.def.name == set)
                    .map(|s| (s.key_len, s.data_len))
            };
            let mut t = NftTable::new(family_name(*family), &name);
            for s in sets.iter().filter(|s| mine(s.family, &s.table)) {
                t.sets.push(NftSet::new(
                    &s.def.name,
                    !s.def.data.is_empty(),
                    text::set_lines(&s.def),
                ));
            }
            for (f, a) in &chains {
                if let Some((table, chain)) = parse_chain(*f, a) {
                    if mine(*f, &table) {
                        t.chains.push(chain);
                    }
                }
            }
            for (f, a) in &rules {
                let Some((table, chain, rule)) = listed_rule(table_family, a, &lens) else {
                    continue;
                };
                if !mine(*f, &table) {
                    continue;
                }
                if let Some(c) = t.chains.iter_mut().find(|c| c.name == chain) {
                    c.rules.push(rule);
                }
            }
            out.tables.push(t);
        }
        Ok(out)
    }
}

/// The name `nft` gives family `NFPROTO_*` number `f`.
/// `NFPROTO_ARP` from `<linux/netfilter.h>`: hooks `input` (0), `output`
/// (1) and `forward` (2).
const NFPROTO_ARP: u8 = 3;
/// `NFPROTO_NETDEV`: hooks `ingress` (0) and `egress` (1).
const NFPROTO_NETDEV: u8 = 5;

/// The hook's name, and the priority as `nft` prints it, of a base chain
/// of `arp` or `netdev`, whose hooks are numbered apart and whose one
/// named priority is `filter` (0); `None` for other families.
fn other_family_hook(nfproto: u8, num: u32, prio: i32) -> Option<(&'static str, String)> {
    let hook = match (nfproto, num) {
        (NFPROTO_ARP, 0) => "input",
        (NFPROTO_ARP, 1) => "output",
        (NFPROTO_ARP, 2) => "forward",
        (NFPROTO_NETDEV, 0) => "ingress",
        (NFPROTO_NETDEV, 1) => "egress",
        (NFPROTO_ARP | NFPROTO_NETDEV, _) => "?",
        _ => return None,
    };
    let prio = text::near("filter", 0, prio).unwrap_or_else(|| prio.to_string());
    Some((hook, prio))
}

fn family_name(f: u8) -> String {
    match f {
        1 => "inet".into(),
        2 => "ip".into(),
        3 => "arp".into(),
        5 => "netdev".into(),
        7 => "bridge".into(),
        10 => "ip6".into(),
        f => f.to_string(),
    }
}

fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

/// The member types of a key or data type number; `None` if one is
/// outside the model.
fn types_of(mut id: u32, len: u32) -> Option<Vec<DataType>> {
    if let Some(t) = DataType::from_id(id) {
        if t.len() as u32 == len {
            return Some(vec![t]);
        }
    }
    let mut out = Vec::new();
    while id != 0 {
        out.push(DataType::from_id(id & ((1 << TYPE_BITS) - 1))?);
        id >>= TYPE_BITS;
    }
    out.reverse();
    Some(out)
}

fn parse_set(family: u8, a: &[u8]) -> Option<SetView> {
    let (mut table, mut name) = (None, None);
    let (mut flags, mut key_type, mut key_len, mut data_type, mut data_len) = (0, 0, 0, 0, 0);
    let (mut timeout, mut size) = (None, None);
    for (ty, v) in attrs(a) {
        match ty {
            NFTA_SET_TABLE => table = Some(attr_str(v)),
            NFTA_SET_NAME => name = Some(attr_str(v)),
            NFTA_SET_FLAGS => flags = be32(v)?,
            NFTA_SET_KEY_TYPE => key_type = be32(v)?,
            NFTA_SET_KEY_LEN => key_len = be32(v)?,
            NFTA_SET_DATA_TYPE => data_type = be32(v)?,
            NFTA_SET_DATA_LEN => data_len = be32(v)?,
            NFTA_SET_TIMEOUT => timeout = attr_u64_be(v).map(Duration::from_millis),
            NFTA_SET_DESC => {
                size = attrs(v)
                    .find(|(t, _)| *t == NFTA_SET_DESC_SIZE)
                    .and_then(|(_, v)| be32(v));
            }
            _ => {}
        }
    }
    let key = types_of(key_type, key_len)?;
    let data = if flags & NFT_SET_MAP != 0 {
        types_of(data_type, data_len)?
    } else {
        Vec::new()
    };
    Some(SetView {
        family,
        table: table?,
        def: SetDef {
            name: name?,
            key,
            data,
            dynamic: flags & NFT_SET_EVAL != 0,
            timeout: if flags & NFT_SET_TIMEOUT != 0 {
                timeout.or(Some(Duration::ZERO))
            } else {
                None
            },
            size,
        },
        key_len,
        data_len,
    })
}

/// (table, chain) from an `NFT_MSG_NEWCHAIN`.
fn parse_chain(nfproto: u8, a: &[u8]) -> Option<(String, NftChain)> {
    let family = Family::from_nfproto(nfproto);
    let (mut table, mut name, mut hook, mut policy, mut kind) = (None, None, None, None, None);
    let mut devices: Vec<String> = Vec::new();
    for (ty, v) in attrs(a) {
        match ty {
            NFTA_CHAIN_TABLE => table = Some(attr_str(v)),
            NFTA_CHAIN_NAME => name = Some(attr_str(v)),
            NFTA_CHAIN_POLICY => policy = be32(v),
            NFTA_CHAIN_TYPE => kind = Some(attr_str(v)),
            NFTA_CHAIN_HOOK => {
                let (mut num, mut prio) = (None, None);
                for (t, v) in attrs(v) {
                    match t {
                        NFTA_HOOK_HOOKNUM => num = be32(v),
                        NFTA_HOOK_PRIORITY => prio = be32(v).map(|p| p as i32),
                        NFTA_HOOK_DEV if devices.is_empty() => devices.push(attr_str(v)),
                        NFTA_HOOK_DEVS => {
                            devices = attrs(v)
                                .filter(|(t, _)| *t == NFTA_DEVICE_NAME)
                                .map(|(_, v)| attr_str(v))
                                .collect();
                        }
                        _ => {}
                    }
                }
                hook = num.zip(prio);
            }
            _ => {}
        }
    }
    let base = hook.map(|(num, prio)| {
        let (hook_name, prio_text) = match other_family_hook(nfproto, num, prio) {
            Some(named) => named,
            None => (
                Hook::from_number(num).map_or("?", Hook::name),
                match (family, Hook::from_number(num)) {
                    (Some(f), Some(h)) => text::priority(f, h, prio),
                    _ => prio.to_string(),
                },
            ),
        };
        let device = match devices.as_slice() {
            [] => String::new(),
            [one] => format!(" device \"{one}\""),
            many => format!(" devices = {{ {} }}", many.join(", ")),
        };
        let policy = match policy {
            Some(0) => "drop",
            _ => "accept",
        };
        format!(
            "type {} hook {hook_name}{device} priority {prio_text}; policy {policy};",
            kind.unwrap_or_else(|| "filter".into())
        )
    });
    Some((table?, NftChain::new(&name?, base)))
}

/// (table, chain, rule) from an `NFT_MSG_NEWRULE`.
fn listed_rule(
    family: Option<Family>,
    a: &[u8],
    lens: super::decode::SetLens<'_>,
) -> Option<(String, String, NftRule)> {
    let (mut table, mut chain, mut handle, mut comment, mut exprs) = (None, None, None, None, None);
    for (ty, v) in attrs(a) {
        match ty {
            NFTA_RULE_TABLE => table = Some(attr_str(v)),
            NFTA_RULE_CHAIN => chain = Some(attr_str(v)),
            NFTA_RULE_HANDLE => handle = attr_u64_be(v),
            NFTA_RULE_USERDATA => comment = decode_comment(v),
            NFTA_RULE_EXPRESSIONS => exprs = Some(v),
            _ => {}
        }
    }
    let exprs = exprs.unwrap_or_default();
    let rule = family.and_then(|f| super::decode::decode_rule(f, exprs, lens));
    let (text, counter) = match rule {
        Some(mut r) => {
            r.comment = comment.clone();
            (text::rule(&r), r.counter())
        }
        None => (super::decode::names(exprs), find_counter(exprs)),
    };
    let (packets, bytes) = counter.unzip();
    Some((
        table?,
        chain?,
        NftRule::new(handle?, text, comment, packets, bytes),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_priorities_of_other_families_print_as_numbers() {
        for (prio, want) in [
            (i32::MIN, "-2147483648"),
            (i32::MAX, "2147483647"),
            (-10, "filter - 10"),
            (3, "filter + 3"),
        ] {
            let (hook, text) = other_family_hook(NFPROTO_ARP, 0, prio).unwrap();
            assert_eq!((hook, text.as_str()), ("input", want));
        }
    }
}
