//! Routes.

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use rtnetlink::RouteMessageBuilder;

use super::Conn;
use crate::error::{Error, Result};

impl Conn {
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
}
