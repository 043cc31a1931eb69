//! ICMP and ICMPv6 wire format: echo requests, and parsing of what a raw
//! ICMP socket receives.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) use super::checksum::checksum;
use super::icmp_error::IcmpErrorKind;

/// ICMPv4 message types used here.
pub(crate) mod v4 {
    pub(crate) const ECHO_REPLY: u8 = 0;
    pub(crate) const DEST_UNREACH: u8 = 3;
    pub(crate) const ECHO_REQUEST: u8 = 8;
    pub(crate) const TIME_EXCEEDED: u8 = 11;
    pub(crate) const PARAM_PROBLEM: u8 = 12;
}

/// ICMPv6 message types used here.
pub(crate) mod v6 {
    pub(crate) const DEST_UNREACH: u8 = 1;
    pub(crate) const PACKET_TOO_BIG: u8 = 2;
    pub(crate) const TIME_EXCEEDED: u8 = 3;
    pub(crate) const PARAM_PROBLEM: u8 = 4;
    pub(crate) const ECHO_REQUEST: u8 = 128;
    pub(crate) const ECHO_REPLY: u8 = 129;
}

const PROTO_ICMP: u8 = 1;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;

/// IPv6 extension headers that may come between a quoted packet's IPv6
/// header and its upper-layer header.
const EXT_HOP_BY_HOP: u8 = 0;
const EXT_ROUTING: u8 = 43;
const EXT_FRAGMENT: u8 = 44;
const EXT_DEST_OPTIONS: u8 = 60;

/// Builds an echo request: 8 bytes of header, then `payload`.
///
/// The ICMPv4 checksum is computed here; for ICMPv6 the kernel fills it in
/// (raw ICMPv6 sockets always checksum, RFC 3542).
pub(crate) fn echo_request(is_v6: bool, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut pkt = Vec::with_capacity(8 + payload.len());
    pkt.push(if is_v6 {
        v6::ECHO_REQUEST
    } else {
        v4::ECHO_REQUEST
    });
    pkt.push(0);
    pkt.extend_from_slice(&[0, 0]);
    pkt.extend_from_slice(&ident.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(payload);
    if !is_v6 {
        let sum = checksum(&pkt);
        pkt[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    pkt
}

/// The payload of our echo requests: an 8-byte nonce that tells our probes
/// from anybody else's (raw sockets see every ICMP packet of the namespace),
/// then the iputils fill pattern (byte `i` is `i`).
pub(crate) fn echo_payload(nonce: u64, size: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let n = nonce.to_be_bytes();
    let k = size.min(8);
    p[..k].copy_from_slice(&n[..k]);
    p
}

/// The packet an ICMP error message quotes: the start of one of our probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Quoted {
    /// An echo request.
    Echo { dst: IpAddr, ident: u16, seq: u16 },
    /// A UDP datagram.
    Udp {
        dst: IpAddr,
        src_port: u16,
        dst_port: u16,
    },
}

/// One ICMP message read from a raw socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// An echo reply.
    EchoReply {
        ident: u16,
        seq: u16,
        /// Echo payload.
        payload: Vec<u8>,
        /// Length of the ICMP message (header and payload).
        icmp_len: usize,
    },
    /// An error message that quotes a packet we can identify.
    Error { kind: IcmpErrorKind, quoted: Quoted },
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses what a raw `IPPROTO_ICMP` socket received: an IPv4 header, then
/// ICMP. Returns the TTL of the packet and its meaning; `None` for packets
/// that are not for us to look at (our own requests, corrupted ones, other
/// types).
pub(crate) fn parse_v4(pkt: &[u8]) -> Option<(u8, Incoming)> {
    let ihl = usize::from(*pkt.first()? & 0x0f) * 4;
    if ihl < 20 || pkt.len() < ihl + 8 || pkt[9] != PROTO_ICMP {
        return None;
    }
    let ttl = pkt[8];
    let icmp = &pkt[ihl..];
    if checksum(icmp) != 0 {
        return None;
    }
    parse_icmp(false, icmp).map(|m| (ttl, m))
}

/// Parses what a raw `IPPROTO_ICMPV6` socket received (no IP header: the
/// kernel strips it and has verified the checksum).
pub(crate) fn parse_v6(icmp: &[u8]) -> Option<Incoming> {
    if icmp.len() < 8 {
        return None;
    }
    parse_icmp(true, icmp)
}

fn parse_icmp(is_v6: bool, icmp: &[u8]) -> Option<Incoming> {
    let (t, code) = (icmp[0], icmp[1]);
    let reply = if is_v6 {
        v6::ECHO_REPLY
    } else {
        v4::ECHO_REPLY
    };
    if t == reply {
        return Some(Incoming::EchoReply {
            ident: be16(icmp, 4)?,
            seq: be16(icmp, 6)?,
            payload: icmp[8..].to_vec(),
            icmp_len: icmp.len(),
        });
    }
    let is_error = if is_v6 {
        matches!(
            t,
            v6::DEST_UNREACH | v6::PACKET_TOO_BIG | v6::TIME_EXCEEDED | v6::PARAM_PROBLEM
        )
    } else {
        matches!(t, v4::DEST_UNREACH | v4::TIME_EXCEEDED | v4::PARAM_PROBLEM)
    };
    if !is_error {
        return None;
    }
    let info = be32(icmp, 4)?;
    let inner = &icmp[8..];
    let quoted = if is_v6 {
        parse_quoted_v6(inner)?
    } else {
        parse_quoted_v4(inner)?
    };
    Some(Incoming::Error {
        kind: IcmpErrorKind::parse(is_v6, t, code, info),
        quoted,
    })
}

fn parse_quoted_v4(inner: &[u8]) -> Option<Quoted> {
    let ihl = usize::from(*inner.first()? & 0x0f) * 4;
    if ihl < 20 || inner.len() < ihl + 8 {
        return None;
    }
    let dst = IpAddr::V4(Ipv4Addr::new(inner[16], inner[17], inner[18], inner[19]));
    quoted_l4(inner[9], dst, &inner[ihl..], false)
}

fn parse_quoted_v6(inner: &[u8]) -> Option<Quoted> {
    let octets: [u8; 16] = inner.get(24..40)?.try_into().ok()?;
    let dst = IpAddr::V6(Ipv6Addr::from(octets));
    let (proto, l4) = skip_v6_extensions(*inner.get(6)?, inner.get(40..)?)?;
    if l4.len() < 8 {
        return None;
    }
    quoted_l4(proto, dst, l4, true)
}

/// The upper-layer protocol of an IPv6 packet whose header names `next`
/// and is followed by `rest`, and its bytes after the hop-by-hop, routing,
/// fragment and destination options headers; `None` if they are cut
/// short, or for a fragment other than the first (no upper-layer header).
fn skip_v6_extensions(mut next: u8, mut rest: &[u8]) -> Option<(u8, &[u8])> {
    loop {
        let len = match next {
            EXT_HOP_BY_HOP | EXT_ROUTING | EXT_DEST_OPTIONS => (usize::from(*rest.get(1)?) + 1) * 8,
            EXT_FRAGMENT if be16(rest, 2)? >> 3 == 0 => 8,
            EXT_FRAGMENT => return None,
            _ => return Some((next, rest)),
        };
        next = *rest.first()?;
        rest = rest.get(len..)?;
    }
}

fn quoted_l4(proto: u8, dst: IpAddr, l4: &[u8], is_v6: bool) -> Option<Quoted> {
    match proto {
        PROTO_ICMP if !is_v6 && l4[0] == v4::ECHO_REQUEST => Some(Quoted::Echo {
            dst,
            ident: be16(l4, 4)?,
            seq: be16(l4, 6)?,
        }),
        PROTO_ICMPV6 if is_v6 && l4[0] == v6::ECHO_REQUEST => Some(Quoted::Echo {
            dst,
            ident: be16(l4, 4)?,
            seq: be16(l4, 6)?,
        }),
        PROTO_UDP => Some(Quoted::Udp {
            dst,
            src_port: be16(l4, 0)?,
            dst_port: be16(l4, 2)?,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::icmp_error::Unreachable;

    #[test]
    fn checksum_of_known_packets() {
        // RFC 1071 example.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        // A packet with its checksum in place sums to zero.
        let pkt = echo_request(false, 0x1234, 7, &echo_payload(42, 56));
        assert_eq!(pkt.len(), 64);
        assert_eq!(checksum(&pkt), 0);
        // Odd length.
        let pkt = echo_request(false, 1, 1, &[1, 2, 3]);
        assert_eq!(checksum(&pkt), 0);
    }

    #[test]
    fn payload_has_nonce_then_pattern() {
        let p = echo_payload(0x0102_0304_0506_0708, 12);
        assert_eq!(p, [1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11]);
        assert_eq!(echo_payload(0x0102_0304_0506_0708, 3), [1, 2, 3]);
        assert!(echo_payload(1, 0).is_empty());
    }

    fn ipv4_header(proto: u8, ttl: u8, src: [u8; 4], dst: [u8; 4], len: usize) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, ttl, proto, 0, 0];
        h[2..4].copy_from_slice(&((20 + len) as u16).to_be_bytes());
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h
    }

    #[test]
    fn parses_v4_echo_reply() {
        let mut icmp = echo_request(false, 0xbeef, 3, &echo_payload(9, 56));
        icmp[0] = v4::ECHO_REPLY;
        icmp[2] = 0;
        icmp[3] = 0;
        let sum = checksum(&icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        let mut pkt = ipv4_header(1, 63, [198, 51, 100, 2], [198, 51, 100, 1], icmp.len());
        pkt.extend_from_slice(&icmp);
        let (ttl, m) = parse_v4(&pkt).unwrap();
        assert_eq!(ttl, 63);
        match m {
            Incoming::EchoReply {
                ident,
                seq,
                payload,
                icmp_len,
            } => {
                assert_eq!((ident, seq, icmp_len), (0xbeef, 3, 64));
                assert_eq!(payload, echo_payload(9, 56));
            }
            other => panic!("{other:?}"),
        }
        // A corrupted one is dropped.
        let last = pkt.len() - 1;
        pkt[last] ^= 0xff;
        assert!(parse_v4(&pkt).is_none());
    }

    #[test]
    fn parses_v4_host_unreachable_quoting_our_echo() {
        let probe = echo_request(false, 0xbeef, 5, &echo_payload(9, 56));
        let inner_ip = ipv4_header(1, 64, [198, 51, 100, 1], [203, 0, 113, 9], probe.len());
        let mut icmp = vec![v4::DEST_UNREACH, 1, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&inner_ip);
        icmp.extend_from_slice(&probe[..8]);
        let sum = checksum(&icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        let mut pkt = ipv4_header(1, 64, [198, 51, 100, 254], [198, 51, 100, 1], icmp.len());
        pkt.extend_from_slice(&icmp);
        let (_, m) = parse_v4(&pkt).unwrap();
        assert_eq!(
            m,
            Incoming::Error {
                kind: IcmpErrorKind::Unreachable(Unreachable::Host),
                quoted: Quoted::Echo {
                    dst: "203.0.113.9".parse().unwrap(),
                    ident: 0xbeef,
                    seq: 5
                }
            }
        );
    }

    #[test]
    fn parses_v6_time_exceeded_quoting_udp() {
        let mut inner = vec![0x60, 0, 0, 0, 0, 8, PROTO_UDP, 1];
        inner.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        inner.extend_from_slice(&"2001:db8:1::2".parse::<Ipv6Addr>().unwrap().octets());
        inner.extend_from_slice(&[0x9c, 0x40, 0x82, 0x9a, 0, 8, 0, 0]);
        let mut icmp = vec![v6::TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&inner);
        assert_eq!(
            parse_v6(&icmp).unwrap(),
            Incoming::Error {
                kind: IcmpErrorKind::TtlExceeded,
                quoted: Quoted::Udp {
                    dst: "2001:db8:1::2".parse().unwrap(),
                    src_port: 40000,
                    dst_port: 33434
                }
            }
        );
    }

    /// An ICMPv6 error of `kind` quoting a packet to 2001:db8:1::2 whose
    /// IPv6 header names `next` and is followed by `rest`.
    fn v6_error_quoting(kind: u8, info: u32, next: u8, rest: &[u8]) -> Vec<u8> {
        let mut icmp = vec![kind, 0, 0, 0];
        icmp.extend_from_slice(&info.to_be_bytes());
        icmp.extend_from_slice(&[0x60, 0, 0, 0]);
        icmp.extend_from_slice(&(rest.len() as u16).to_be_bytes());
        icmp.extend_from_slice(&[next, 64]);
        icmp.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        icmp.extend_from_slice(&"2001:db8:1::2".parse::<Ipv6Addr>().unwrap().octets());
        icmp.extend_from_slice(rest);
        icmp
    }

    #[test]
    fn parses_v6_errors_quoting_extension_headers() {
        let echo = echo_request(true, 0xbeef, 9, &[0; 16]);
        // The first fragment of a big ping: a Fragment header (offset 0,
        // more fragments) before the echo request.
        let mut rest = vec![PROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 7];
        rest.extend_from_slice(&echo);
        let icmp = v6_error_quoting(v6::PACKET_TOO_BIG, 1280, EXT_FRAGMENT, &rest);
        let want = Quoted::Echo {
            dst: "2001:db8:1::2".parse().unwrap(),
            ident: 0xbeef,
            seq: 9,
        };
        assert_eq!(
            parse_v6(&icmp).unwrap(),
            Incoming::Error {
                kind: IcmpErrorKind::PacketTooBig { mtu: 1280 },
                quoted: want.clone(),
            }
        );
        // Hop-by-hop (8 bytes), destination options (16), then fragment.
        let mut rest = vec![EXT_DEST_OPTIONS, 0, 0, 0, 0, 0, 0, 0];
        rest.extend_from_slice(&[EXT_FRAGMENT, 1]);
        rest.extend_from_slice(&[0; 14]);
        rest.extend_from_slice(&[PROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 7]);
        rest.extend_from_slice(&echo);
        let icmp = v6_error_quoting(v6::TIME_EXCEEDED, 0, EXT_HOP_BY_HOP, &rest);
        assert_eq!(
            parse_v6(&icmp).unwrap(),
            Incoming::Error {
                kind: IcmpErrorKind::TtlExceeded,
                quoted: want,
            }
        );
        // A later fragment quotes no echo header; a cut header, nothing.
        let mut rest = vec![PROTO_ICMPV6, 0, 0x05, 0xa9, 0, 0, 0, 7];
        rest.extend_from_slice(&echo);
        assert_eq!(
            parse_v6(&v6_error_quoting(v6::TIME_EXCEEDED, 0, EXT_FRAGMENT, &rest)),
            None
        );
        let rest = [EXT_DEST_OPTIONS, 3, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            parse_v6(&v6_error_quoting(
                v6::TIME_EXCEEDED,
                0,
                EXT_HOP_BY_HOP,
                &rest
            )),
            None
        );
    }

    #[test]
    fn texts_follow_iputils_and_traceroute() {
        let host = IcmpErrorKind::parse(false, 3, 1, 0);
        assert_eq!(host.ping_text(false), "Destination Host Unreachable");
        assert_eq!(host.traceroute_flag(false), "!H");
        let frag = IcmpErrorKind::parse(false, 3, 4, 1400);
        assert_eq!(frag.ping_text(false), "Frag needed and DF set (mtu = 1400)");
        assert_eq!(frag.traceroute_flag(false), "!F-1400");
        let addr = IcmpErrorKind::parse(true, 1, 3, 0);
        assert_eq!(
            addr.ping_text(true),
            "Destination unreachable: Address unreachable"
        );
        assert_eq!(addr.traceroute_flag(true), "!H");
        assert_eq!(
            IcmpErrorKind::parse(true, 3, 0, 0).ping_text(true),
            "Time exceeded: Hop limit"
        );
        assert_eq!(
            IcmpErrorKind::parse(false, 11, 0, 0).ping_text(false),
            "Time to live exceeded"
        );
        assert_eq!(
            IcmpErrorKind::parse(false, 3, 13, 0).traceroute_flag(false),
            "!X"
        );
        assert_eq!(
            IcmpErrorKind::parse(false, 3, 2, 0).traceroute_flag(false),
            "!P"
        );
        assert_eq!(
            IcmpErrorKind::parse(false, 3, 0, 0).traceroute_flag(false),
            "!N"
        );
        assert_eq!(
            IcmpErrorKind::parse(true, 1, 4, 0).traceroute_flag(true),
            ""
        );
        assert_eq!(
            IcmpErrorKind::parse(true, 2, 0, 1280).traceroute_flag(true),
            "!F-1280"
        );
    }
}
