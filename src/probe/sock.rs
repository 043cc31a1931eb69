//! The raw ICMP socket shared by ping and traceroute, and socket helpers.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use nix::sys::socket::{self as nsock, ControlMessageOwned, MsgFlags, SockaddrStorage};
use nix::sys::time::TimeSpec;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::ProbeError;
use crate::packet::icmp::{self, Incoming};
use crate::sys::netns::{current_inode, is_ours};
use crate::sys::sockopt as icmp_filter;
use crate::vocab::check_ifname;

/// One ICMP message read from the raw socket.
#[derive(Debug)]
pub(crate) struct Received {
    /// The sender.
    pub from: IpAddr,
    /// The TTL (IPv4 header) or hop limit (IPv6 ancillary data) it arrived with.
    pub ttl: Option<u8>,
    /// What it says.
    pub msg: Incoming,
    /// When it was read.
    pub at: Instant,
}

/// A raw `IPPROTO_ICMP` / `IPPROTO_ICMPV6` socket that only passes echo
/// replies and error messages.
pub(crate) struct IcmpSocket {
    sock: Socket,
    is_v6: bool,
    buf: Vec<u8>,
}

/// Where and how a probe socket sends from.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bind<'a> {
    pub source: Option<IpAddr>,
    pub interface: Option<&'a str>,
}

/// Checks the options shared by every probe against the destination family.
pub(crate) fn check_bind(
    probe: &'static str,
    dst: IpAddr,
    bind: Bind<'_>,
) -> Result<(), ProbeError> {
    if let Some(src) = bind.source {
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(ProbeError::FamilyMismatch {
                probe,
                source_addr: src,
                destination: dst,
            });
        }
    }
    if let Some(name) = bind.interface {
        if let Err(problem) = check_ifname(name) {
            return Err(ProbeError::InvalidOption {
                probe,
                option: "interface",
                value: format!("{name:?}"),
                reason: problem.to_string(),
            });
        }
    }
    Ok(())
}

/// Applies `bind` to a fresh socket.
pub(crate) fn apply_bind(
    probe: &'static str,
    sock: &Socket,
    bind: Bind<'_>,
    port: u16,
) -> Result<(), ProbeError> {
    if let Some(name) = bind.interface {
        sock.bind_device(Some(name.as_bytes()))
            .map_err(|source| ProbeError::Interface {
                probe,
                interface: name.to_string(),
                source,
            })?;
    }
    if let Some(src) = bind.source {
        sock.bind(&SockAddr::from(SocketAddr::new(src, port)))
            .map_err(|source| ProbeError::SourceAddress {
                probe,
                addr: src,
                source,
            })?;
    }
    Ok(())
}

pub(crate) fn domain(dst: IpAddr) -> Domain {
    if dst.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    }
}

/// Lets only echo replies and ICMP errors through to the socket.
fn set_filter(sock: &Socket, is_v6: bool) -> io::Result<()> {
    if is_v6 {
        icmp_filter::pass_only_v6(
            sock,
            &[
                icmp::v6::ECHO_REPLY,
                icmp::v6::DEST_UNREACH,
                icmp::v6::PACKET_TOO_BIG,
                icmp::v6::TIME_EXCEEDED,
                icmp::v6::PARAM_PROBLEM,
            ],
        )
    } else {
        icmp_filter::pass_only_v4(
            sock,
            &[
                icmp::v4::ECHO_REPLY,
                icmp::v4::DEST_UNREACH,
                icmp::v4::TIME_EXCEEDED,
                icmp::v4::PARAM_PROBLEM,
            ],
        )
    }
}

/// Fails unless the calling thread is inside a namespace this process created.
///
/// Every probe calls this before it opens a socket, so a bug can never send
/// test traffic from the host namespace.
pub(crate) fn ensure_current_is_ours() -> Result<u64, ProbeError> {
    let inode = current_inode().map_err(|source| ProbeError::Io {
        op: "stat /proc/thread-self/ns/net".into(),
        source,
    })?;
    if is_ours(inode) {
        Ok(inode)
    } else {
        Err(ProbeError::ForeignNamespace { inode })
    }
}

impl IcmpSocket {
    /// Opens a raw ICMP socket of `dst`'s family in the calling thread's
    /// namespace, after checking that the namespace is ours.
    pub(crate) fn open(
        probe: &'static str,
        dst: IpAddr,
        bind: Bind<'_>,
    ) -> Result<Self, ProbeError> {
        ensure_current_is_ours()?;
        let is_v6 = dst.is_ipv6();
        let proto = if is_v6 {
            Protocol::ICMPV6
        } else {
            Protocol::ICMPV4
        };
        let what = if is_v6 { "ICMPv6" } else { "ICMP" };
        let sock = Socket::new(domain(dst), Type::RAW, Some(proto))
            .map_err(|e| ProbeError::io(format!("{probe}: open a raw {what} socket"), e))?;
        set_filter(&sock, is_v6)
            .map_err(|e| ProbeError::io(format!("{probe}: set the {what} filter"), e))?;
        if is_v6 {
            nsock::setsockopt(&sock, nsock::sockopt::Ipv6RecvHopLimit, &true).map_err(|e| {
                ProbeError::io(format!("{probe}: setsockopt IPV6_RECVHOPLIMIT"), e.into())
            })?;
        }
        apply_bind(probe, &sock, bind, 0)?;
        Ok(IcmpSocket {
            sock,
            is_v6,
            buf: vec![0; 65536 + 64],
        })
    }

    /// Lets the socket send to a broadcast address (`SO_BROADCAST`).
    pub(crate) fn allow_broadcast(&self) -> io::Result<()> {
        self.sock.set_broadcast(true)
    }

    /// Never fragments what the socket sends (path-MTU discovery "do").
    pub(crate) fn forbid_fragmentation(&self) -> io::Result<()> {
        icmp_filter::forbid_fragmentation(&self.sock, self.is_v6)
    }

    /// Sets the TTL / hop limit of the next packets.
    pub(crate) fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        set_ttl(&self.sock, self.is_v6, ttl)
    }

    /// Sends `pkt` (an ICMP message) to `dst`.
    pub(crate) fn send_to(&self, pkt: &[u8], dst: IpAddr) -> io::Result<()> {
        let n = self
            .sock
            .send_to(pkt, &SockAddr::from(SocketAddr::new(dst, 0)))?;
        if n != pkt.len() {
            return Err(io::Error::other(format!(
                "short send: {n} of {} bytes",
                pkt.len()
            )));
        }
        Ok(())
    }

    /// Waits until `until` for the next echo reply or error message.
    pub(crate) fn recv(&mut self, until: Instant) -> Result<Option<Received>, ProbeError> {
        loop {
            if !wait_readable(&self.sock, until)? {
                return Ok(None);
            }
            let mut cmsg = nix::cmsg_space!(libc::c_int);
            let fd = self.sock.as_raw_fd();
            let mut iov = [IoSliceMut::new(&mut self.buf)];
            let res = nsock::recvmsg::<SockaddrStorage>(
                fd,
                &mut iov,
                if self.is_v6 { Some(&mut cmsg) } else { None },
                MsgFlags::MSG_DONTWAIT,
            );
            let msg = match res {
                Ok(m) => m,
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                Err(e) => return Err(ProbeError::io("recvmsg on the ICMP socket", e.into())),
            };
            let at = Instant::now();
            let len = msg.bytes;
            let from = msg.address.as_ref().and_then(|a| {
                a.as_sockaddr_in()
                    .map(|s| IpAddr::V4(s.ip()))
                    .or_else(|| a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
            });
            let mut hop_limit = None;
            if let Ok(cmsgs) = msg.cmsgs() {
                for c in cmsgs {
                    if let ControlMessageOwned::Ipv6HopLimit(h) = c {
                        hop_limit = u8::try_from(h).ok();
                    }
                }
            }
            let Some(from) = from else { continue };
            let data = &self.buf[..len];
            let parsed = if self.is_v6 {
                icmp::parse_v6(data).map(|m| (hop_limit, m))
            } else {
                icmp::parse_v4(data).map(|(ttl, m)| (Some(ttl), m))
            };
            if let Some((ttl, msg)) = parsed {
                return Ok(Some(Received { from, ttl, msg, at }));
            }
        }
    }
}

/// Sets the unicast TTL / hop limit of `sock`.
pub(crate) fn set_ttl(sock: &Socket, is_v6: bool, ttl: u8) -> io::Result<()> {
    if is_v6 {
        sock.set_unicast_hops_v6(u32::from(ttl))
    } else {
        sock.set_ttl_v4(u32::from(ttl))
    }
}

/// Waits until `sock` is readable or `until` passes; `false` on timeout.
pub(crate) fn wait_readable(sock: &impl AsFd, until: Instant) -> Result<bool, ProbeError> {
    loop {
        let now = Instant::now();
        if now >= until {
            // One last non-blocking look.
            let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
            return match nix::poll::ppoll(
                &mut fds,
                Some(TimeSpec::from_duration(Duration::ZERO)),
                None,
            ) {
                Ok(n) => Ok(n > 0),
                Err(Errno::EINTR) => Ok(false),
                Err(e) => Err(ProbeError::io("poll", e.into())),
            };
        }
        let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
        match nix::poll::ppoll(&mut fds, Some(TimeSpec::from_duration(until - now)), None) {
            Ok(0) => continue,
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(ProbeError::io("poll", e.into())),
        }
    }
}

/// A random-enough 64-bit value (no `rand` dependency): std's per-instance
/// random hasher keys, mixed with a process-wide counter and the clock.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// A fresh ICMP echo identifier: distinct for consecutive probes of this
/// process, random across processes.
pub(crate) fn next_ident() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static BASE: OnceLock<u16> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = *BASE.get_or_init(|| random_u64() as u16);
    base.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed) as u16)
}

/// The text of an errno, without Rust's ` (os error N)` suffix.
pub(crate) fn errno_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}
