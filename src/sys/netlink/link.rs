//! Removing a node's links (the teardown's releasing form).

use netlink_packet_route::link::{LinkAttribute, LinkMessage};

use super::with_conn_here;
use crate::error::{Error, Result};
use crate::sys::netns::{current_inode, is_ours};

/// Deletes every interface but `lo` in the calling thread's namespace and
/// returns how many deletions succeeded (deleting a veth end also removes its
/// peer in the other node, which is then gone when that node's turn comes).
///
/// Refuses, deleting nothing, unless that namespace is one this process
/// made (never the host's).
pub(crate) fn delete_all_links_here(node: &str) -> Result<usize> {
    let here = current_inode().map_err(|e| {
        Error::namespace(
            format!("node `{node}`: read the calling thread's namespace"),
            e,
        )
    })?;
    if !is_ours(here) {
        return Err(Error::namespace(
            format!("node `{node}`: delete every interface of namespace net:[{here}]"),
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "refused: this process did not make that namespace",
            ),
        ));
    }
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
    use crate::sys::netlink::sync::RouteSocket;

    #[test]
    fn a_link_deletion_is_named_by_the_interface() {
        let mut link = LinkMessage::default();
        link.header.index = 7;
        assert_eq!(del_op(&link), "ip link del if7");
        link.attributes.push(LinkAttribute::IfName("eth0".into()));
        assert_eq!(del_op(&link), "ip link del eth0");
    }

    #[test]
    fn the_links_of_a_namespace_this_process_did_not_make_are_not_deleted() {
        // A namespace of a thread of its own, not registered as the lab's.
        let kept = std::thread::spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let mut sock = RouteSocket::open_here("foreign").unwrap();
            sock.add_bridge("br-kept", 10, None).unwrap();
            let e = delete_all_links_here("foreign").unwrap_err();
            assert!(
                matches!(&e, Error::Namespace { op, .. } if op.starts_with("node `foreign`")),
                "{e}"
            );
            sock.get_link(10, "br-kept").is_ok()
        })
        .join()
        .unwrap();
        assert!(kept, "the bridge was deleted");
    }

    #[test]
    fn the_links_of_a_node_are_deleted() {
        let ns = crate::NetNs::new("mine").unwrap();
        let deleted = ns
            .with(|| {
                let mut sock = RouteSocket::open_here("mine").unwrap();
                sock.add_bridge("br-gone", 10, None).unwrap();
                delete_all_links_here("mine")
            })
            .unwrap()
            .unwrap();
        assert_eq!(deleted, 1);
    }
}
