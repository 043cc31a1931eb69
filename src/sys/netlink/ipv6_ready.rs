//! Waiting for IPv6 addresses to be usable: after the build adds them, and
//! after a link that kept them while down comes back up.
//!
//! Even with NODAD the kernel finishes an IPv6 address on a workqueue, and
//! again each time its interface comes up. Until then the address is not
//! fully in place: a new one's interface has not joined its solicited-node
//! multicast group (a neighbour solicitation for it is dropped), and a kept
//! one is not routed as local (a packet to it, a neighbour advertisement
//! answering its solicitation included, is dropped). Either way the peer's
//! first packet stalls for a second. The kernel sends RTM_NEWADDR when that
//! work is done, so the waits here wait for that event, not a timer.

use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use netlink_packet_core::NLM_F_DUMP;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::sync::RouteSocket;
use crate::error::{Error, Result};

/// `RTNLGRP_IPV6_IFADDR` from `<linux/rtnetlink.h>`.
const RTNLGRP_IPV6_IFADDR: u32 = 9;

impl RouteSocket {
    /// Subscribes this socket to IPv6 address events, for
    /// [`wait_ipv6_ready`](RouteSocket::wait_ipv6_ready). Events that
    /// arrive while later requests wait for their acknowledgements are kept.
    ///
    /// The kernel walks every subscribed socket of the machine, in all
    /// namespaces, for every routing notification: subscribe only for the
    /// time of the change and its wait, then close the socket or
    /// [`unwatch`](RouteSocket::unwatch_ipv6_addresses).
    pub(crate) fn watch_ipv6_addresses(&mut self) -> Result<()> {
        self.sock
            .add_membership(RTNLGRP_IPV6_IFADDR)
            .map_err(|e| self.err(&|| "subscribe to IPv6 address events".into(), e))?;
        self.events.get_or_insert_with(Vec::new);
        Ok(())
    }

    /// Waits until the kernel reports each IPv6 address in `pending`
    /// (ifindex, interface name for errors, address) ready for use.
    ///
    /// See the module's documentation; `limit` only guards against a kernel
    /// that never says so.
    pub(crate) fn wait_ipv6_ready(
        &mut self,
        mut pending: Vec<(u32, &str, Ipv6Addr)>,
        limit: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            for a in self.events.as_mut().map(std::mem::take).unwrap_or_default() {
                forget_ready(&mut pending, &a);
            }
            let Some(&(_, name, ip)) = pending.first() else {
                return Ok(());
            };
            let timed_out = || Error::Netlink {
                node: self.node.clone(),
                op: format!("wait for IPv6 address {ip} on {name} to become usable"),
                source: io::Error::from(io::ErrorKind::TimedOut),
            };
            if self.events.is_none() {
                return Err(timed_out());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
            let op = || "wait for IPv6 address events".to_string();
            match poll(&mut fds, timeout) {
                Ok(0) => return Err(timed_out()),
                Ok(_) => {
                    self.receive(&op, None)?;
                }
                // A signal handler ran: wait again for the time left.
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(self.err(&op, e.into())),
            }
        }
    }
    /// Unsubscribes from the address events of
    /// [`watch_ipv6_addresses`](RouteSocket::watch_ipv6_addresses) and
    /// forgets those received: the kernel stops walking this socket for
    /// every routing notification of the machine.
    pub(crate) fn unwatch_ipv6_addresses(&mut self) {
        if self.events.take().is_some() {
            // Dropping a membership the socket holds cannot fail; should it,
            // the socket only keeps receiving events it ignores.
            let _ = self.sock.drop_membership(RTNLGRP_IPV6_IFADDR);
        }
    }

    /// The IPv6 addresses of interface `index` (`name` in errors) that the
    /// kernel has yet to finish without duplicate address detection: those
    /// without their local route (table `local`, the address /128 on the
    /// interface) that are neither tentative (detecting duplicates, which
    /// takes a second or more, as it does after a build) nor failed.
    pub(crate) fn unfinished_ipv6_addresses(
        &mut self,
        index: u32,
        name: &str,
    ) -> Result<Vec<Ipv6Addr>> {
        let op = || format!("ip -6 address show dev {name}");
        let mut request = AddressMessage::default();
        request.header.family = AddressFamily::Inet6;
        request.header.index = index;
        let replies = self.request(RouteNetlinkMessage::GetAddress(request), NLM_F_DUMP, &op)?;
        let addresses: Vec<Ipv6Addr> = replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) if a.header.index == index => Some(a),
                _ => None,
            })
            .filter(|a| !flags(a).intersects(AddressFlags::Tentative | AddressFlags::Dadfailed))
            .flat_map(|a| a.attributes)
            .filter_map(|attr| match attr {
                AddressAttribute::Address(IpAddr::V6(ip)) => Some(ip),
                _ => None,
            })
            .collect();
        if addresses.is_empty() {
            return Ok(addresses);
        }
        let local = self.local_ipv6_routes(index, name)?;
        Ok(addresses
            .into_iter()
            .filter(|ip| !local.contains(ip))
            .collect())
    }

    /// The addresses the local table routes to interface `index` (`name` in
    /// errors): `ip -6 route show table local type local dev NAME`.
    fn local_ipv6_routes(&mut self, index: u32, name: &str) -> Result<Vec<Ipv6Addr>> {
        let op = || format!("ip -6 route show table local dev {name}");
        let mut request = RouteMessage::default();
        request.header.address_family = AddressFamily::Inet6;
        let replies = self.request(RouteNetlinkMessage::GetRoute(request), NLM_F_DUMP, &op)?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r)
                    if r.header.table == RT_TABLE_LOCAL
                        && r.header.kind == RouteType::Local
                        && r.header.destination_prefix_length == 128
                        && r.attributes.contains(&RouteAttribute::Oif(index)) =>
                {
                    r.attributes.into_iter().find_map(|a| match a {
                        RouteAttribute::Destination(RouteAddress::Inet6(ip)) => Some(ip),
                        _ => None,
                    })
                }
                _ => None,
            })
            .collect())
    }
}

/// `RT_TABLE_LOCAL` from `<linux/rtnetlink.h>`.
const RT_TABLE_LOCAL: u8 = 255;

/// The flags of an address: the 32-bit attribute when the kernel sends it,
/// else the header's 8 bits.
fn flags(msg: &AddressMessage) -> AddressFlags {
    msg.attributes
        .iter()
        .find_map(|attr| match attr {
            AddressAttribute::Flags(f) => Some(*f),
            _ => None,
        })
        .unwrap_or_else(|| AddressFlags::from_bits_truncate(u32::from(msg.header.flags.bits())))
}

/// Removes from `pending` the address `msg` reports, unless it is still
/// tentative; one whose duplicate address detection failed is removed too
/// (it is final: no later event would report it usable).
fn forget_ready(pending: &mut Vec<(u32, &str, Ipv6Addr)>, msg: &AddressMessage) {
    let f = flags(msg);
    if f.contains(AddressFlags::Tentative) && !f.contains(AddressFlags::Dadfailed) {
        return;
    }
    for attr in &msg.attributes {
        if let AddressAttribute::Address(IpAddr::V6(ip)) = attr {
            pending.retain(|(i, _, p)| !(*i == msg.header.index && p == ip));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NetNs;

    #[test]
    fn an_ipv6_address_never_reported_ready_is_named_with_its_interface() {
        let ns = NetNs::new("v6-wait").expect("create a namespace (run the tests as root)");
        ns.run(|| {
            let mut sock = RouteSocket::open_here("v6-wait").unwrap();
            // Not subscribed to address events: nothing can report it ready.
            let ip: Ipv6Addr = "2001:db8::1".parse().unwrap();
            let e = sock
                .wait_ipv6_ready(vec![(7, "eth3", ip)], Duration::from_millis(10))
                .unwrap_err();
            assert_eq!(
                e.to_string(),
                "netlink: wait for IPv6 address 2001:db8::1 on eth3 to become usable \
                 in node `v6-wait`: timed out"
            );
        })
        .unwrap();
    }
}
