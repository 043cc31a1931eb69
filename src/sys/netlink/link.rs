//! Removing a node's links (the teardown's releasing form).

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
