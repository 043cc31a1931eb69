//! The "raw-floor" row: the two-host lab cycle as a bare sequence of syscalls
//! and hand-encoded rtnetlink messages, with no abstraction at all.
//!
//! One cycle, on the calling thread, which moves back to the namespace it
//! started in at the end (as the library's build does: neither pays for a
//! thread's start and join):
//!
//! 1. `unshare(CLONE_NEWNET)`: the thread is now in namespace `a`. Open
//!    `/proc/thread-self/ns/net` (`O_CLOEXEC`), a `NETLINK_ROUTE` socket and a
//!    raw ICMP socket; all three stay bound to `a`.
//! 2. `unshare(CLONE_NEWNET)` again: namespace `b`, its fd and netlink socket.
//! 3. On `a`'s socket: `RTM_NEWLINK` veth `veth0` (ifindex 2) whose peer
//!    `veth0` (ifindex 2) is placed in `b` by `IFLA_NET_NS_FD` inside
//!    `VETH_INFO_PEER`. No interface ever exists in the host namespace.
//! 4. `RTM_NEWADDR` 198.51.100.1/24 in `a`, 198.51.100.2/24 in `b`.
//! 5. `RTM_NEWLINK` IFF_UP for lo (ifindex 1) and veth0 (ifindex 2) in both.
//! 6. One `RTM_GETLINK` per veth end (settles the link; see DESIGN.md).
//! 7. One ICMP echo from `a` to 198.51.100.2, reply awaited (2 s timeout).
//! 8. Close every fd; the thread moves back home, the namespaces die.
//!
//! Every request is one `send` and one `recv` on a blocking socket.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

#[path = "floor_home.rs"]
mod home;
use home::on_fresh_thread_cpu;
use home::{fd_inode, returning_home};
pub(crate) use home::{on_fresh_thread, thread_cpu};

/// `VETH_INFO_PEER` from `<linux/veth.h>` (not exported by the libc crate).
const VETH_INFO_PEER: u16 = 1;
/// Interface index of `lo` in every new network namespace.
pub(crate) const LO_INDEX: i32 = 1;
/// Interface index we assign explicitly to `veth0` on both sides.
const VETH_INDEX: i32 = 2;
/// The two host addresses (documentation range TEST-NET-2 only).
const ADDR_A: [u8; 4] = [198, 51, 100, 1];
const ADDR_B: [u8; 4] = [198, 51, 100, 2];
const PREFIX_LEN: u8 = 24;
/// How long the echo may take before the cycle counts as failed.
const ECHO_TIMEOUT: Duration = Duration::from_secs(2);
/// Receive buffer: a veth RTM_NEWLINK reply is about 1.5 KiB.
pub(crate) const RECV_BUF: usize = 32 * 1024;

pub(crate) const NLMSG_HDR_LEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;

/// Inode of the namespace the benchmark process runs in (its main thread's),
/// read once. Each cycle checks that its two namespaces differ from it before
/// touching anything, so a failed `unshare` can never create a link in the host.
pub(crate) fn host_netns_inode() -> io::Result<u64> {
    let meta = std::fs::metadata("/proc/self/ns/net")?;
    Ok(std::os::unix::fs::MetadataExt::ino(&meta))
}

/// Runs one floor cycle on the calling thread (see the module's doc).
/// Returns the first echo's round trip. `Ok(None)`: everything worked but
/// the echo got no reply within 2 s.
pub(crate) fn cycle(host_ino: u64, echo_id: u16) -> Result<Option<Duration>, String> {
    returning_home(|| cycle_on_this_thread(host_ino, echo_id))
}

/// [`cycle`] on a fresh thread that exits afterwards, as a test harness
/// runs each test on a thread of its own (the throughput phase), with the
/// CPU time the thread spent in it.
pub(crate) fn cycle_on_fresh_thread(
    host_ino: u64,
    echo_id: u16,
) -> Result<(Option<Duration>, Duration), String> {
    on_fresh_thread_cpu("raw-floor", move || cycle_on_this_thread(host_ino, echo_id))
}

/// The body of a cycle. It leaves the thread inside namespace `b`: run it
/// through [`returning_home`] or on a thread discarded afterwards.
fn cycle_on_this_thread(host_ino: u64, echo_id: u16) -> Result<Option<Duration>, String> {
    let ns_a = unshare_net().map_err(|e| format!("unshare a: {e}"))?;
    check_not_host(&ns_a, host_ino)?;
    let nl_a = netlink_socket().map_err(|e| format!("netlink a: {e}"))?;
    let icmp_a = icmp_socket().map_err(|e| format!("icmp socket a: {e}"))?;

    let ns_b = unshare_net().map_err(|e| format!("unshare b: {e}"))?;
    check_not_host(&ns_b, host_ino)?;
    let nl_b = netlink_socket().map_err(|e| format!("netlink b: {e}"))?;

    let mut buf = vec![0u8; RECV_BUF];
    let mut seq = 0u32;
    let mut next = || {
        seq += 1;
        seq
    };

    // veth0 in a, peer veth0 in b, created in place.
    let s = next();
    request_ack(&nl_a, &new_veth(s, ns_b.as_raw_fd()), s, &mut buf).map_err(ctx("new veth"))?;

    let s = next();
    request_ack(&nl_a, &new_addr(s, VETH_INDEX, ADDR_A), s, &mut buf).map_err(ctx("addr a"))?;
    let s = next();
    request_ack(&nl_b, &new_addr(s, VETH_INDEX, ADDR_B), s, &mut buf).map_err(ctx("addr b"))?;

    for (nl, side) in [(&nl_a, "a"), (&nl_b, "b")] {
        for index in [LO_INDEX, VETH_INDEX] {
            let s = next();
            request_ack(nl, &set_up(s, index), s, &mut buf)
                .map_err(|e| format!("up ifindex {index} in {side}: {e}"))?;
        }
    }

    // Settle both ends: one RTM_GETLINK each (the reply is an RTM_NEWLINK).
    for (nl, side) in [(&nl_a, "a"), (&nl_b, "b")] {
        let s = next();
        request_reply(nl, &get_link(s, VETH_INDEX), s, &mut buf)
            .map_err(|e| format!("getlink in {side}: {e}"))?;
    }

    let rtt = echo(&icmp_a, ADDR_B, echo_id, &mut buf)?;

    // Teardown: close everything; the namespaces go once the thread leaves.
    drop((icmp_a, nl_a, nl_b, ns_a, ns_b));
    Ok(rtt)
}

/// The floor of the `links-K` rows: two namespaces joined by `k` veth pairs
/// `e0..` (ifindex 2..), link `i` with 198.51.100.4i+1/30 and .4i+2/30, all
/// up and settled like the two-host cycle; no echo. Teardown as there.
pub(crate) fn links_cycle(host_ino: u64, k: usize) -> Result<Option<Duration>, String> {
    if !(1..=63).contains(&k) {
        return Err(format!("links_cycle: k = {k} out of 1..=63"));
    }
    returning_home(|| links_on_this_thread(host_ino, k))
}

fn links_on_this_thread(host_ino: u64, k: usize) -> Result<Option<Duration>, String> {
    let ns_a = unshare_net().map_err(|e| format!("unshare a: {e}"))?;
    check_not_host(&ns_a, host_ino)?;
    let nl_a = netlink_socket().map_err(|e| format!("netlink a: {e}"))?;
    let ns_b = unshare_net().map_err(|e| format!("unshare b: {e}"))?;
    check_not_host(&ns_b, host_ino)?;
    let nl_b = netlink_socket().map_err(|e| format!("netlink b: {e}"))?;

    let mut buf = vec![0u8; RECV_BUF];
    let mut seq = 0u32;
    let mut next = || {
        seq += 1;
        seq
    };
    for (nl, side) in [(&nl_a, "a"), (&nl_b, "b")] {
        let s = next();
        request_ack(nl, &set_up(s, LO_INDEX), s, &mut buf)
            .map_err(|e| format!("lo up in {side}: {e}"))?;
    }
    for i in 0..k {
        let index = VETH_INDEX + i as i32;
        let name = format!("e{i}\0");
        let s = next();
        request_ack(
            &nl_a,
            &new_veth_named(s, ns_b.as_raw_fd(), index, name.as_bytes()),
            s,
            &mut buf,
        )
        .map_err(|e| format!("new veth e{i}: {e}"))?;
        let host = 4 * i as u8;
        for (nl, last, side) in [(&nl_a, host + 1, "a"), (&nl_b, host + 2, "b")] {
            let s = next();
            let addr = [198, 51, 100, last];
            request_ack(nl, &new_addr_len(s, index, addr, 30), s, &mut buf)
                .map_err(|e| format!("addr e{i} in {side}: {e}"))?;
        }
        for (nl, side) in [(&nl_a, "a"), (&nl_b, "b")] {
            let s = next();
            request_ack(nl, &set_up(s, index), s, &mut buf)
                .map_err(|e| format!("up e{i} in {side}: {e}"))?;
        }
        for (nl, side) in [(&nl_a, "a"), (&nl_b, "b")] {
            let s = next();
            request_reply(nl, &get_link(s, index), s, &mut buf)
                .map_err(|e| format!("getlink e{i} in {side}: {e}"))?;
        }
    }
    drop((nl_a, nl_b, ns_a, ns_b));
    Ok(None)
}

fn ctx(what: &'static str) -> impl Fn(io::Error) -> String {
    move |e| format!("{what}: {e}")
}

/// `unshare(CLONE_NEWNET)` for the calling thread, then open its new namespace.
pub(crate) fn unshare_net() -> io::Result<OwnedFd> {
    // SAFETY: unshare only changes the calling thread's namespace membership;
    // no Rust invariants depend on it.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let path: &CStr = c"/proc/thread-self/ns/net";
    // SAFETY: `path` is a valid NUL-terminated string; the returned fd is
    // checked and then owned exclusively by the OwnedFd.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn check_not_host(ns: &OwnedFd, host_ino: u64) -> Result<(), String> {
    let inode = fd_inode(ns.as_raw_fd()).map_err(|e| format!("fstat netns: {e}"))?;
    if inode == host_ino {
        return Err("refusing to continue: still in the host network namespace".into());
    }
    Ok(())
}

fn socket(domain: i32, ty: i32, proto: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the result is checked below.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn netlink_socket() -> io::Result<OwnedFd> {
    socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)
}

fn icmp_socket() -> io::Result<OwnedFd> {
    socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP)
}

fn send_all(fd: RawFd, msg: &[u8]) -> io::Result<()> {
    // SAFETY: `msg` is a valid readable buffer of `msg.len()` bytes.
    let n = unsafe { libc::send(fd, msg.as_ptr().cast(), msg.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n as usize != msg.len() {
        return Err(io::Error::other("short send"));
    }
    Ok(())
}

fn recv_into(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a valid writable buffer of `buf.len()` bytes.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Header fields of the first netlink message in `buf[..n]`.
fn first_header(buf: &[u8], n: usize) -> io::Result<(u16, u32)> {
    if n < NLMSG_HDR_LEN {
        return Err(io::Error::other("short netlink reply"));
    }
    let ty = u16::from_ne_bytes([buf[4], buf[5]]);
    let seq = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]);
    Ok((ty, seq))
}

/// The errno carried by an NLMSG_ERROR message (0 = ACK).
fn nlmsg_error_code(buf: &[u8], n: usize) -> io::Result<i32> {
    if n < NLMSG_HDR_LEN + 4 {
        return Err(io::Error::other("short NLMSG_ERROR"));
    }
    let b = &buf[NLMSG_HDR_LEN..NLMSG_HDR_LEN + 4];
    Ok(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// One request with NLM_F_ACK: one send, one recv, expect a zero error.
pub(crate) fn request_ack(nl: &OwnedFd, msg: &[u8], seq: u32, buf: &mut [u8]) -> io::Result<()> {
    send_all(nl.as_raw_fd(), msg)?;
    let n = recv_into(nl.as_raw_fd(), buf)?;
    let (ty, got_seq) = first_header(buf, n)?;
    if ty != libc::NLMSG_ERROR as u16 || got_seq != seq {
        return Err(io::Error::other(format!(
            "unexpected reply type {ty} seq {got_seq}"
        )));
    }
    match nlmsg_error_code(buf, n)? {
        0 => Ok(()),
        e => Err(io::Error::from_raw_os_error(-e)),
    }
}

/// One request without NLM_F_ACK whose answer is a single RTM_NEWLINK.
pub(crate) fn request_reply(nl: &OwnedFd, msg: &[u8], seq: u32, buf: &mut [u8]) -> io::Result<()> {
    send_all(nl.as_raw_fd(), msg)?;
    let n = recv_into(nl.as_raw_fd(), buf)?;
    let (ty, got_seq) = first_header(buf, n)?;
    if got_seq != seq {
        return Err(io::Error::other(format!("reply seq {got_seq} != {seq}")));
    }
    if ty == libc::NLMSG_ERROR as u16 {
        let e = nlmsg_error_code(buf, n)?;
        return Err(io::Error::from_raw_os_error(-e));
    }
    if ty != libc::RTM_NEWLINK {
        return Err(io::Error::other(format!("unexpected reply type {ty}")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Hand encoding of the four requests. Layouts from <linux/netlink.h>,
// <linux/rtnetlink.h>, <linux/if_link.h> and <linux/veth.h>.
// ---------------------------------------------------------------------------

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Start a message: nlmsghdr with a placeholder length, patched by `finish`.
pub(crate) fn header(ty: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: 0 = kernel
    m
}

pub(crate) fn finish(mut m: Vec<u8>) -> Vec<u8> {
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m
}

/// struct ifinfomsg { family, pad, type, index, flags, change }.
fn ifinfomsg(m: &mut Vec<u8>, index: i32, flags: u32, change: u32) {
    m.push(libc::AF_UNSPEC as u8);
    m.push(0);
    m.extend_from_slice(&0u16.to_ne_bytes());
    m.extend_from_slice(&index.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&change.to_ne_bytes());
}

/// One rtattr with its payload, padded to 4 bytes.
pub(crate) fn attr(m: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = (4 + payload.len()) as u16;
    m.extend_from_slice(&len.to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(payload);
    m.resize(align4(m.len()), 0);
}

/// Open a nested rtattr; returns its offset for `nest_end`.
fn nest_start(m: &mut Vec<u8>, ty: u16) -> usize {
    let at = m.len();
    m.extend_from_slice(&0u16.to_ne_bytes());
    m.extend_from_slice(&(ty | libc::NLA_F_NESTED as u16).to_ne_bytes());
    at
}

fn nest_end(m: &mut [u8], at: usize) {
    let len = (m.len() - at) as u16;
    m[at..at + 2].copy_from_slice(&len.to_ne_bytes());
}

pub(crate) const ACK_CREATE: u16 =
    (libc::NLM_F_REQUEST | libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_EXCL) as u16;

/// RTM_NEWLINK: veth0 (ifindex 2) here, peer veth0 (ifindex 2) in `peer_ns`.
fn new_veth(seq: u32, peer_ns: RawFd) -> Vec<u8> {
    new_veth_named(seq, peer_ns, VETH_INDEX, b"veth0\0")
}

/// RTM_NEWLINK: veth `name` (NUL-terminated) with ifindex `index` here, its
/// peer of the same name and index in `peer_ns`.
fn new_veth_named(seq: u32, peer_ns: RawFd, index: i32, name: &[u8]) -> Vec<u8> {
    new_veth_ends(seq, peer_ns, [(name, index), (name, index)])
}

/// RTM_NEWLINK: veth `name` (ifindex `index`) here, its peer `peer`
/// (ifindex `peer_index`) in `peer_ns`. Names are NUL-terminated. Each end
/// asks for one queue each way, as the library's veths do: otherwise the
/// kernel allocates one per possible CPU and cuts them down to one after
/// registration, waiting for an expedited RCU grace period per end.
pub(crate) fn new_veth_ends(seq: u32, peer_ns: RawFd, ends: [(&[u8], i32); 2]) -> Vec<u8> {
    let [(name, index), (peer, peer_index)] = ends;
    let mut m = header(libc::RTM_NEWLINK, ACK_CREATE, seq);
    ifinfomsg(&mut m, index, 0, 0);
    attr(&mut m, libc::IFLA_IFNAME, name);
    one_queue(&mut m);
    let linkinfo = nest_start(&mut m, libc::IFLA_LINKINFO);
    attr(&mut m, libc::IFLA_INFO_KIND, b"veth");
    let data = nest_start(&mut m, libc::IFLA_INFO_DATA);
    // VETH_INFO_PEER carries a whole ifinfomsg followed by the peer's attributes.
    let peer_at = nest_start(&mut m, VETH_INFO_PEER);
    ifinfomsg(&mut m, peer_index, 0, 0);
    attr(&mut m, libc::IFLA_IFNAME, peer);
    one_queue(&mut m);
    attr(
        &mut m,
        libc::IFLA_NET_NS_FD,
        &(peer_ns as u32).to_ne_bytes(),
    );
    nest_end(&mut m, peer_at);
    nest_end(&mut m, data);
    nest_end(&mut m, linkinfo);
    debug_assert_eq!(m.len() % 4, 0);
    debug_assert!(m.len() >= NLMSG_HDR_LEN + IFINFOMSG_LEN);
    finish(m)
}

/// IFLA_NUM_TX_QUEUES and IFLA_NUM_RX_QUEUES of 1.
fn one_queue(m: &mut Vec<u8>) {
    attr(m, libc::IFLA_NUM_TX_QUEUES, &1u32.to_ne_bytes());
    attr(m, libc::IFLA_NUM_RX_QUEUES, &1u32.to_ne_bytes());
}

/// RTM_NEWADDR: `addr`/24 on `index`.
fn new_addr(seq: u32, index: i32, addr: [u8; 4]) -> Vec<u8> {
    new_addr_len(seq, index, addr, PREFIX_LEN)
}

/// RTM_NEWADDR: `addr`/`prefix_len` on `index`.
fn new_addr_len(seq: u32, index: i32, addr: [u8; 4], prefix_len: u8) -> Vec<u8> {
    let mut m = header(libc::RTM_NEWADDR, ACK_CREATE, seq);
    // struct ifaddrmsg { family, prefixlen, flags, scope, index }.
    m.push(libc::AF_INET as u8);
    m.push(prefix_len);
    m.push(0);
    m.push(libc::RT_SCOPE_UNIVERSE);
    m.extend_from_slice(&(index as u32).to_ne_bytes());
    debug_assert_eq!(m.len(), NLMSG_HDR_LEN + IFADDRMSG_LEN);
    attr(&mut m, libc::IFA_LOCAL, &addr);
    attr(&mut m, libc::IFA_ADDRESS, &addr);
    finish(m)
}

/// RTM_NEWLINK on an existing link: set IFF_UP.
pub(crate) fn set_up(seq: u32, index: i32) -> Vec<u8> {
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    let mut m = header(libc::RTM_NEWLINK, flags, seq);
    let up = libc::IFF_UP as u32;
    ifinfomsg(&mut m, index, up, up);
    finish(m)
}

/// RTM_GETLINK for one ifindex (not a dump).
pub(crate) fn get_link(seq: u32, index: i32) -> Vec<u8> {
    let mut m = header(libc::RTM_GETLINK, libc::NLM_F_REQUEST as u16, seq);
    ifinfomsg(&mut m, index, 0, 0);
    finish(m)
}

// ---------------------------------------------------------------------------
// ICMP echo over the raw socket made inside namespace a.
// ---------------------------------------------------------------------------

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for pair in data.chunks(2) {
        let word = match pair {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            [hi] => u16::from_be_bytes([*hi, 0]),
            _ => 0,
        };
        sum += u32::from(word);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Send one echo request to `dst` and wait for the matching reply
/// (`Ok(None)` on timeout).
fn echo(sock: &OwnedFd, dst: [u8; 4], id: u16, buf: &mut [u8]) -> Result<Option<Duration>, String> {
    const SEQ: u16 = 1;
    let mut pkt = [0u8; 64];
    pkt[0] = 8; // ICMP_ECHO
    pkt[4..6].copy_from_slice(&id.to_be_bytes());
    pkt[6..8].copy_from_slice(&SEQ.to_be_bytes());
    for (i, b) in pkt[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    let csum = checksum(&pkt);
    pkt[2..4].copy_from_slice(&csum.to_be_bytes());

    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(dst),
        },
        sin_zero: [0; 8],
    };
    let start = Instant::now();
    // SAFETY: `pkt` is readable for its length; `sa` is a valid sockaddr_in
    // and the length passed matches its size.
    let n = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            pkt.as_ptr().cast(),
            pkt.len(),
            0,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if n < 0 {
        return Err(format!("icmp sendto: {}", io::Error::last_os_error()));
    }
    let deadline = start + ECHO_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let mut pfd = libc::pollfd {
            fd: sock.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: `pfd` is one valid pollfd and we pass a count of 1.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("poll: {e}"));
        }
        if r == 0 {
            continue;
        }
        let n = recv_into(sock.as_raw_fd(), buf).map_err(|e| format!("icmp recv: {e}"))?;
        // A raw IPv4 socket delivers the IP header too.
        if n < 20 {
            continue;
        }
        let ihl = usize::from(buf[0] & 0x0f) * 4;
        if n < ihl + 8 || buf[12..16] != dst {
            continue;
        }
        let icmp = &buf[ihl..n];
        let is_reply = icmp[0] == 0 && icmp[1] == 0;
        if is_reply && icmp[4..6] == id.to_be_bytes() && icmp[6..8] == SEQ.to_be_bytes() {
            return Ok(Some(start.elapsed()));
        }
    }
}
