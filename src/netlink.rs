//! rtnetlink connections bound to one namespace, and the requests the builder
//! and the introspection make through them.
//!
//! A netlink socket belongs to the namespace of the thread that created it, so
//! [`Conn::open_here`] must be called on a thread inside the node. Once open, the
//! connection can be driven from any thread, which lets one runtime configure
//! many namespaces.

use std::io;
use std::net::IpAddr;
use std::os::fd::RawFd;

use futures::TryStreamExt;
use ipnet::IpNet;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{InfoBridge, InfoData, InfoKind, InfoVeth, LinkMessage};
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::AddressFamily;
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, RouteMessageBuilder};

use crate::error::{Error, Result};

/// One rtnetlink connection inside one node's namespace.
pub(crate) struct Conn {
    handle: Handle,
    task: tokio::task::JoinHandle<()>,
    node: String,
    /// Address notifications (RTNLGRP_IPV6_IFADDR), when asked for.
    events: Option<Events>,
}

type Events = futures::channel::mpsc::UnboundedReceiver<(
    netlink_packet_core::NetlinkMessage<netlink_packet_route::RouteNetlinkMessage>,
    netlink_sys::SocketAddr,
)>;

fn to_io(e: rtnetlink::Error) -> io::Error {
    match e {
        rtnetlink::Error::NetlinkError(msg) => msg.to_io(),
        other => io::Error::other(other.to_string()),
    }
}

/// MAC address text (`02:00:00:00:00:01`) to bytes; validated by the topology.
pub(crate) fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

/// What one end of a veth pair looks like when it is created.
pub(crate) struct VethEnd<'a> {
    pub name: &'a str,
    pub index: u32,
    pub mtu: Option<u32>,
    pub mac: Option<[u8; 6]>,
    /// A bridge (by index in the same namespace) to enslave the end to.
    pub master: Option<u32>,
}

impl Conn {
    /// Opens a connection in the calling thread's namespace and spawns its task
    /// on the current tokio runtime.
    pub(crate) fn open_here(node: &str) -> Result<Conn> {
        Self::open(node, false)
    }

    /// Like [`open_here`](Conn::open_here), also subscribed to IPv6 address
    /// events, for [`wait_ipv6_ready`](Conn::wait_ipv6_ready).
    pub(crate) fn open_here_watching_ipv6(node: &str) -> Result<Conn> {
        Self::open(node, true)
    }

    fn open(node: &str, watch: bool) -> Result<Conn> {
        let opened = if watch {
            rtnetlink::new_multicast_connection(&[rtnetlink::MulticastGroup::Ipv6Ifaddr])
        } else {
            rtnetlink::new_connection()
        };
        let (conn, handle, messages) = opened.map_err(|e| Error::Netlink {
            node: node.to_string(),
            op: "open a NETLINK_ROUTE socket".into(),
            source: e,
        })?;
        let task = tokio::spawn(conn);
        Ok(Conn {
            handle,
            task,
            node: node.to_string(),
            events: watch.then_some(messages),
        })
    }

    /// Waits until the kernel reports each IPv6 address in `pending` (ifindex,
    /// address) ready for use.
    ///
    /// Even with NODAD the kernel finishes an IPv6 address on a workqueue:
    /// only then does the interface join the address's solicited-node
    /// multicast group, and a neighbour solicitation arriving before that is
    /// dropped, stalling the peer's first packet by a second. The kernel sends
    /// RTM_NEWADDR when that work is done, so this waits for an event, not a
    /// timer. `limit` only guards against a kernel that never says so.
    pub(crate) async fn wait_ipv6_ready(
        &mut self,
        mut pending: Vec<(u32, std::net::Ipv6Addr)>,
        limit: std::time::Duration,
    ) -> Result<()> {
        use futures::StreamExt;
        use netlink_packet_core::NetlinkPayload;
        use netlink_packet_route::RouteNetlinkMessage;
        let Some(events) = self.events.as_mut() else {
            return Ok(());
        };
        let _ = tokio::time::timeout(limit, async {
            while !pending.is_empty() {
                let Some((msg, _)) = events.next().await else {
                    break;
                };
                if let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a)) = msg.payload {
                    let tentative = a.attributes.iter().any(|attr| {
                        matches!(attr, AddressAttribute::Flags(f) if f.contains(AddressFlags::Tentative))
                    });
                    if tentative {
                        continue;
                    }
                    for attr in &a.attributes {
                        if let AddressAttribute::Address(IpAddr::V6(ip)) = attr {
                            pending.retain(|(i, p)| !(*i == a.header.index && p == ip));
                        }
                    }
                }
            }
        })
        .await;
        match pending.first() {
            None => Ok(()),
            Some((index, ip)) => Err(Error::Netlink {
                node: self.node.clone(),
                op: format!("wait for IPv6 address {ip} on ifindex {index} to become usable"),
                source: io::Error::from(io::ErrorKind::TimedOut),
            }),
        }
    }

    fn err(&self, op: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> Error + '_ {
        let op = op.into();
        move |e| Error::Netlink {
            node: self.node.clone(),
            op,
            source: to_io(e),
        }
    }

    /// Drops the handle and waits for the connection task, so the socket is
    /// closed when this returns.
    pub(crate) async fn close(self) {
        drop(self.handle);
        self.task.abort();
        let _ = self.task.await;
    }

    /// `ip link set dev INDEX up`.
    pub(crate) async fn link_up(&self, index: u32, name: &str) -> Result<()> {
        let msg = LinkUnspec::new_with_index(index).up().build();
        self.handle
            .link()
            .set(msg)
            .execute()
            .await
            .map_err(self.err(format!("ip link set {name} up")))
    }

    /// `ip link show dev INDEX`: one RTM_GETLINK. Right after bringing a veth
    /// up this also lets the link state settle, so the first ARP is not lost.
    pub(crate) async fn get_link(&self, index: u32) -> Result<LinkMessage> {
        let mut stream = self.handle.link().get().match_index(index).execute();
        let msg = stream
            .try_next()
            .await
            .map_err(self.err(format!("ip link show index {index}")))?;
        msg.ok_or_else(|| Error::Netlink {
            node: self.node.clone(),
            op: format!("ip link show index {index}"),
            source: io::Error::from_raw_os_error(libc::ENODEV),
        })
    }

    /// Creates a veth pair with `local` in this namespace and `peer` created
    /// directly in the namespace of `peer_ns_fd`. Nothing passes through the
    /// host namespace. The local end is created up; the peer cannot be (the
    /// kernel refuses IFF_UP in the peer message), so bring it up from its own
    /// namespace.
    pub(crate) async fn add_veth(
        &self,
        local: &VethEnd<'_>,
        peer: &VethEnd<'_>,
        peer_ns_fd: RawFd,
    ) -> Result<()> {
        let mut peer_msg = LinkUnspec::new_with_name(peer.name)
            .index(peer.index)
            .setns_by_fd(peer_ns_fd);
        if let Some(mtu) = peer.mtu {
            peer_msg = peer_msg.mtu(mtu);
        }
        if let Some(mac) = peer.mac {
            peer_msg = peer_msg.address(mac.to_vec());
        }
        let mut msg = LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Veth)
            .name(local.name)
            .index(local.index)
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer_msg.build())))
            .up();
        if let Some(mtu) = local.mtu {
            msg = msg.mtu(mtu);
        }
        if let Some(mac) = local.mac {
            msg = msg.address(mac.to_vec());
        }
        if let Some(master) = local.master {
            msg = msg.controller(master);
        }
        self.handle
            .link()
            .add(msg.build())
            .execute()
            .await
            .map_err(self.err(format!(
                "ip link add {} type veth peer name {}",
                local.name, peer.name
            )))
    }

    /// `ip link add NAME type bridge` (STP off, forward delay 0), created up.
    pub(crate) async fn add_bridge(&self, name: &str, index: u32, mtu: Option<u32>) -> Result<()> {
        let mut msg = LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Bridge)
            .name(name)
            .index(index)
            .set_info_data(InfoData::Bridge(vec![
                InfoBridge::StpState(netlink_packet_route::link::BridgeStpState::Disabled),
                InfoBridge::ForwardDelay(0),
            ]))
            .up();
        if let Some(mtu) = mtu {
            msg = msg.mtu(mtu);
        }
        self.handle
            .link()
            .add(msg.build())
            .execute()
            .await
            .map_err(self.err(format!("ip link add {name} type bridge")))
    }

    /// `ip addr add ADDR dev INDEX` (`nodad` for IPv6, so it is usable at once).
    pub(crate) async fn add_address(&self, index: u32, ifname: &str, addr: IpNet) -> Result<()> {
        let mut req = self
            .handle
            .address()
            .add(index, addr.addr(), addr.prefix_len());
        if addr.addr().is_ipv6() {
            req.message_mut()
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        req.execute()
            .await
            .map_err(self.err(format!("ip addr add {addr} dev {ifname}")))
    }

    /// `ip route add DST [via GW] [dev INDEX]`.
    pub(crate) async fn add_route(
        &self,
        dst: IpNet,
        via: Option<IpAddr>,
        dev: Option<(u32, &str)>,
    ) -> Result<()> {
        let mut text = format!("ip route add {dst}");
        if let Some(gw) = via {
            text.push_str(&format!(" via {gw}"));
        }
        if let Some((_, name)) = dev {
            text.push_str(&format!(" dev {name}"));
        }
        let invalid = |e: String| Error::Netlink {
            node: self.node.clone(),
            op: text.clone(),
            source: io::Error::new(io::ErrorKind::InvalidInput, e),
        };
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(dst.network(), dst.prefix_len())
            .map_err(|e| invalid(e.to_string()))?;
        if let Some(gw) = via {
            b = b.gateway(gw).map_err(|e| invalid(e.to_string()))?;
        }
        if let Some((index, _)) = dev {
            b = b.output_interface(index);
        }
        self.handle
            .route()
            .add(b.build())
            .execute()
            .await
            .map_err(self.err(text.clone()))
    }

    /// `ip link show`.
    pub(crate) async fn dump_links(&self) -> Result<Vec<LinkMessage>> {
        self.handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(self.err("ip link show"))
    }

    /// `ip address show`.
    pub(crate) async fn dump_addresses(&self) -> Result<Vec<AddressMessage>> {
        self.handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(self.err("ip address show"))
    }

    /// `ip route show table all` for both families.
    pub(crate) async fn dump_routes(&self) -> Result<Vec<RouteMessage>> {
        let mut all = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut msg = RouteMessage::default();
            msg.header.address_family = family;
            let part: Vec<RouteMessage> = self
                .handle
                .route()
                .get(msg)
                .execute()
                .try_collect()
                .await
                .map_err(self.err("ip route show"))?;
            all.extend(part);
        }
        Ok(all)
    }

    /// `ip neigh show` for both families.
    pub(crate) async fn dump_neighbours(&self) -> Result<Vec<NeighbourMessage>> {
        self.handle
            .neighbours()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(self.err("ip neigh show"))
    }
}

/// Runs `f` with a fresh connection in the calling thread's namespace, on a
/// current-thread runtime made for it.
pub(crate) fn with_conn_here<R>(
    node: &str,
    f: impl for<'a> FnOnce(&'a Conn) -> futures::future::BoxFuture<'a, Result<R>>,
) -> Result<R> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Error::Spawn {
            op: "build a tokio runtime".into(),
            source: e,
        })?;
    rt.block_on(async {
        let conn = Conn::open_here(node)?;
        let out = f(&conn).await;
        conn.close().await;
        out
    })
}

/// Brings `lo` up in the calling thread's namespace.
pub(crate) fn loopback_up_here(node: &str) -> Result<()> {
    with_conn_here(node, |c| Box::pin(c.link_up(1, "lo")))
}

/// `ip link set dev INDEX up` in the calling thread's namespace, as one
/// blocking netlink request: for code that runs where no runtime can be made
/// (the pre-main constructor).
pub(crate) fn sync_link_up(index: u32) -> io::Result<()> {
    use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_REQUEST};
    use netlink_packet_route::RouteNetlinkMessage;
    use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

    let mut sock = Socket::new(NETLINK_ROUTE)?;
    sock.bind_auto()?;
    sock.connect(&SocketAddr::new(0, 0))?;
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::SetLink(
        LinkUnspec::new_with_index(index).up().build(),
    ));
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    req.header.sequence_number = 1;
    req.finalize();
    let mut buf = vec![0u8; req.header.length as usize];
    req.serialize(&mut buf);
    sock.send(&buf, 0)?;
    let mut reply = Vec::with_capacity(4096);
    sock.recv(&mut reply, 0)?;
    let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&reply)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    match msg.payload {
        NetlinkPayload::Error(e) if e.code.is_some() => Err(e.to_io()),
        _ => Ok(()),
    }
}
