//! The wire format: netlink headers, the nfnetlink header, attributes
//! (netlink TLVs) to write and to read, and the kernel's replies.
//!
//! Numbers are the kernel's, from `include/uapi/linux/netlink.h`,
//! `linux/netfilter/nfnetlink.h` and `linux/netfilter/nf_tables.h`; the
//! names are the kernel's too, so a value can be checked against the header
//! with a grep. Attribute payloads of nf_tables are big-endian (network
//! order); the netlink and nfnetlink headers are host order, except the
//! nfnetlink `res_id`.

use std::io;

/// Length of `struct nlmsghdr`.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// Length of `struct nfgenmsg` (family, version, res_id).
pub(crate) const NFGENMSG_LEN: usize = 4;
/// Length of `struct nlattr`.
const NLA_HDRLEN: usize = 4;

/// `NLM_F_REQUEST`: a message to the kernel.
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`: ask for an ack (an `NLMSG_ERROR` with code 0) on success.
pub(crate) const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`): every object, as a multipart reply.
pub(crate) const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_CREATE`: create the object if it does not exist.
pub(crate) const NLM_F_CREATE: u16 = 0x400;
/// `NLM_F_APPEND`: add the rule at the end of the chain.
pub(crate) const NLM_F_APPEND: u16 = 0x800;

/// `NLMSG_ERROR`: an error, or with code 0 an ack.
const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
const NLMSG_DONE: u16 = 3;

/// `NLA_F_NESTED`: the attribute holds attributes.
const NLA_F_NESTED: u16 = 0x8000;
/// `NLA_F_NET_BYTEORDER`: the attribute is in network order.
const NLA_F_NET_BYTEORDER: u16 = 0x4000;

/// `NFNL_SUBSYS_NFTABLES`: the nfnetlink subsystem of nf_tables, the high
/// byte of every nf_tables message type.
pub(crate) const NFNL_SUBSYS_NFTABLES: u16 = 10;
/// `NFNL_MSG_BATCH_BEGIN` (`NLMSG_MIN_TYPE`): opens a transaction.
pub(crate) const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
/// `NFNL_MSG_BATCH_END`: commits it.
pub(crate) const NFNL_MSG_BATCH_END: u16 = 0x11;
/// `NFNETLINK_V0`: the only nfnetlink version.
const NFNETLINK_V0: u8 = 0;

/// `NFT_MSG_NEWTABLE`.
pub(crate) const NFT_MSG_NEWTABLE: u8 = 0;
/// `NFT_MSG_GETTABLE`.
pub(crate) const NFT_MSG_GETTABLE: u8 = 1;
/// `NFT_MSG_DELTABLE`.
pub(crate) const NFT_MSG_DELTABLE: u8 = 2;
/// `NFT_MSG_NEWCHAIN`.
pub(crate) const NFT_MSG_NEWCHAIN: u8 = 3;
/// `NFT_MSG_GETCHAIN`.
pub(crate) const NFT_MSG_GETCHAIN: u8 = 4;
/// `NFT_MSG_DELCHAIN`.
pub(crate) const NFT_MSG_DELCHAIN: u8 = 5;
/// `NFT_MSG_NEWRULE`.
pub(crate) const NFT_MSG_NEWRULE: u8 = 6;
/// `NFT_MSG_GETRULE`.
pub(crate) const NFT_MSG_GETRULE: u8 = 7;
/// `NFT_MSG_DELRULE`.
pub(crate) const NFT_MSG_DELRULE: u8 = 8;
/// `NFT_MSG_NEWSET`.
pub(crate) const NFT_MSG_NEWSET: u8 = 9;
/// `NFT_MSG_GETSET`.
pub(crate) const NFT_MSG_GETSET: u8 = 10;
/// `NFT_MSG_DELSET`.
pub(crate) const NFT_MSG_DELSET: u8 = 11;
/// `NFT_MSG_NEWSETELEM`.
pub(crate) const NFT_MSG_NEWSETELEM: u8 = 12;

/// The netlink message type of an nf_tables message.
pub(crate) fn nft_type(msg: u8) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | u16::from(msg)
}

/// Attributes being written: each is a 4-byte header (length including the
/// header, type) and a value padded to 4 bytes.
#[derive(Debug, Default)]
pub(crate) struct Attrs(Vec<u8>);

impl Attrs {
    /// No attributes yet.
    pub(crate) fn new() -> Attrs {
        Attrs(Vec::new())
    }

    /// One attribute of type `ty` with `value` as is.
    pub(crate) fn bytes(&mut self, ty: u16, value: &[u8]) -> &mut Attrs {
        let len = u16::try_from(NLA_HDRLEN + value.len()).expect("attribute over 64 KiB");
        self.0.extend_from_slice(&len.to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(value);
        self.pad();
        self
    }

    /// Attributes encoded elsewhere, appended as they are.
    pub(crate) fn raw(&mut self, encoded: &[u8]) -> &mut Attrs {
        debug_assert_eq!(encoded.len() % 4, 0);
        self.0.extend_from_slice(encoded);
        self
    }

    /// A NUL-terminated string (`NLA_STRING`/`NLA_NUL_STRING`).
    pub(crate) fn str(&mut self, ty: u16, value: &str) -> &mut Attrs {
        let mut v = Vec::with_capacity(value.len() + 1);
        v.extend_from_slice(value.as_bytes());
        v.push(0);
        self.bytes(ty, &v)
    }

    /// A 32-bit number in network order (`NLA_U32` of nf_tables).
    pub(crate) fn u32_be(&mut self, ty: u16, value: u32) -> &mut Attrs {
        self.bytes(ty, &value.to_be_bytes())
    }

    /// A 64-bit number in network order (handles, counters).
    pub(crate) fn u64_be(&mut self, ty: u16, value: u64) -> &mut Attrs {
        self.bytes(ty, &value.to_be_bytes())
    }

    /// A nested attribute (`NLA_F_NESTED` set) holding what `fill` writes.
    pub(crate) fn nested(&mut self, ty: u16, fill: impl FnOnce(&mut Attrs)) -> &mut Attrs {
        let start = self.0.len();
        self.0.extend_from_slice(&[0; NLA_HDRLEN]);
        fill(self);
        let len = u16::try_from(self.0.len() - start).expect("nested attribute over 64 KiB");
        self.0[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.0[start + 2..start + 4].copy_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    /// Pads to the next multiple of 4 with zeros.
    fn pad(&mut self) {
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
    }

    /// The encoded attributes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// Appends one netlink message to `out`: the netlink header, the nfnetlink
/// header (`family`, version 0, `res_id` in network order) and `body`.
pub(crate) fn put_message(
    out: &mut Vec<u8>,
    ty: u16,
    flags: u16,
    seq: u32,
    family: u8,
    res_id: u16,
    body: &[u8],
) {
    let len = u32::try_from(NLMSG_HDRLEN + NFGENMSG_LEN + body.len()).expect("message over 4 GiB");
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    // The port id: 0, the kernel fills in ours.
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.push(family);
    out.push(NFNETLINK_V0);
    out.extend_from_slice(&res_id.to_be_bytes());
    out.extend_from_slice(body);
    // Bodies are made of attributes, so always a multiple of 4 long.
    debug_assert_eq!(out.len() % 4, 0);
}

/// The `NFNL_MSG_BATCH_BEGIN` or `_END` message around a transaction: family
/// `AF_UNSPEC`, `res_id` the subsystem the batch is for.
pub(crate) fn put_batch_marker(out: &mut Vec<u8>, ty: u16, seq: u32) {
    put_message(out, ty, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES, &[]);
}

/// Iterates over the attributes in `buf` as (type without the flag bits,
/// value); stops at the first malformed header.
pub(crate) fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.len() < NLA_HDRLEN {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let ty = u16::from_ne_bytes([rest[2], rest[3]]) & !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
        if len < NLA_HDRLEN || len > rest.len() {
            return None;
        }
        let value = &rest[NLA_HDRLEN..len];
        let padded = (len + 3) & !3;
        rest = &rest[padded.min(rest.len())..];
        Some((ty, value))
    })
}

/// A string attribute's value, without its NUL terminator.
pub(crate) fn attr_str(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).into_owned()
}

/// A 64-bit network-order attribute's value.
pub(crate) fn attr_u64_be(value: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(value.try_into().ok()?))
}

/// One message the kernel sent.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply<'a> {
    /// An `NLMSG_ERROR`: `errno` 0 is an ack, otherwise the (positive) errno
    /// of the request with sequence number `seq`.
    Ack {
        /// The sequence number of the request it answers.
        seq: u32,
        /// 0, or the errno.
        errno: i32,
    },
    /// `NLMSG_DONE`: the end of the dump with sequence number `seq`.
    Done {
        /// The sequence number of the dump request.
        seq: u32,
    },
    /// An nfnetlink object (a reply to a get, or one element of a dump).
    Object {
        /// The nfnetlink subsystem (the high byte of the netlink type).
        subsys: u8,
        /// The message type within it, `NFT_MSG_*` or `IPCTNL_MSG_*` (the
        /// low byte of the netlink type).
        msg: u8,
        /// The family of the object (`nfgen_family`).
        family: u8,
        /// The sequence number of the request it answers.
        seq: u32,
        /// The attributes, after the nfnetlink header.
        attrs: &'a [u8],
    },
}

/// Splits one datagram from the kernel into its messages.
pub(crate) fn replies(buf: &[u8]) -> io::Result<Vec<Reply<'_>>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("netlink: {what}"));
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
        let ty = u16::from_ne_bytes([rest[4], rest[5]]);
        let seq = u32::from_ne_bytes(rest[8..12].try_into().expect("4 bytes"));
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(bad("truncated message"));
        }
        let payload = &rest[NLMSG_HDRLEN..len];
        match ty {
            NLMSG_ERROR => {
                let code: [u8; 4] = payload
                    .get(0..4)
                    .and_then(|c| c.try_into().ok())
                    .ok_or_else(|| bad("short error message"))?;
                out.push(Reply::Ack {
                    seq,
                    errno: -i32::from_ne_bytes(code),
                });
            }
            NLMSG_DONE => out.push(Reply::Done { seq }),
            ty if ty >= 0x100 => {
                let attrs = payload
                    .get(NFGENMSG_LEN..)
                    .ok_or_else(|| bad("short nfnetlink message"))?;
                out.push(Reply::Object {
                    subsys: (ty >> 8) as u8,
                    msg: (ty & 0xff) as u8,
                    family: payload[0],
                    seq,
                    attrs,
                });
            }
            // NLMSG_NOOP and anything else: nothing we asked for.
            _ => {}
        }
        rest = &rest[((len + 3) & !3).min(rest.len())..];
    }
    Ok(out)
}
