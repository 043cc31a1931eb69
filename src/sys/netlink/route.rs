//! Routes.

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::RouteMessageBuilder;

use crate::error::{Error, Result};

/// A route request: its message and its text in the words of `ip`
/// (`ip route VERB DST [via GW] [dev NAME]`), or an error naming it.
pub(super) fn route_message(
    node: &str,
    verb: &str,
    dst: IpNet,
    via: Option<IpAddr>,
    dev: Option<(u32, &str)>,
) -> Result<(RouteMessage, String)> {
    let mut text = format!("ip route {verb} {dst}");
    if let Some(gw) = via {
        text.push_str(&format!(" via {gw}"));
    }
    if let Some((_, name)) = dev {
        text.push_str(&format!(" dev {name}"));
    }
    let invalid = |e: String| Error::Netlink {
        node: node.to_string(),
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
    Ok((b.build(), text))
}

/// A route read back from the kernel, kept to be added again: what the
/// kernel dumped, less what only describes its current state.
#[derive(Debug, Clone)]
pub(crate) struct SavedRoute(RouteMessage);

impl super::sync::RouteSocket {
    /// The routes of the main table through interface `index` (`name` in
    /// errors), of both families, but for the kernel's own (connected
    /// subnets, IPv6 prefixes and link-local, router advertisements),
    /// cached ones and those using a nexthop object: what the kernel
    /// deletes when the interface goes down and does not give back when it
    /// comes up. A multipath route is not among them: the kernel keeps it
    /// while one of its nexthops is up and revives the others with their
    /// interface.
    pub(crate) fn routes_via(&mut self, index: u32, name: &str) -> Result<Vec<SavedRoute>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let op = || {
                format!(
                    "ip -{} route show table main dev {name}",
                    family_digit(family)
                )
            };
            let mut request = RouteMessage::default();
            request.header.address_family = family;
            let replies = self.request(RouteNetlinkMessage::GetRoute(request), NLM_F_DUMP, &op)?;
            out.extend(
                replies
                    .into_iter()
                    .filter_map(|m| match m {
                        RouteNetlinkMessage::NewRoute(r) => Some(r),
                        _ => None,
                    })
                    .filter(|r| {
                        r.header.table == RouteHeader::RT_TABLE_MAIN
                            && r.header.kind == RouteType::Unicast
                            && !matches!(
                                r.header.protocol,
                                RouteProtocol::Kernel | RouteProtocol::Ra
                            )
                            && !r.header.flags.contains(RouteFlags::Cloned)
                            && r.attributes.contains(&RouteAttribute::Oif(index))
                            && !r
                                .attributes
                                .iter()
                                .any(|a| matches!(a, RouteAttribute::NhId(_)))
                    })
                    .map(as_request),
            );
        }
        Ok(out)
    }

    /// Adds `route` (from [`routes_via`](Self::routes_via)) back; a route
    /// that exists by then with the same destination and metric (one the
    /// test added meanwhile) is left as it is.
    pub(crate) fn restore_route(&mut self, route: &SavedRoute) -> Result<()> {
        let op = || format!("ip route add {}", describe(&route.0));
        let flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        match self.request_ack(RouteNetlinkMessage::NewRoute(route.0.clone()), flags, &op) {
            Err(Error::Netlink { source, .. }) if source.raw_os_error() == Some(libc::EEXIST) => {
                Ok(())
            }
            r => r,
        }
    }
}

/// `4` or `6`, as `ip -4` and `ip -6` write the family.
fn family_digit(family: AddressFamily) -> u8 {
    if family == AddressFamily::Inet6 {
        6
    } else {
        4
    }
}

/// A dumped route as a request that adds it: of the dump's flags only
/// `onlink` kept (the others describe the kernel's state of the route), and
/// the cache information dropped.
fn as_request(mut r: RouteMessage) -> SavedRoute {
    r.header.flags &= RouteFlags::Onlink;
    r.attributes
        .retain(|a| !matches!(a, RouteAttribute::CacheInfo(_)));
    SavedRoute(r)
}
/// `DST/LEN [via GW]` of a route, for errors.
fn describe(r: &RouteMessage) -> String {
    let addr = |a: &RouteAddress| match a {
        RouteAddress::Inet(ip) => ip.to_string(),
        RouteAddress::Inet6(ip) => ip.to_string(),
        other => format!("{other:?}"),
    };
    let mut dst = None;
    let mut via = None;
    for a in &r.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = Some(addr(d)),
            RouteAttribute::Gateway(g) => via = Some(addr(g)),
            _ => {}
        }
    }
    let mut text = match dst {
        Some(d) => format!("{d}/{}", r.header.destination_prefix_length),
        None => "default".to_string(),
    };
    if let Some(gw) = via {
        text.push_str(&format!(" via {gw}"));
    }
    text
}
