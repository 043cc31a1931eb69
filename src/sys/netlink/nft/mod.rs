//! nftables in process, over a NETLINK_NETFILTER socket: tables, chains and
//! rules added and deleted in transactions, rules and counters read back.
//! No `nft` binary, no C library.
//!
//! - this file: the socket ([`Nft`]), transactions ([`Nft::apply`]), the
//!   family of a table;
//! - [`batch`]: the transaction being prepared ([`Batch`]): tables, sets,
//!   base chains, rules;
//! - [`expr`]: rules (the model of [`crate::ruleset`]) as nf_tables
//!   expressions, and comments in libnftnl's user-data format;
//! - [`decode`]: expressions read back into that model;
//! - [`list`]: `has_table`, `list_rules` ([`RuleInfo`]) and the whole
//!   ruleset (`list_ruleset`, what `nft list ruleset` shows);
//! - [`consts`]: the kernel's numbers; [`msg`]: the wire format (headers,
//!   attributes, replies), also used by conntrack.
//!
//! # Why an encoder of our own
//!
//! Candidates, checked before writing this:
//! - `netlink-packet-netfilter` 0.4 (rust-netlink, MIT) builds on our
//!   `netlink-packet-core` 0.9 and has table, chain and rule messages with
//!   the `meta`, `payload`, `cmp`, `bitwise`, `immediate` and `lookup`
//!   expressions, but no `counter` (it would be raw attributes both ways),
//!   no comment format, and it would add `derive_more` 0.99, hence `syn` 1,
//!   to the build for a few hundred lines of encoding;
//! - `nlink` (MIT/Apache) carries its own async connection stack beside our
//!   rtnetlink one, and needs Rust 1.88 where we promise 1.85;
//! - `rustables` is GPL: out.
//!
//! So the messages are written here, on a blocking `netlink_sys::Socket`
//! as in [`sync_link_up`](super::sync_link_up): the handful of messages and
//! expressions the crate uses, checked by unit tests (a message and a
//! rule's expressions byte for byte, rules parsed back, constants against
//! the `libc` crate) and against `nft list ruleset` when `nft` is installed.
//!
//! # Transactions
//!
//! [`Nft::apply`] sends a batch as one datagram, `NFNL_MSG_BATCH_BEGIN`,
//! the messages, `NFNL_MSG_BATCH_END`: the kernel applies all of them or
//! none. It processes the datagram inside `send` and has queued its answers
//! when `send` returns, so they are read without blocking until the queue is
//! empty (as `nft` does). Each message asks for an ack (`NLM_F_ACK`), up to
//! 200 messages, whose acks fit the default receive buffer; in a larger
//! batch only the last message does: errors come unasked, and that last
//! ack tells that the kernel went through the whole batch. The send buffer
//! is grown to the batch's size; past `net.core.wmem_max` (some 2000 rules
//! at the default 208 KiB, which the kernel doubles) the send fails with
//! EMSGSIZE and nothing is applied.

mod batch;
mod consts;
mod decode;
mod expr;
mod list;
pub(crate) mod msg;
mod stmt;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_encoding;
#[cfg(test)]
mod tests_nat;

use std::io;

use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};
use nix::sys::socket::{getsockopt, setsockopt, sockopt};

pub(crate) use crate::ruleset::TableFamily as Family;
pub(crate) use batch::Batch;
#[cfg(test)]
pub(crate) use list::RuleInfo;

use crate::error::{Error, Result};
use msg::{put_batch_marker, put_message, Reply, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END};

/// The largest datagram read at once: dumps come in datagrams of at most
/// 32 KiB, acks are small.
const RECV_BUF: usize = 64 * 1024;

/// The two batch markers, BEGIN and END.
const NLMSG_BATCH_MARKERS: usize = 2 * (msg::NLMSG_HDRLEN + msg::NFGENMSG_LEN);

/// What one queued ack costs in the receive buffer, rounded up: the kernel
/// counts an skb's true size, between 430 and 850 bytes for a 36-byte ack
/// (measured: 250 acks fit the default 208 KiB buffer, 500 do not).
const ACK_TRUESIZE: usize = 1024;

/// The largest batch whose messages each ask for an ack: their acks fit
/// the default receive buffer (`net.core.rmem_default`, 208 KiB) even
/// where it cannot be grown. A larger batch asks for an ack on its last
/// message only.
const ACK_EACH_MAX: usize = 200;

/// What the kernel keeps of the send buffer for itself: a datagram larger
/// than the buffer less this is refused with EMSGSIZE.
const SNDBUF_SLACK: usize = 1024;

impl Family {
    /// The kernel's `NFPROTO_*` number.
    pub(crate) fn nfproto(self) -> u8 {
        match self {
            Family::Inet => 1,
            Family::Ip => 2,
            Family::Ip6 => 10,
            Family::Bridge => 7,
        }
    }

    /// The family of `NFPROTO_*` number `n`.
    pub(crate) fn from_nfproto(n: u8) -> Option<Family> {
        match n {
            1 => Some(Family::Inet),
            2 => Some(Family::Ip),
            7 => Some(Family::Bridge),
            10 => Some(Family::Ip6),
            _ => None,
        }
    }
}

/// A NETLINK_NETFILTER socket in one node's namespace.
///
/// It belongs to the namespace of the thread that opened it
/// ([`Nft::open_here`]); once open it can be used from any thread.
#[derive(Debug)]
pub(crate) struct Nft {
    /// The socket, connected to the kernel.
    sock: Socket,
    /// The node, for errors.
    node: String,
    /// The last sequence number used.
    seq: u32,
    /// The send buffer's size as the kernel reports it (`SO_SNDBUF`).
    sndbuf: usize,
    /// The receive buffer's size as the kernel reports it (`SO_RCVBUF`).
    rcvbuf: usize,
}

impl Nft {
    /// Opens a socket in the calling thread's namespace; `node` names it in
    /// errors.
    pub(crate) fn open_here(node: &str) -> Result<Nft> {
        let err = |e| Error::Nftables {
            node: node.to_string(),
            op: "open a NETLINK_NETFILTER socket".into(),
            source: e,
        };
        let mut sock = Socket::new(NETLINK_NETFILTER).map_err(err)?;
        sock.bind_auto().map_err(err)?;
        sock.connect(&SocketAddr::new(0, 0)).map_err(err)?;
        // Acks carry only the header of the message they answer, not the
        // whole message: more of them fit in the receive buffer.
        sock.set_cap_ack(true).map_err(err)?;
        let errno = |e| err(crate::error::errno(e));
        let sndbuf = getsockopt(&sock, sockopt::SndBuf).map_err(errno)?;
        let rcvbuf = getsockopt(&sock, sockopt::RcvBuf).map_err(errno)?;
        Ok(Nft {
            sock,
            node: node.to_string(),
            seq: 0,
            sndbuf,
            rcvbuf,
        })
    }

    /// Applies `batch` as one transaction: every change or, on the first
    /// error, none. The error names the change the kernel refused ("add rule
    /// inet netns_test output") and its errno.
    pub(crate) fn apply(&mut self, batch: &Batch) -> Result<()> {
        if let Some((op, reason)) = &batch.invalid {
            let source = io::Error::new(io::ErrorKind::InvalidInput, reason.clone());
            return Err(self.error(op, source));
        }
        let n = batch.messages.len();
        if n == 0 {
            return Ok(());
        }
        let commit = format!("commit a transaction of {n} changes");
        let size = NLMSG_BATCH_MARKERS
            + batch
                .messages
                .iter()
                .map(|m| msg::NLMSG_HDRLEN + msg::NFGENMSG_LEN + m.body.len())
                .sum::<usize>();
        self.fit_buffers(size, n.min(ACK_EACH_MAX));
        let ack_each = n <= ACK_EACH_MAX;
        // Sequence numbers: BEGIN, then message i at first + 1 + i, then END.
        let first = self.take_seqs(n as u32 + 2);
        let mut out = Vec::with_capacity(size);
        put_batch_marker(&mut out, NFNL_MSG_BATCH_BEGIN, first);
        for (i, m) in batch.messages.iter().enumerate() {
            let ack = if ack_each || i == n - 1 {
                msg::NLM_F_ACK
            } else {
                0
            };
            let flags = msg::NLM_F_REQUEST | ack | m.flags;
            let seq = first.wrapping_add(1 + i as u32);
            put_message(&mut out, m.ty, flags, seq, m.family, 0, &m.body);
        }
        put_batch_marker(
            &mut out,
            NFNL_MSG_BATCH_END,
            first.wrapping_add(1 + n as u32),
        );
        let sent = self
            .sock
            .send(&out, 0)
            .map_err(|e| self.error(&commit, e))?;
        if sent != out.len() {
            let short = io::Error::other(format!("sent {sent} of {} bytes", out.len()));
            return Err(self.error(&commit, short));
        }
        let (answers, overflow) = self
            .read_answers(first, n)
            .map_err(|e| self.error(&commit, e))?;
        // The first refused message is the cause; later ones may fail only
        // because of it. Answers come in the order of the messages, so even
        // after an overflow the first error read is the first error.
        let refused = |k: &usize| answers[*k].is_some_and(|e| e != 0);
        if let Some(k) = (1..=n).find(refused) {
            let source = io::Error::from_raw_os_error(answers[k].unwrap_or_default());
            return Err(self.error(&batch.messages[k - 1].op, source));
        }
        // An error on BEGIN: the batch was refused as a whole (EPERM without
        // CAP_NET_ADMIN) or failed to commit.
        if let Some(k) = [0, n + 1].into_iter().find(refused) {
            let source = io::Error::from_raw_os_error(answers[k].unwrap_or_default());
            return Err(self.error(&commit, source));
        }
        if overflow {
            let source = io::Error::other(
                "the kernel's answers overflowed the receive buffer: whether the transaction \
                 was committed is unknown",
            );
            return Err(self.error(&commit, source));
        }
        let missing = (1..=n).find(|&k| (ack_each || k == n) && answers[k].is_none());
        if let Some(k) = missing {
            let source = io::Error::other(format!(
                "no answer from the kernel to message {k} of {n} ({})",
                batch.messages[k - 1].op
            ));
            return Err(self.error(&commit, source));
        }
        Ok(())
    }

    /// Reads the answers to the transaction whose BEGIN had sequence number
    /// `first` and that held `n` messages, until none is left: the errno (0
    /// for an ack) by sequence number less `first` (0 the BEGIN, 1..=n the
    /// messages, n + 1 the END), and whether some were lost (ENOBUFS).
    ///
    /// The kernel processed the batch inside `send`, so all of its answers
    /// are queued: nothing here waits.
    fn read_answers(&self, first: u32, n: usize) -> io::Result<(Vec<Option<i32>>, bool)> {
        let mut answers: Vec<Option<i32>> = vec![None; n + 2];
        let mut overflow = false;
        loop {
            let datagram = match self.recv(libc::MSG_DONTWAIT) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    overflow = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            for reply in msg::replies(&datagram)? {
                if let Reply::Ack { seq, errno } = reply {
                    if let Some(slot) = answers.get_mut(seq.wrapping_sub(first) as usize) {
                        slot.get_or_insert(errno);
                    }
                }
            }
        }
        Ok((answers, overflow))
    }

    /// Grows the socket buffers for a batch of `bytes` bytes and `acks`
    /// acks, as far as the kernel allows (`net.core.wmem_max` and
    /// `rmem_max`, beyond them with the `*FORCE` options where we hold
    /// CAP_NET_ADMIN in the machine's user namespace). Errors are ignored:
    /// a batch too large for the send buffer fails with EMSGSIZE, and lost
    /// acks are noticed.
    fn fit_buffers(&mut self, bytes: usize, acks: usize) {
        let want_snd = bytes + SNDBUF_SLACK;
        if want_snd > self.sndbuf {
            if setsockopt(&self.sock, sockopt::SndBufForce, &want_snd).is_err() {
                let _ = setsockopt(&self.sock, sockopt::SndBuf, &want_snd);
            }
            self.sndbuf = getsockopt(&self.sock, sockopt::SndBuf).unwrap_or(self.sndbuf);
        }
        let want_rcv = acks * ACK_TRUESIZE;
        if want_rcv > self.rcvbuf {
            if setsockopt(&self.sock, sockopt::RcvBufForce, &want_rcv).is_err() {
                let _ = setsockopt(&self.sock, sockopt::RcvBuf, &want_rcv);
            }
            self.rcvbuf = getsockopt(&self.sock, sockopt::RcvBuf).unwrap_or(self.rcvbuf);
        }
    }

    /// Reserves `count` sequence numbers and returns the first.
    fn take_seqs(&mut self, count: u32) -> u32 {
        let first = self.seq.wrapping_add(1);
        self.seq = self.seq.wrapping_add(count);
        first
    }

    /// Sends one request outside a transaction (a get, a dump, a conntrack
    /// request) with `nfgen_family` `family`, and returns its sequence number.
    pub(crate) fn send_one(
        &mut self,
        ty: u16,
        flags: u16,
        family: u8,
        body: msg::Attrs,
    ) -> io::Result<u32> {
        let seq = self.take_seqs(1);
        let mut out = Vec::new();
        let flags = msg::NLM_F_REQUEST | flags;
        put_message(&mut out, ty, flags, seq, family, 0, &body.into_bytes());
        self.sock.send(&out, 0)?;
        Ok(seq)
    }

    /// Reads one datagram, again when a signal handler interrupted the
    /// wait; an error if it did not fit the buffer.
    pub(crate) fn recv(&self, flags: libc::c_int) -> io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(RECV_BUF);
        // With MSG_TRUNC, the datagram's real length is returned.
        let len = loop {
            match self.sock.recv(&mut buf, flags | libc::MSG_TRUNC) {
                Ok(len) => break len,
                // A signal handler without SA_RESTART ran: read again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a netlink datagram of {len} bytes, over {RECV_BUF}"),
            ));
        }
        Ok(buf)
    }

    /// The node the socket is in.
    pub(crate) fn node_name(&self) -> &str {
        &self.node
    }

    /// The crate's error for `op` in this node.
    pub(crate) fn error(&self, op: &str, source: io::Error) -> Error {
        Error::Nftables {
            node: self.node.clone(),
            op: op.to_string(),
            source,
        }
    }
}
