//! Routes.

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_route::route::RouteMessage;
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
