//! Links: veth pairs across namespaces, bridges, up/down.

use std::io;
use std::os::fd::RawFd;

use futures::TryStreamExt;

use netlink_packet_route::link::{InfoBridge, InfoData, InfoKind, InfoVeth, LinkMessage};
use rtnetlink::{LinkMessageBuilder, LinkUnspec};

use super::{with_conn_here, Conn};
use crate::error::{Error, Result};

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
                // Without snooping, adding a port does not walk every other
                // port's multicast state (quadratic in the ports), and no
                // querier ever runs, so nothing changes for the frames: they
                // are flooded as a snooping bridge without querier floods them.
                InfoBridge::MulticastSnooping(false),
                // Bridged frames skip the IP hooks of br_netfilter (a switch
                // node has no firewall), which otherwise route-look-up every
                // flooded IPv6 frame.
                InfoBridge::NfCallIpTables(false),
                InfoBridge::NfCallIp6Tables(false),
                InfoBridge::NfCallArpTables(false),
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
}

/// Brings `lo` up in the calling thread's namespace.
pub(crate) fn loopback_up_here(node: &str) -> Result<()> {
    with_conn_here(node, |c| Box::pin(c.link_up(1, "lo")))
}

/// Deletes every interface but `lo` in the calling thread's namespace and
/// returns how many deletions succeeded (deleting a veth end also removes its
/// peer in the other node, which is then gone when that node's turn comes).
pub(crate) fn delete_all_links_here(node: &str) -> Result<usize> {
    with_conn_here(node, |c| {
        Box::pin(async move {
            let mut deleted = 0;
            for link in c.dump_links().await? {
                if link
                    .header
                    .flags
                    .contains(netlink_packet_route::link::LinkFlags::Loopback)
                {
                    continue;
                }
                // ENODEV: already gone with its veth peer.
                let index = link.header.index;
                match c.handle.link().del(index).execute().await {
                    Ok(()) => deleted += 1,
                    Err(e) => match (c.err(format!("ip link del {index}")))(e) {
                        Error::Netlink { source, .. }
                            if source.raw_os_error() == Some(libc::ENODEV) => {}
                        other => return Err(other),
                    },
                }
            }
            Ok(deleted)
        })
    })
}
