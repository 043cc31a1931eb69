//! Blocking rtnetlink requests on a socket of one node, for changes made
//! while a test runs (a link down or up, an MTU, a route) and for code that
//! runs where no runtime can be made (the pre-main constructor). A request
//! is one send and one ack: no runtime, no task, no thread.

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{
    NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE,
    NLM_F_REQUEST,
};
use netlink_packet_route::link::{LinkFlags, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
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
    fn word(self) -> &'static str {
        match self {
            RouteOp::Add => "add",
            RouteOp::Replace => "replace",
            RouteOp::Delete => "del",
        }
    }
}

/// An rtnetlink socket opened inside one node.
#[derive(Debug)]
pub(crate) struct RouteSocket {
    sock: Socket,
    node: String,
    seq: u32,
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
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(err)?;
        sock.bind_auto().map_err(err)?;
        sock.connect(&SocketAddr::new(0, 0)).map_err(err)?;
        Ok(RouteSocket {
            sock,
            node: node.to_string(),
            seq: 0,
        })
    }

    /// Sends one request and returns the reply messages up to its ack (or
    /// the end of a dump).
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &str,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let err = |source| Error::Netlink {
            node: self.node.clone(),
            op: op.to_string(),
            source,
        };
        self.seq = self.seq.wrapping_add(1);
        let mut req = NetlinkMessage::from(msg);
        req.header.flags = NLM_F_REQUEST | flags;
        req.header.sequence_number = self.seq;
        req.finalize();
        let mut buf = vec![0u8; req.header.length as usize];
        req.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(err)?;
        let mut out = Vec::new();
        loop {
            let mut reply = Vec::with_capacity(16 * 1024);
            self.sock.recv(&mut reply, 0).map_err(err)?;
            let mut at = 0;
            while at < reply.len() {
                let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&reply[at..])
                    .map_err(|e| err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())))?;
                let len = msg.header.length as usize;
                if msg.header.sequence_number == self.seq {
                    match msg.payload {
                        NetlinkPayload::Error(e) => {
                            return match e.code {
                                Some(_) => Err(err(e.to_io())),
                                None => Ok(out),
                            }
                        }
                        NetlinkPayload::Done(_) => return Ok(out),
                        NetlinkPayload::InnerMessage(m) => out.push(m),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                at += (len + 3) & !3;
            }
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
        let op = format!("ip link set dev {name} {word}");
        self.request(RouteNetlinkMessage::SetLink(b.build()), NLM_F_ACK, &op)
            .map(drop)
    }

    /// `ip link set dev NAME mtu MTU`.
    pub(crate) fn set_mtu(&mut self, index: u32, name: &str, mtu: u32) -> Result<()> {
        let op = format!("ip link set dev {name} mtu {mtu}");
        let msg = LinkUnspec::new_with_index(index).mtu(mtu).build();
        self.request(RouteNetlinkMessage::SetLink(msg), NLM_F_ACK, &op)
            .map(drop)
    }

    /// The link `index` as the kernel reports it.
    pub(crate) fn get_link(&mut self, index: u32, name: &str) -> Result<LinkMessage> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        let op = format!("ip link show dev {name}");
        self.request(RouteNetlinkMessage::GetLink(msg), NLM_F_ACK, &op)?
            .into_iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .ok_or_else(|| Error::Netlink {
                node: self.node.clone(),
                op,
                source: io::Error::from(io::ErrorKind::NotFound),
            })
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
            RouteOp::Delete => (RouteNetlinkMessage::DelRoute(msg), NLM_F_ACK),
        };
        self.request(msg, flags, &text).map(drop)
    }
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
