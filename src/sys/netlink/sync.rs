//! Blocking rtnetlink requests on a socket of one node: the lab's build
//! (see `build_requests.rs`), changes made while a test runs (a link down
//! or up, an MTU, a route) and code that runs where no runtime can be made
//! (the pre-main constructor). A request is one send and one ack: no
//! runtime, no task, no thread.

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{
    NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{LinkFlags, LinkMessage};
use netlink_packet_route::route::{RouteMessage, RouteProtocol, RouteScope, RouteType};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use rtnetlink::LinkUnspec;

use crate::error::{Error, Result};

/// What a route request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteOp {
    /// `ip route add`: fails if the route exists.
    Add,
    /// `ip route replace`: adds, or replaces the route to the same destination.
    Replace,
    /// `ip route del`.
    Delete,
}

impl RouteOp {
    pub(crate) fn word(self) -> &'static str {
        match self {
            RouteOp::Add => "add",
            RouteOp::Replace => "replace",
            RouteOp::Delete => "del",
        }
    }
}

/// Bytes of one receive: larger than the kernel's default dump chunk.
const RECV_BUF: usize = 16 * 1024;

/// Bytes of a netlink message header (`struct nlmsghdr`).
const HEADER_LEN: usize = 16;

/// An rtnetlink socket opened inside one node.
#[derive(Debug)]
pub(crate) struct RouteSocket {
    pub(super) sock: Socket,
    pub(super) node: String,
    seq: u32,
    /// The receive buffer, reused by every request.
    buf: Vec<u8>,
    /// Address events received so far, once subscribed to them (see
    /// `watch_ipv6_addresses`).
    pub(super) events: Option<Vec<AddressMessage>>,
}

impl RouteSocket {
    /// Opens the socket in the calling thread's namespace; it may be used
    /// from any thread afterwards.
    pub(crate) fn open_here(node: &str) -> Result<RouteSocket> {
        let err = |source| Error::Netlink {
            node: node.to_string(),
            op: "open a NETLINK_ROUTE socket".into(),
            source,
        };
        // Bound now (the kernel's notifications skip a socket without a
        // port id), not connected: a send without an address goes to the
        // kernel, and only the kernel or a process with CAP_NET_ADMIN in
        // the node could send to it.
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(err)?;
        sock.bind_auto().map_err(err)?;
        Ok(RouteSocket {
            sock,
            node: node.to_string(),
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
            events: None,
        })
    }

    /// Sends one request and returns the reply messages up to its ack (or
    /// the end of a dump). Address events that arrive meanwhile are kept
    /// when subscribed to them. `op` names the request in an error.
    pub(super) fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &dyn Fn() -> String,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        self.exchange(msg, flags, op, Some(&mut out))?;
        Ok(out)
    }

    /// Like [`request`](RouteSocket::request) for a request whose reply
    /// is not needed: only the headers are read, up to the acknowledgement.
    pub(super) fn request_ack(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &dyn Fn() -> String,
    ) -> Result<()> {
        self.exchange(msg, flags, op, None)
    }

    fn exchange(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &dyn Fn() -> String,
        mut out: Option<&mut Vec<RouteNetlinkMessage>>,
    ) -> Result<()> {
        // 0 is left to the kernel's notifications.
        self.seq = self.seq.wrapping_add(1).max(1);
        let mut req = NetlinkMessage::from(msg);
        req.header.flags = NLM_F_REQUEST | flags;
        req.header.sequence_number = self.seq;
        req.finalize();
        let mut buf = vec![0u8; req.header.length as usize];
        req.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(|e| self.err(op, e))?;
        loop {
            if let Some(end) = self.receive(op, out.as_deref_mut())? {
                return end.map_err(|e| self.err(op, e));
            }
        }
    }

    /// Reads one datagram (blocking). Address events are kept when
    /// subscribed to them; of the messages answering the request in
    /// flight, the replies go to `out` when it is given, and its end (the
    /// acknowledgement, an error or the end of a dump) is returned.
    pub(super) fn receive(
        &mut self,
        op: &dyn Fn() -> String,
        mut out: Option<&mut Vec<RouteNetlinkMessage>>,
    ) -> Result<Option<io::Result<()>>> {
        loop {
            self.buf.clear();
            match self.sock.recv(&mut self.buf, 0) {
                Ok(_) => break,
                // A signal handler without SA_RESTART ran: read again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.err(op, e)),
            }
        }
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let mut at = 0;
        while at + HEADER_LEN <= self.buf.len() {
            let b = &self.buf[at..];
            let word = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
            let len = u32::from_ne_bytes(word(0)) as usize;
            let kind = u16::from_ne_bytes([b[4], b[5]]);
            let seq = u32::from_ne_bytes(word(8));
            if len < HEADER_LEN || len > b.len() {
                return Err(self.err(op, invalid("a truncated netlink message")));
            }
            let full = || {
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&b[..len])
                    .map_err(|e| invalid(&e.to_string()))
            };
            if kind == libc::RTM_NEWADDR && seq == 0 && self.events.is_some() {
                // A notification (sequence 0, which no request of this
                // socket uses; a dump's replies carry the dump's). One that
                // does not decode is no answer to the request in flight: it
                // is left out, as the events' wait only looks for the
                // addresses it knows.
                if let Ok(NetlinkMessage {
                    payload: NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a)),
                    ..
                }) = full()
                {
                    self.events.get_or_insert_with(Vec::new).push(a);
                }
            } else if seq == self.seq {
                match kind as i32 {
                    libc::NLMSG_ERROR if len >= HEADER_LEN + 4 => {
                        let code = i32::from_ne_bytes(word(HEADER_LEN));
                        return Ok(Some(match code {
                            0 => Ok(()),
                            _ => Err(io::Error::from_raw_os_error(-code)),
                        }));
                    }
                    libc::NLMSG_DONE => return Ok(Some(Ok(()))),
                    _ => {
                        if let Some(out) = out.as_deref_mut() {
                            if let NetlinkPayload::InnerMessage(m) =
                                full().map_err(|e| self.err(op, e))?.payload
                            {
                                out.push(m);
                            }
                        }
                    }
                }
            }
            at += (len + 3) & !3;
        }
        Ok(None)
    }

    pub(super) fn err(&self, op: &dyn Fn() -> String, source: io::Error) -> Error {
        Error::Netlink {
            node: self.node.clone(),
            op: op(),
            source,
        }
    }

    /// `ip link set dev NAME up|down`.
    pub(crate) fn set_link_up(&mut self, index: u32, name: &str, up: bool) -> Result<()> {
        let b = LinkUnspec::new_with_index(index);
        let (b, word) = if up {
            (b.up(), "up")
        } else {
            (b.down(), "down")
        };
        let op = || format!("ip link set dev {name} {word}");
        self.request_ack(RouteNetlinkMessage::SetLink(b.build()), NLM_F_ACK, &op)
    }

    /// `ip link set dev NAME mtu MTU`.
    pub(crate) fn set_mtu(&mut self, index: u32, name: &str, mtu: u32) -> Result<()> {
        let op = || format!("ip link set dev {name} mtu {mtu}");
        let msg = LinkUnspec::new_with_index(index).mtu(mtu).build();
        self.request_ack(RouteNetlinkMessage::SetLink(msg), NLM_F_ACK, &op)
    }

    /// The link `index` as the kernel reports it.
    pub(crate) fn get_link(&mut self, index: u32, name: &str) -> Result<LinkMessage> {
        let op = || format!("ip link show dev {name}");
        self.request(get_link_message(index), NLM_F_ACK, &op)?
            .into_iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .ok_or_else(|| self.err(&op, io::Error::from(io::ErrorKind::NotFound)))
    }

    /// One RTM_GETLINK for link `index`, its reply unread: right after a
    /// veth's ends are up, this lets the carrier settle, so the first ARP
    /// of a fresh pair is not dropped.
    pub(crate) fn settle_link(&mut self, index: u32, name: &str) -> Result<()> {
        let op = || format!("ip link show dev {name}");
        self.request_ack(get_link_message(index), NLM_F_ACK, &op)
    }

    /// Whether link `index` is administratively up.
    pub(crate) fn link_is_up(&mut self, index: u32, name: &str) -> Result<bool> {
        Ok(self
            .get_link(index, name)?
            .header
            .flags
            .contains(LinkFlags::Up))
    }

    /// `ip route add|replace|del DST [via GW] [dev NAME]`.
    pub(crate) fn route(
        &mut self,
        op: RouteOp,
        dst: IpNet,
        via: Option<IpAddr>,
        dev: Option<(u32, &str)>,
    ) -> Result<()> {
        let (msg, text) = super::route::route_message(&self.node, op.word(), dst, via, dev)?;
        let (msg, flags) = match op {
            RouteOp::Add => (
                RouteNetlinkMessage::NewRoute(msg),
                NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            ),
            RouteOp::Replace => (
                RouteNetlinkMessage::NewRoute(msg),
                NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            ),
            RouteOp::Delete => (RouteNetlinkMessage::DelRoute(for_delete(msg)), NLM_F_ACK),
        };
        self.request_ack(msg, flags, &|| text.clone())
    }
}

/// A route message made to add a route, made to delete one as `ip route
/// del` does: the kernel deletes the first route that matches the fields
/// given, and matches the protocol, scope and type too unless they are
/// unspecified (`RTPROT_UNSPEC`, `RT_SCOPE_NOWHERE`, `RTN_UNSPEC`), so
/// these are left so for a route the kernel or `ip` added to match.
fn for_delete(mut msg: RouteMessage) -> RouteMessage {
    msg.header.protocol = RouteProtocol::Unspec;
    msg.header.scope = RouteScope::NoWhere;
    msg.header.kind = RouteType::Unspec;
    msg
}

/// RTM_GETLINK for link `index`.
fn get_link_message(index: u32) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    RouteNetlinkMessage::GetLink(msg)
}

/// `ip link set dev INDEX up` in the calling thread's namespace, as one
/// blocking request.
pub(crate) fn sync_link_up(index: u32) -> io::Result<()> {
    let mut sock = RouteSocket::open_here("").map_err(into_io)?;
    sock.set_link_up(index, "lo", true).map_err(into_io)
}

fn into_io(e: Error) -> io::Error {
    match e {
        Error::Netlink { source, .. } => source,
        other => io::Error::other(other.to_string()),
    }
}
