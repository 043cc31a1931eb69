//! A transaction being prepared: tables, chains and rules to add or delete,
//! each an nf_tables message with the words of `nft` to name it in errors.

use super::expr::{encode_comment, encode_rule, Rule, Verdict};
use super::msg::{
    nft_type, Attrs, NFT_MSG_DELRULE, NFT_MSG_DELTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE,
    NFT_MSG_NEWTABLE, NLM_F_APPEND, NLM_F_CREATE,
};
use super::Family;

/// `NFTA_TABLE_NAME`.
pub(super) const NFTA_TABLE_NAME: u16 = 1;

/// `NFTA_CHAIN_TABLE`.
const NFTA_CHAIN_TABLE: u16 = 1;
/// `NFTA_CHAIN_NAME`.
const NFTA_CHAIN_NAME: u16 = 3;
/// `NFTA_CHAIN_HOOK`: nested hook number and priority.
const NFTA_CHAIN_HOOK: u16 = 4;
/// `NFTA_CHAIN_POLICY`: the base chain's verdict for what no rule decided.
const NFTA_CHAIN_POLICY: u16 = 5;
/// `NFTA_CHAIN_TYPE`: `filter`, `nat`, `route`.
const NFTA_CHAIN_TYPE: u16 = 7;
/// `NFTA_HOOK_HOOKNUM`.
const NFTA_HOOK_HOOKNUM: u16 = 1;
/// `NFTA_HOOK_PRIORITY`.
const NFTA_HOOK_PRIORITY: u16 = 2;

/// `NFTA_RULE_TABLE`.
pub(super) const NFTA_RULE_TABLE: u16 = 1;
/// `NFTA_RULE_CHAIN`.
pub(super) const NFTA_RULE_CHAIN: u16 = 2;
/// `NFTA_RULE_HANDLE`: a rule's number in its table, 64 bits.
pub(super) const NFTA_RULE_HANDLE: u16 = 3;
/// `NFTA_RULE_EXPRESSIONS`: the list of expressions.
pub(super) const NFTA_RULE_EXPRESSIONS: u16 = 4;
/// `NFTA_RULE_USERDATA`: opaque to the kernel; `nft` keeps comments there.
pub(super) const NFTA_RULE_USERDATA: u16 = 7;

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

impl Hook {
    /// The kernel's hook number.
    fn number(self) -> u32 {
        match self {
            Hook::Prerouting => 0,
            Hook::Input => 1,
            Hook::Forward => 2,
            Hook::Output => 3,
            Hook::Postrouting => 4,
        }
    }
}

/// The type of a base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChainKind {
    /// `type filter`.
    Filter,
    /// `type nat`.
    Nat,
}

impl ChainKind {
    /// The name the kernel knows it by.
    fn name(self) -> &'static str {
        match self {
            ChainKind::Filter => "filter",
            ChainKind::Nat => "nat",
        }
    }
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
    pub(crate) fn add_rule(&mut self, family: Family, table: &str, chain: &str, rule: &Rule) {
        let op = format!("add rule {family} {table} {chain}");
        let exprs = match encode_rule(family, rule) {
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
}
