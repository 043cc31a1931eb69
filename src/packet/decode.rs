//! Captured frames decoded into what tests ask about: addresses, protocol,
//! ports, TCP flags, ICMP types. Pure: bytes in, values out.
//!
//! Parsing is [`etherparse`]'s, lax (a truncated or odd frame decodes as far
//! as it goes, never fails); this module keeps the fields a test or a
//! tcpdump-style line needs.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::{BitOr, BitOrAssign};

use etherparse::{LaxNetSlice, LaxSlicedPacket, LinkSlice, TransportSlice};

pub use super::link::LinkType;

/// Which way a frame crossed its interface, as the kernel tells a packet
/// socket (`PACKET_OUTGOING` is out, everything else in). On loopback a
/// frame leaves and arrives on the same interface; capture keeps it once,
/// `In`, as libpcap does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received on the interface (for this host, broadcast, multicast or
    /// another host).
    In,
    /// Sent by the interface.
    Out,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::In => "In",
            Direction::Out => "Out",
        })
    }
}

/// TCP flags, as a set: `TcpFlags::SYN | TcpFlags::ACK`. `Display` is
/// tcpdump's `[S.]`-style text without the brackets.
///
/// ```
/// use netns_test::capture::TcpFlags;
/// let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
/// assert!(syn_ack.contains(TcpFlags::SYN));
/// assert_eq!(syn_ack.to_string(), "S.");
/// assert_eq!(TcpFlags::ACK.to_string(), ".");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No flag.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// FIN.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// Every flag of `other` is set here.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // tcpdump's order and letters.
        const LETTERS: [(TcpFlags, char); 8] = [
            (TcpFlags::FIN, 'F'),
            (TcpFlags::SYN, 'S'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::ACK, '.'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
        ];
        if self.0 == 0 {
            return f.write_str("none");
        }
        for (flag, c) in LETTERS {
            if self.contains(flag) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// The IP header of a decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpHeader {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// The payload's protocol number (after IPv6 extension headers).
    pub protocol: u8,
    /// Length of the IP payload, as the header says (what tcpdump prints
    /// for protocols it does not know).
    pub payload_len: usize,
}

/// An ARP packet (Ethernet and IPv4 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// 1: request, 2: reply.
    pub operation: u16,
    /// The sender's MAC address.
    pub sender_mac: [u8; 6],
    /// The sender's IPv4 address.
    pub sender_ip: Ipv4Addr,
    /// The target's MAC address (zero in a request).
    pub target_mac: [u8; 6],
    /// The target's IPv4 address.
    pub target_ip: Ipv4Addr,
}

/// A TCP segment's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number (absolute, as `tcpdump -S` prints it).
    pub seq: u32,
    /// Acknowledgment number (meaningful with ACK set).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window, unscaled.
    pub window: u16,
    /// Bytes of payload.
    pub payload_len: usize,
}

/// A UDP datagram's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Bytes of payload.
    pub payload_len: usize,
}

/// An ICMP or ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmp {
    /// ICMPv6 (else ICMPv4).
    pub v6: bool,
    /// The message type (8 echo request, 0 echo reply; 128 and 129 in ICMPv6).
    pub kind: u8,
    /// The message code.
    pub code: u8,
    /// Bytes 5 to 8 of the header (id and sequence of an echo, the MTU of
    /// "packet too big", ...).
    pub rest: [u8; 4],
    /// The message's length, header included (what tcpdump prints).
    pub len: usize,
    /// The target address of a neighbour solicitation or advertisement,
    /// or the original destination quoted in an error message.
    pub target: Option<IpAddr>,
}

impl Icmp {
    /// An echo request (ICMPv4 type 8, ICMPv6 type 128).
    pub fn is_echo_request(&self) -> bool {
        self.kind == if self.v6 { 128 } else { 8 }
    }

    /// An echo reply (ICMPv4 type 0, ICMPv6 type 129).
    pub fn is_echo_reply(&self) -> bool {
        self.kind == if self.v6 { 129 } else { 0 }
    }

    /// The identifier and sequence number of an echo request or reply.
    pub fn echo(&self) -> Option<(u16, u16)> {
        (self.is_echo_request() || self.is_echo_reply()).then(|| {
            (
                u16::from_be_bytes([self.rest[0], self.rest[1]]),
                u16::from_be_bytes([self.rest[2], self.rest[3]]),
            )
        })
    }
}

/// What a frame carries above IP (or ARP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// TCP.
    Tcp(Tcp),
    /// UDP.
    Udp(Udp),
    /// ICMP or ICMPv6.
    Icmp(Icmp),
    /// Nothing decoded: not IP, or a protocol this module does not read, or
    /// a fragment other than the first.
    None,
}

/// A frame decoded from its link-layer header down (from its IP header
/// on a raw-IP interface).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// Source MAC address (zeros without an Ethernet header).
    pub src_mac: [u8; 6],
    /// Destination MAC address (zeros without an Ethernet header).
    pub dst_mac: [u8; 6],
    /// The EtherType (after any VLAN tags); without an Ethernet header,
    /// that of the IP version (`0x0800`, `0x86dd`), or 0.
    pub ethertype: u16,
    /// The IP header, if the frame is IPv4 or IPv6.
    pub ip: Option<IpHeader>,
    /// The ARP packet, if the frame is one.
    pub arp: Option<Arp>,
    /// TCP, UDP or ICMP, when decoded.
    pub transport: Transport,
}

impl Decoded {
    /// Decodes an Ethernet frame; never fails: what cannot be read is left
    /// out (`ip: None`, `Transport::None`).
    ///
    /// ```
    /// use netns_test::capture::{Decoded, Transport};
    /// // An Ethernet frame too short to hold its header.
    /// let d = Decoded::from_ethernet(&[0u8; 10]);
    /// assert_eq!((d.ip, d.transport), (None, Transport::None));
    /// ```
    pub fn from_ethernet(frame: &[u8]) -> Decoded {
        let mut d = Decoded::NOTHING;
        let Ok(p) = LaxSlicedPacket::from_ethernet(frame) else {
            return d;
        };
        if let Some(LinkSlice::Ethernet2(eth)) = &p.link {
            d.src_mac = eth.source();
            d.dst_mac = eth.destination();
            d.ethertype = eth.ether_type().0;
        }
        if let Some(ether_type) = ethertype_after_vlans(frame) {
            d.ethertype = ether_type;
        }
        d.above_link(&p);
        d
    }

    /// Decodes an IPv4 or IPv6 packet with no link-layer header before it
    /// (what a tun device carries); never fails, as
    /// [`from_ethernet`](Decoded::from_ethernet).
    ///
    /// ```
    /// use netns_test::capture::Decoded;
    /// // The first bytes of an IPv6 header, cut short.
    /// let d = Decoded::from_raw_ip(&[0x60, 0, 0, 0]);
    /// assert_eq!((d.ethertype, d.ip), (0x86dd, None));
    /// ```
    pub fn from_raw_ip(frame: &[u8]) -> Decoded {
        let mut d = Decoded::NOTHING;
        d.ethertype = match frame.first().map(|b| b >> 4) {
            Some(4) => 0x0800,
            Some(6) => 0x86dd,
            _ => 0,
        };
        if let Ok(p) = LaxSlicedPacket::from_ip(frame) {
            d.above_link(&p);
        }
        d
    }

    /// Decodes `frame`, which begins as link type `link` says.
    pub fn decode(link: LinkType, frame: &[u8]) -> Decoded {
        match link {
            LinkType::Ethernet => Decoded::from_ethernet(frame),
            LinkType::RawIp => Decoded::from_raw_ip(frame),
        }
    }

    /// A frame of which nothing could be read.
    const NOTHING: Decoded = Decoded {
        src_mac: [0; 6],
        dst_mac: [0; 6],
        ethertype: 0,
        ip: None,
        arp: None,
        transport: Transport::None,
    };

    /// Fills in what `p` holds above its link layer.
    fn above_link(&mut self, p: &LaxSlicedPacket<'_>) {
        let d = self;
        match &p.net {
            Some(LaxNetSlice::Ipv4(v4)) => {
                let h = v4.header();
                let payload = v4.payload();
                d.ip = Some(IpHeader {
                    src: h.source_addr().into(),
                    dst: h.destination_addr().into(),
                    ttl: h.ttl(),
                    protocol: payload.ip_number.0,
                    payload_len: usize::from(h.total_len())
                        .saturating_sub(usize::from(h.ihl()) * 4),
                });
            }
            Some(LaxNetSlice::Ipv6(v6)) => {
                let h = v6.header();
                let payload = v6.payload();
                d.ip = Some(IpHeader {
                    src: h.source_addr().into(),
                    dst: h.destination_addr().into(),
                    ttl: h.hop_limit(),
                    protocol: payload.ip_number.0,
                    payload_len: payload.payload.len(),
                });
            }
            Some(LaxNetSlice::Arp(arp)) => {
                let mac = |b: &[u8]| <[u8; 6]>::try_from(b).ok();
                let ip = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from);
                if let (Some(sm), Some(si), Some(tm), Some(ti)) = (
                    mac(arp.sender_hw_addr()),
                    ip(arp.sender_protocol_addr()),
                    mac(arp.target_hw_addr()),
                    ip(arp.target_protocol_addr()),
                ) {
                    d.arp = Some(Arp {
                        operation: arp.operation().0,
                        sender_mac: sm,
                        sender_ip: si,
                        target_mac: tm,
                        target_ip: ti,
                    });
                }
            }
            None => {}
        }
        // A first fragment carries the transport header too.
        let transport = p
            .transport
            .clone()
            .or_else(|| fragment::first_fragment_transport(p.net.as_ref()));
        d.transport = match &transport {
            Some(TransportSlice::Tcp(t)) => {
                let mut flags = TcpFlags::NONE;
                for (set, flag) in [
                    (t.fin(), TcpFlags::FIN),
                    (t.syn(), TcpFlags::SYN),
                    (t.rst(), TcpFlags::RST),
                    (t.psh(), TcpFlags::PSH),
                    (t.ack(), TcpFlags::ACK),
                    (t.urg(), TcpFlags::URG),
                    (t.ece(), TcpFlags::ECE),
                    (t.cwr(), TcpFlags::CWR),
                ] {
                    if set {
                        flags |= flag;
                    }
                }
                // The IP length, not what was captured, says how much
                // payload the segment carried.
                let payload_len =
                    d.ip.map(|ip| ip.payload_len.saturating_sub(t.header_len()))
                        .unwrap_or(t.payload().len());
                Transport::Tcp(Tcp {
                    src_port: t.source_port(),
                    dst_port: t.destination_port(),
                    seq: t.sequence_number(),
                    ack: t.acknowledgment_number(),
                    flags,
                    window: t.window_size(),
                    payload_len,
                })
            }
            Some(TransportSlice::Udp(u)) => Transport::Udp(Udp {
                src_port: u.source_port(),
                dst_port: u.destination_port(),
                payload_len: usize::from(u.length()).saturating_sub(8),
            }),
            Some(TransportSlice::Icmpv4(i)) => Transport::Icmp(Icmp {
                v6: false,
                kind: i.type_u8(),
                code: i.code_u8(),
                rest: i.bytes5to8(),
                len: d.ip.map(|ip| ip.payload_len).unwrap_or(i.slice().len()),
                target: quoted_destination(i.type_u8(), false, i.payload()),
            }),
            Some(TransportSlice::Icmpv6(i)) => Transport::Icmp(Icmp {
                v6: true,
                kind: i.type_u8(),
                code: i.code_u8(),
                rest: i.bytes5to8(),
                len: d.ip.map(|ip| ip.payload_len).unwrap_or(i.slice().len()),
                target: match i.type_u8() {
                    // Neighbour solicitation and advertisement: the target
                    // address opens the payload.
                    135 | 136 => <[u8; 16]>::try_from(i.payload().get(..16).unwrap_or(&[]))
                        .ok()
                        .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
                    t => quoted_destination(t, true, i.payload()),
                },
            }),
            Some(TransportSlice::Igmp(_)) | None => Transport::None,
        };
    }
}

/// The EtherType after any 802.1Q/802.1ad tags.
fn ethertype_after_vlans(frame: &[u8]) -> Option<u16> {
    let off = ethertype_offset(frame)?;
    Some(u16::from_be_bytes([frame[off], frame[off + 1]]))
}

/// Where the EtherType after any 802.1Q/802.1ad tags is, if the frame
/// holds it.
fn ethertype_offset(frame: &[u8]) -> Option<usize> {
    let mut off = 12;
    loop {
        let t = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
        if t == 0x8100 || t == 0x88a8 {
            off += 4;
        } else {
            return Some(off);
        }
    }
}

/// The length of an Ethernet frame's link-layer header: the MAC
/// addresses, any 802.1Q/802.1ad tags and the EtherType (14 bytes for an
/// untagged frame, and for one too short to say).
pub(crate) fn link_header_len(frame: &[u8]) -> usize {
    ethertype_offset(frame).map_or(14, |off| off + 2)
}

/// The destination of the packet an ICMP error quotes (its IP header opens
/// the error's payload).
fn quoted_destination(kind: u8, v6: bool, payload: &[u8]) -> Option<IpAddr> {
    let is_error = if v6 {
        matches!(kind, 1..=4)
    } else {
        matches!(kind, 3 | 4 | 5 | 11 | 12)
    };
    if !is_error {
        return None;
    }
    if v6 {
        <[u8; 16]>::try_from(payload.get(24..40)?)
            .ok()
            .map(|b| IpAddr::V6(b.into()))
    } else {
        <[u8; 4]>::try_from(payload.get(16..20)?)
            .ok()
            .map(|b| IpAddr::V4(b.into()))
    }
}

mod fragment;
mod packet;
#[cfg(test)]
mod tests;

pub use packet::Packet;
