//! The requests a lab's build makes, as blocking calls on a node's
//! [`RouteSocket`]: veth pairs across namespaces, bridges and addresses.
//!
//! Each socket's requests are made one after the other by one thread. A
//! blocking request is one `send` and one `recv` of its acknowledgement, as the
//! kernel answers a request inside the `send` that carries it; no runtime,
//! reactor or connection task is involved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::RawFd;

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressFlags};
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoVeth, LinkAttribute,
};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::{AddressMessageBuilder, LinkMessageBuilder, LinkUnspec};

use super::sync::RouteSocket;
use crate::error::Result;

/// Flags of a request that creates something that must not exist yet.
const CREATE: u16 = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

/// What one end of a veth pair looks like when it is created.
pub(crate) struct VethEnd<'a> {
    pub name: &'a str,
    pub index: u32,
    pub mtu: Option<u32>,
    pub mac: Option<[u8; 6]>,
    /// A bridge (by index in the same namespace) to enslave the end to.
    pub master: Option<u32>,
}

/// One transmit and one receive queue, asked for at creation.
///
/// A veth is otherwise allocated with a queue per possible CPU and cut down
/// to one real queue right after registration; the cut waits for an
/// expedited RCU grace period under the kernel's rtnl lock, for each end,
/// and adds and removes the extra queues' sysfs entries. Both ends end up
/// with one real queue either way; only `ethtool -L` can no longer raise
/// the count.
fn one_queue(msg: LinkMessageBuilder<LinkUnspec>) -> LinkMessageBuilder<LinkUnspec> {
    msg.append_extra_attribute(LinkAttribute::NumTxQueues(1))
        .append_extra_attribute(LinkAttribute::NumRxQueues(1))
}

impl RouteSocket {
    /// Creates a veth pair with `local` in this socket's namespace and
    /// `peer` created directly in the namespace of `peer_ns_fd`. Nothing
    /// passes through the host namespace. The local end is created up; the
    /// peer cannot be (the kernel refuses IFF_UP in the peer message), so
    /// bring it up from its own namespace.
    pub(crate) fn add_veth(
        &mut self,
        local: &VethEnd<'_>,
        peer: &VethEnd<'_>,
        peer_ns_fd: RawFd,
    ) -> Result<()> {
        let mut peer_msg = one_queue(
            LinkUnspec::new_with_name(peer.name)
                .index(peer.index)
                .setns_by_fd(peer_ns_fd),
        );
        if let Some(mtu) = peer.mtu {
            peer_msg = peer_msg.mtu(mtu);
        }
        if let Some(mac) = peer.mac {
            peer_msg = peer_msg.address(mac.to_vec());
        }
        let mut msg = one_queue(LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(
            InfoKind::Veth,
        ))
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
        let op = || {
            format!(
                "ip link add {} type veth peer name {}",
                local.name, peer.name
            )
        };
        self.request_ack(RouteNetlinkMessage::NewLink(msg.build()), CREATE, &op)
    }

    /// `ip link add NAME type bridge` (STP off, forward delay 0), created up.
    pub(crate) fn add_bridge(&mut self, name: &str, index: u32, mtu: Option<u32>) -> Result<()> {
        let mut msg = LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Bridge)
            .name(name)
            .index(index)
            .set_info_data(InfoData::Bridge(vec![
                InfoBridge::StpState(BridgeStpState::Disabled),
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
        let op = || format!("ip link add {name} type bridge");
        self.request_ack(RouteNetlinkMessage::NewLink(msg.build()), CREATE, &op)
    }

    /// `ip addr add ADDR dev NAME` (`nodad` for IPv6, so it is usable at once).
    pub(crate) fn add_address(&mut self, index: u32, ifname: &str, addr: IpNet) -> Result<()> {
        let msg = match addr.addr() {
            IpAddr::V4(ip) => AddressMessageBuilder::<Ipv4Addr>::new()
                .index(index)
                .address(ip, addr.prefix_len())
                .build(),
            IpAddr::V6(ip) => {
                let mut msg = AddressMessageBuilder::<Ipv6Addr>::new()
                    .index(index)
                    .address(ip, addr.prefix_len())
                    .build();
                msg.attributes
                    .push(AddressAttribute::Flags(AddressFlags::Nodad));
                msg
            }
        };
        let op = || format!("ip addr add {addr} dev {ifname}");
        self.request_ack(RouteNetlinkMessage::NewAddress(msg), CREATE, &op)
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;
    use crate::NetNs;

    fn queues(sock: &mut RouteSocket, index: u32, name: &str) -> (u32, u32) {
        let link = sock.get_link(index, name).expect("the link exists");
        let find = |want: fn(&LinkAttribute) -> Option<u32>| {
            link.attributes.iter().find_map(want).expect("reported")
        };
        (
            find(|a| match a {
                LinkAttribute::NumTxQueues(n) => Some(*n),
                _ => None,
            }),
            find(|a| match a {
                LinkAttribute::NumRxQueues(n) => Some(*n),
                _ => None,
            }),
        )
    }

    fn end(name: &str, index: u32) -> VethEnd<'_> {
        VethEnd {
            name,
            index,
            mtu: None,
            mac: None,
            master: None,
        }
    }

    #[test]
    fn veth_ends_have_one_queue_each_way() {
        let a = NetNs::new("queues-a").expect("create a namespace (run the tests as root)");
        let b = NetNs::new("queues-b").expect("create a namespace");
        a.run(|| {
            let mut sock = RouteSocket::open_here("queues-a").unwrap();
            sock.add_veth(&end("qa", 7), &end("qb", 9), b.as_raw_fd())
                .unwrap();
            assert_eq!(queues(&mut sock, 7, "qa"), (1, 1));
        })
        .unwrap();
        b.run(|| {
            let mut sock = RouteSocket::open_here("queues-b").unwrap();
            assert_eq!(queues(&mut sock, 9, "qb"), (1, 1));
        })
        .unwrap();
    }
}
