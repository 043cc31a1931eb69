//! Removing a node's links (the teardown's releasing form).

use netlink_packet_route::link::{LinkAttribute, LinkMessage};

use super::with_conn_here;
use crate::error::{Error, Result};

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
                let op = del_op(&link);
                match c.handle.link().del(link.header.index).execute().await {
                    Ok(()) => deleted += 1,
                    Err(e) => match (c.err(op))(e) {
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

/// `ip link del NAME` for `link`, or `ip link del if<INDEX>` if the
/// dump did not name it.
fn del_op(link: &LinkMessage) -> String {
    let name = link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    });
    match name {
        Some(n) => format!("ip link del {n}"),
        None => format!("ip link del if{}", link.header.index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_deletion_is_named_by_the_interface() {
        let mut link = LinkMessage::default();
        link.header.index = 7;
        assert_eq!(del_op(&link), "ip link del if7");
        link.attributes.push(LinkAttribute::IfName("eth0".into()));
        assert_eq!(del_op(&link), "ip link del eth0");
    }
}
