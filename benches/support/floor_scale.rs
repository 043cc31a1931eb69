//! The raw floor scaled up: `n` namespaces joined as a binary tree (node
//! `i`'s parent is `(i - 1) / 2`, `n - 1` veth pairs), as bare syscalls and
//! hand-encoded rtnetlink messages, for the scale phase's per-node rows.
//!
//! All on one fresh thread: for each node `unshare(CLONE_NEWNET)`, its
//! namespace fd and `NETLINK_ROUTE` socket, `lo` up. Then for each link, the
//! veth created in the parent with its peer placed in the child by
//! namespace fd, one `/127` of 2001:db8:1::/64 on each end (`IFA_F_NODAD`),
//! both ends up and one `RTM_GETLINK` each, as in the two-host floor. No
//! sysctls, no routes. Teardown is closing every fd. Every request is one
//! `send` and one `recv`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::floor::{
    attr, check_not_host, finish, get_link, header, netlink_socket, new_veth_ends, on_fresh_thread,
    request_ack, request_reply, set_up, unshare_net, ACK_CREATE, LO_INDEX, NLMSG_HDR_LEN, RECV_BUF,
};

/// `IFA_F_NODAD` from `<linux/if_addr.h>`.
const IFA_F_NODAD: u8 = 0x02;

/// Build and teardown of one scaled floor lab.
pub(crate) struct FloorScale {
    pub(crate) build: Duration,
    pub(crate) teardown: Duration,
}

/// RTM_NEWADDR: `addr`/127 on `index`, without DAD.
fn new_addr6(seq: u32, index: i32, addr: [u8; 16]) -> Vec<u8> {
    let mut m = header(libc::RTM_NEWADDR, ACK_CREATE, seq);
    // struct ifaddrmsg { family, prefixlen, flags, scope, index }.
    m.push(libc::AF_INET6 as u8);
    m.push(127);
    m.push(IFA_F_NODAD);
    m.push(libc::RT_SCOPE_UNIVERSE);
    m.extend_from_slice(&(index as u32).to_ne_bytes());
    debug_assert_eq!(m.len(), NLMSG_HDR_LEN + 8);
    attr(&mut m, libc::IFA_LOCAL, &addr);
    attr(&mut m, libc::IFA_ADDRESS, &addr);
    finish(m)
}

/// 2001:db8:1::/64 + `i`.
fn link_addr(i: u32) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..6].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01]);
    a[12..].copy_from_slice(&i.to_be_bytes());
    a
}

/// Raises the soft open-file limit to the hard one: the lab holds two fds
/// per node.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-pointer for getrlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 && lim.rlim_cur < lim.rlim_max
    {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit; raising the soft limit up to the
        // hard one needs no privilege.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

/// One floor lab of `n` nodes, on a thread of its own.
pub(crate) fn tree(host_ino: u64, n: usize) -> Result<FloorScale, String> {
    raise_fd_limit();
    on_fresh_thread("raw-floor-scale", move || tree_on_this_thread(host_ino, n))
}

fn tree_on_this_thread(host_ino: u64, n: usize) -> Result<FloorScale, String> {
    let mut buf = vec![0u8; RECV_BUF];
    let mut seq = 0u32;
    let mut next = || {
        seq += 1;
        seq
    };
    let start = Instant::now();
    let mut nodes: Vec<(OwnedFd, OwnedFd)> = Vec::with_capacity(n);
    for i in 0..n {
        let ns = unshare_net().map_err(|e| format!("unshare {i}: {e}"))?;
        check_not_host(&ns, host_ino)?;
        let nl = netlink_socket().map_err(|e| format!("netlink {i}: {e}"))?;
        let s = next();
        request_ack(&nl, &set_up(s, LO_INDEX), s, &mut buf)
            .map_err(|e| format!("lo up in {i}: {e}"))?;
        nodes.push((ns, nl));
    }
    // Next free ifindex of every node (1 is lo).
    let mut index = vec![2i32; n];
    for child in 1..n {
        let parent = (child - 1) / 2;
        let (ip, ic) = (index[parent], index[child]);
        index[parent] += 1;
        index[child] += 1;
        let (nl_p, nl_c) = (&nodes[parent].1, &nodes[child].1);
        let name = format!("e{ip}\0");
        let peer = format!("e{ic}\0");
        let s = next();
        let ends = [(name.as_bytes(), ip), (peer.as_bytes(), ic)];
        let msg = new_veth_ends(s, nodes[child].0.as_raw_fd(), ends);
        request_ack(nl_p, &msg, s, &mut buf).map_err(|e| format!("veth {child}: {e}"))?;
        let base = 2 * child as u32;
        for (nl, idx, a) in [(nl_p, ip, base), (nl_c, ic, base + 1)] {
            let s = next();
            request_ack(nl, &new_addr6(s, idx, link_addr(a)), s, &mut buf)
                .map_err(|e| format!("addr on link {child}: {e}"))?;
        }
        for (nl, idx) in [(nl_p, ip), (nl_c, ic)] {
            let s = next();
            request_ack(nl, &set_up(s, idx), s, &mut buf)
                .map_err(|e| format!("up on link {child}: {e}"))?;
        }
        for (nl, idx) in [(nl_p, ip), (nl_c, ic)] {
            let s = next();
            request_reply(nl, &get_link(s, idx), s, &mut buf)
                .map_err(|e| format!("getlink on link {child}: {e}"))?;
        }
    }
    let build = start.elapsed();
    let t = Instant::now();
    drop(nodes);
    Ok(FloorScale {
        build,
        teardown: t.elapsed(),
    })
}
