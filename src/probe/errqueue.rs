//! The ICMP error behind a failed port probe, read from the socket's error
//! queue (`IP_RECVERR`, `IPV6_RECVERR`): what it said and which node sent
//! it. A refusal by a firewall's reject on a router then reads apart from
//! the server's own reset.

use std::fmt;
use std::io::IoSliceMut;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::Socket;

use crate::packet::IcmpErrorKind;

/// `SO_EE_ORIGIN_ICMP`: the error came in an ICMP message.
const SO_EE_ORIGIN_ICMP: u8 = 2;
/// `SO_EE_ORIGIN_ICMP6`: the error came in an ICMPv6 message.
const SO_EE_ORIGIN_ICMP6: u8 = 3;

/// An ICMP (or ICMPv6) error that ended a port probe, and who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct IcmpError {
    /// The address of the node that sent the error: the destination, or a
    /// router (a firewall's `reject`) on the way.
    pub from: IpAddr,
    /// What the error said.
    pub kind: IcmpErrorKind,
}

impl fmt::Display for IcmpError {
    /// `Destination Port Unreachable from 203.0.113.1`, as ping words it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} from {}",
            self.kind.ping_text(self.from.is_ipv6()),
            self.from
        )
    }
}

/// Turns on `IP_RECVERR` (or `IPV6_RECVERR`): ICMP errors are queued on the
/// socket with the sender's address.
pub(super) fn ask_for_errors(s: &Socket, v6: bool) -> nix::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    if v6 {
        setsockopt(s, sockopt::Ipv6RecvErr, &true)
    } else {
        setsockopt(s, sockopt::Ipv4RecvErr, &true)
    }
}

/// The first ICMP error queued on `s`, if any; nothing waits.
pub(super) fn queued_icmp_error(s: &Socket) -> Option<IcmpError> {
    let mut data = [0u8; 512];
    let mut iov = [IoSliceMut::new(&mut data)];
    let mut cmsg = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
    let flags = MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT;
    let msg = recvmsg::<SockaddrStorage>(s.as_raw_fd(), &mut iov, Some(&mut cmsg), flags).ok()?;
    for c in msg.cmsgs().ok()? {
        let (err, from) = match c {
            ControlMessageOwned::Ipv4RecvErr(err, Some(a)) => {
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                (err, IpAddr::V4(ip))
            }
            ControlMessageOwned::Ipv6RecvErr(err, Some(a)) => {
                (err, IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr)))
            }
            _ => continue,
        };
        if err.ee_origin != SO_EE_ORIGIN_ICMP && err.ee_origin != SO_EE_ORIGIN_ICMP6 {
            continue;
        }
        let kind = IcmpErrorKind::parse(from.is_ipv6(), err.ee_type, err.ee_code, err.ee_info);
        return Some(IcmpError { from, kind });
    }
    None
}
