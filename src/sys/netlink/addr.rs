//! Addresses, and waiting for IPv6 addresses to be ready.

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_route::address::{AddressAttribute, AddressFlags};

use super::Conn;
use crate::error::{Error, Result};

impl Conn {
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
}
