//! Reading back: whether a table exists, and a table's rules with their
//! handles, comments and counters.

use std::io;

use super::batch::{
    NFTA_RULE_CHAIN, NFTA_RULE_EXPRESSIONS, NFTA_RULE_HANDLE, NFTA_RULE_TABLE, NFTA_RULE_USERDATA,
    NFTA_TABLE_NAME,
};
use super::expr::{
    decode_comment, NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS, NFTA_EXPR_DATA, NFTA_EXPR_NAME,
    NFTA_LIST_ELEM,
};
use super::msg::{
    attr_str, attr_u64_be, attrs, nft_type, Attrs, Reply, NFT_MSG_GETRULE, NFT_MSG_GETTABLE,
    NFT_MSG_NEWRULE, NLM_F_ACK, NLM_F_DUMP,
};
use super::{Family, Nft};
use crate::error::Result;

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
            .send_one(nft_type(NFT_MSG_GETTABLE), NLM_F_ACK, family, body)
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
            .send_one(nft_type(NFT_MSG_GETRULE), NLM_F_DUMP, family, body)
            .map_err(|e| self.error(&op, e))?;
        let mut rules = Vec::new();
        loop {
            let datagram = self.recv(0).map_err(|e| self.error(&op, e))?;
            for reply in super::msg::replies(&datagram).map_err(|e| self.error(&op, e))? {
                match reply {
                    Reply::Object { msg, seq: s, attrs } if s == seq && msg == NFT_MSG_NEWRULE => {
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
