//! A transaction being prepared: tables, chains and rules to add or delete,
//! each an nf_tables message with the words of `nft` to name it in errors.

use std::collections::HashMap;
use std::net::IpAddr;

use super::consts::*;
use super::expr::{encode_comment, encode_rule, ip_bytes};
use super::msg::{
    nft_type, Attrs, NFT_MSG_DELCHAIN, NFT_MSG_DELRULE, NFT_MSG_DELSET, NFT_MSG_DELTABLE,
    NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWTABLE,
    NLM_F_APPEND, NLM_F_CREATE,
};
use super::Family;
use crate::ruleset::{BaseChain, DataType, Hook, NodeRuleset, Rule, SetDef, Stmt};

impl Hook {
    /// The kernel's hook number (`NF_INET_*`).
    pub(super) fn number(self) -> u32 {
        match self {
            Hook::Prerouting => 0,
            Hook::Input => 1,
            Hook::Forward => 2,
            Hook::Output => 3,
            Hook::Postrouting => 4,
        }
    }

    /// The hook of number `n`.
    pub(super) fn from_number(n: u32) -> Option<Hook> {
        [
            Hook::Prerouting,
            Hook::Input,
            Hook::Forward,
            Hook::Output,
            Hook::Postrouting,
        ]
        .into_iter()
        .find(|h| h.number() == n)
    }
}

/// A concatenation's type number and length: each member's type shifted
/// in by `TYPE_BITS`, each member's length padded to 4 bytes (one
/// register slot); a single type is its own number and exact length.
pub(super) fn concat_type(types: &[DataType]) -> (u32, u32) {
    if let [one] = types {
        return (one.id(), one.len() as u32);
    }
    let id = types.iter().fold(0, |acc, t| (acc << TYPE_BITS) | t.id());
    let len = types.iter().map(|t| t.len().div_ceil(4) as u32 * 4).sum();
    (id, len)
}

/// One message of a batch.
#[derive(Debug)]
pub(super) struct Message {
    /// The netlink message type.
    pub(super) ty: u16,
    /// Flags beyond `NLM_F_REQUEST | NLM_F_ACK`.
    pub(super) flags: u16,
    /// The `NFPROTO_*` family.
    pub(super) family: u8,
    /// The attributes.
    pub(super) body: Vec<u8>,
    /// What it does, in the words of `nft` ("add rule inet t output").
    pub(super) op: String,
}

/// Changes to apply as one transaction with [`Nft::apply`](super::Nft::apply):
/// all of them, or none.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The messages, in order.
    pub(super) messages: Vec<Message>,
    /// The first change that could not be encoded (op, reason): `apply`
    /// returns it without sending anything.
    pub(super) invalid: Option<(String, String)>,
    /// The sets made by this batch, by name: their `NFTA_SET_ID`, which
    /// rules of the same batch name them by too (as `nft` does).
    pub(super) set_ids: HashMap<String, u32>,
    /// How many rules the batch appends to each chain (by family, table
    /// and chain): a rule's number among them names it in errors.
    rules_added: HashMap<(u8, String, String), usize>,
}

impl Batch {
    /// An empty batch.
    pub(crate) fn new() -> Batch {
        Batch::default()
    }

    /// Whether nothing was added to the batch.
    pub(crate) fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.invalid.is_none()
    }

    fn push(&mut self, msg: u8, flags: u16, family: Family, body: Attrs, op: String) {
        self.messages.push(Message {
            ty: nft_type(msg),
            flags,
            family: family.nfproto(),
            body: body.into_bytes(),
            op,
        });
    }

    /// Records the first change that cannot be encoded.
    fn reject(&mut self, op: String, reason: String) {
        self.invalid.get_or_insert((op, reason));
    }

    /// `nft add table FAMILY TABLE`: creates the table, or does nothing if it
    /// exists.
    pub(crate) fn add_table(&mut self, family: Family, table: &str) {
        let mut body = Attrs::new();
        body.str(NFTA_TABLE_NAME, table);
        let op = format!("add table {family} {table}");
        self.push(NFT_MSG_NEWTABLE, NLM_F_CREATE, family, body, op);
    }

    /// `nft delete table FAMILY TABLE`: the table with its chains and rules.
    pub(crate) fn delete_table(&mut self, family: Family, table: &str) {
        let mut body = Attrs::new();
        body.str(NFTA_TABLE_NAME, table);
        let op = format!("delete table {family} {table}");
        self.push(NFT_MSG_DELTABLE, 0, family, body, op);
    }

    /// `nft add chain FAMILY TABLE CHAIN`, with `{ type .. hook .. priority
    /// ..; policy ..; }` when `base` is given; nothing changes if the chain
    /// exists (the kernel then rejects a different hook or type).
    pub(crate) fn add_chain(
        &mut self,
        family: Family,
        table: &str,
        chain: &str,
        base: Option<BaseChain>,
    ) {
        let mut body = Attrs::new();
        body.str(NFTA_CHAIN_TABLE, table)
            .str(NFTA_CHAIN_NAME, chain);
        if let Some(base) = base {
            body.nested(NFTA_CHAIN_HOOK, |h| {
                h.u32_be(NFTA_HOOK_HOOKNUM, base.hook.number());
                // The priority is signed; the kernel reads it as a be32.
                h.u32_be(NFTA_HOOK_PRIORITY, base.priority as u32);
            });
            body.u32_be(NFTA_CHAIN_POLICY, base.policy.code());
            body.str(NFTA_CHAIN_TYPE, base.kind.name());
        }
        let op = format!("add chain {family} {table} {chain}");
        self.push(NFT_MSG_NEWCHAIN, NLM_F_CREATE, family, body, op);
    }

    /// `nft add rule FAMILY TABLE CHAIN ...`: appends `rule` to the chain.
    /// Errors name it `add rule FAMILY TABLE CHAIN (rule N added to the
    /// chain)`, N counting the rules this batch appends to that chain from 1.
    pub(crate) fn add_rule(&mut self, family: Family, table: &str, chain: &str, rule: &Rule) {
        let n = self
            .rules_added
            .entry((family.nfproto(), table.to_string(), chain.to_string()))
            .or_default();
        *n += 1;
        let op = format!("add rule {family} {table} {chain} (rule {n} added to the chain)");
        let ids = |name: &str| self.set_ids.get(name).copied();
        let exprs = match encode_rule(family, rule, &ids) {
            Ok(e) => e,
            Err(reason) => return self.reject(op, reason),
        };
        let udata = match rule.comment.as_deref().map(encode_comment).transpose() {
            Ok(u) => u,
            Err(reason) => return self.reject(op, reason),
        };
        let mut body = Attrs::new();
        body.str(NFTA_RULE_TABLE, table).str(NFTA_RULE_CHAIN, chain);
        let exprs = exprs.into_bytes();
        body.nested(NFTA_RULE_EXPRESSIONS, |list| {
            list.raw(&exprs);
        });
        if let Some(udata) = udata {
            body.bytes(NFTA_RULE_USERDATA, &udata);
        }
        self.push(
            NFT_MSG_NEWRULE,
            NLM_F_CREATE | NLM_F_APPEND,
            family,
            body,
            op,
        );
    }

    /// `nft delete rule FAMILY TABLE CHAIN handle HANDLE`.
    pub(crate) fn delete_rule(&mut self, family: Family, table: &str, chain: &str, handle: u64) {
        let mut body = Attrs::new();
        body.str(NFTA_RULE_TABLE, table)
            .str(NFTA_RULE_CHAIN, chain)
            .u64_be(NFTA_RULE_HANDLE, handle);
        let op = format!("delete rule {family} {table} {chain} handle {handle}");
        self.push(NFT_MSG_DELRULE, 0, family, body, op);
    }

    /// `nft flush table FAMILY TABLE`: every rule of every chain.
    pub(crate) fn flush_table(&mut self, family: Family, table: &str) {
        let mut body = Attrs::new();
        body.str(NFTA_RULE_TABLE, table);
        let op = format!("flush table {family} {table}");
        self.push(NFT_MSG_DELRULE, 0, family, body, op);
    }

    /// `nft delete chain FAMILY TABLE CHAIN` (it must hold no rule).
    pub(crate) fn delete_chain(&mut self, family: Family, table: &str, chain: &str) {
        let mut body = Attrs::new();
        body.str(NFTA_CHAIN_TABLE, table)
            .str(NFTA_CHAIN_NAME, chain);
        let op = format!("delete chain {family} {table} {chain}");
        self.push(NFT_MSG_DELCHAIN, 0, family, body, op);
    }

    /// `nft delete set FAMILY TABLE NAME` (no rule may name it any more).
    pub(crate) fn delete_set(&mut self, family: Family, table: &str, set: &str) {
        let mut body = Attrs::new();
        body.str(NFTA_SET_TABLE, table).str(NFTA_SET_NAME, set);
        let op = format!("delete set {family} {table} {set}");
        self.push(NFT_MSG_DELSET, 0, family, body, op);
    }

    /// `nft add set FAMILY TABLE NAME { type ..; flags ..; timeout ..; size ..; }`
    /// (a map when `set.data` is not empty).
    pub(crate) fn add_set(&mut self, family: Family, table: &str, set: &SetDef) {
        let id = self.set_ids.len() as u32 + 1;
        self.set_ids.insert(set.name.clone(), id);
        let mut flags = 0;
        if !set.data.is_empty() {
            flags |= NFT_SET_MAP;
        }
        if set.timeout.is_some() {
            flags |= NFT_SET_TIMEOUT;
        }
        if set.dynamic {
            flags |= NFT_SET_EVAL;
        }
        let (key_type, key_len) = concat_type(&set.key);
        let mut body = Attrs::new();
        body.str(NFTA_SET_TABLE, table)
            .str(NFTA_SET_NAME, &set.name)
            .u32_be(NFTA_SET_FLAGS, flags)
            .u32_be(NFTA_SET_KEY_TYPE, key_type)
            .u32_be(NFTA_SET_KEY_LEN, key_len);
        if !set.data.is_empty() {
            let (data_type, data_len) = concat_type(&set.data);
            body.u32_be(NFTA_SET_DATA_TYPE, data_type)
                .u32_be(NFTA_SET_DATA_LEN, data_len);
        }
        body.u32_be(NFTA_SET_ID, id);
        if let Some(size) = set.size {
            body.nested(NFTA_SET_DESC, |d| {
                d.u32_be(NFTA_SET_DESC_SIZE, size);
            });
        }
        if let Some(t) = set.timeout {
            body.u64_be(NFTA_SET_TIMEOUT, t.as_millis() as u64);
        }
        let kind = if set.data.is_empty() { "set" } else { "map" };
        let op = format!("add {kind} {family} {table} {}", set.name);
        self.push(NFT_MSG_NEWSET, NLM_F_CREATE, family, body, op);
    }

    /// `nft add element FAMILY TABLE SET { ADDRESS, ... }`, into a set of
    /// addresses of their family.
    pub(crate) fn add_addresses(
        &mut self,
        family: Family,
        table: &str,
        set: &str,
        addrs: &[IpAddr],
    ) {
        let mut body = Attrs::new();
        body.str(NFTA_SET_ELEM_LIST_TABLE, table)
            .str(NFTA_SET_ELEM_LIST_SET, set);
        if let Some(id) = self.set_ids.get(set) {
            body.u32_be(NFTA_SET_ELEM_LIST_SET_ID, *id);
        }
        body.nested(NFTA_SET_ELEM_LIST_ELEMENTS, |list| {
            for addr in addrs {
                list.nested(NFTA_LIST_ELEM, |elem| {
                    elem.nested(NFTA_SET_ELEM_KEY, |k| {
                        k.bytes(NFTA_DATA_VALUE, &ip_bytes(addr));
                    });
                });
            }
        });
        let op = format!("add element {family} {table} {set}");
        self.push(NFT_MSG_NEWSETELEM, NLM_F_CREATE, family, body, op);
    }

    /// Replaces table `table` of `family` with `ruleset`'s sets, chains and
    /// rules: `add table` (so that the delete finds it), `delete table`,
    /// then everything anew; in one transaction, so the node goes from the
    /// old rules to the new ones at once. An empty ruleset only deletes.
    pub(crate) fn replace_table(&mut self, family: Family, table: &str, ruleset: &NodeRuleset) {
        self.add_table(family, table);
        self.delete_table(family, table);
        if ruleset.sets.is_empty() && ruleset.chains.is_empty() {
            return;
        }
        self.install_table(family, table, ruleset);
    }

    /// Changes table `table` of `family` from `old`, what it holds, to
    /// `new`, in one transaction: every rule goes, the chains and sets
    /// that differ or are gone are deleted, the new ones made, and `new`'s
    /// rules added. A set that `old` and `new` define alike, written by the
    /// same rules in both, stays with its elements (the presets' mappings).
    /// An empty `new` deletes the table.
    pub(crate) fn update_table(
        &mut self,
        family: Family,
        table: &str,
        old: &NodeRuleset,
        new: &NodeRuleset,
    ) {
        if new.sets.is_empty() && new.chains.is_empty() {
            return self.replace_table(family, table, new);
        }
        self.add_table(family, table);
        self.flush_table(family, table);
        for (name, base) in &old.chains {
            if !new.chains.iter().any(|(n, b)| n == name && b == base) {
                self.delete_chain(family, table, name);
            }
        }
        let kept = |set: &SetDef| {
            new.sets.contains(set) && set_writers(old, &set.name) == set_writers(new, &set.name)
        };
        for set in old.sets.iter().filter(|s| !kept(s)) {
            self.delete_set(family, table, &set.name);
        }
        for set in new
            .sets
            .iter()
            .filter(|s| !old.sets.iter().any(|o| o == *s && kept(o)))
        {
            self.add_set(family, table, set);
        }
        for (name, base) in &new.chains {
            if !old.chains.iter().any(|(n, b)| n == name && b == base) {
                self.add_chain(family, table, name, Some(*base));
            }
        }
        for (chain, rule) in &new.rules {
            self.add_rule(family, table, chain, rule);
        }
    }

    /// Makes table `table` of `family` with `ruleset`'s sets, chains and
    /// rules (the table must not exist, or must not hold any of them).
    pub(crate) fn install_table(&mut self, family: Family, table: &str, ruleset: &NodeRuleset) {
        self.add_table(family, table);
        for set in &ruleset.sets {
            self.add_set(family, table, set);
        }
        for (name, base) in &ruleset.chains {
            self.add_chain(family, table, name, Some(*base));
        }
        for (chain, rule) in &ruleset.rules {
            self.add_rule(family, table, chain, rule);
        }
    }
}

/// The rules of `ruleset` that add to, refresh or delete from set `name`,
/// with their chains, in order.
fn set_writers<'r>(ruleset: &'r NodeRuleset, name: &str) -> Vec<&'r (String, Rule)> {
    ruleset
        .rules
        .iter()
        .filter(|(_, rule)| {
            rule.stmts.iter().any(
                |s| matches!(s, Stmt::Update { set, .. } | Stmt::Delete { set, .. } if set == name),
            )
        })
        .collect()
}
