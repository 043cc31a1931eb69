//! A captured frame with where and when it was seen, and its decoded
//! headers.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Decoded, Direction, Icmp, LinkType, Tcp, Transport};

/// A captured frame with where and when it was seen, decoded. `Display` is
/// one line in the style of `tcpdump -n`, after the time and the
/// `node/interface`:
/// `12:00:00.000123 n1/eth0 Out IP 198.51.100.1 > 198.51.100.2: ICMP echo request, id 1, seq 1, length 64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// When the kernel saw it (nanoseconds are kept).
    pub time: SystemTime,
    /// The node it was captured in.
    pub node: String,
    /// The interface it crossed.
    pub iface: String,
    /// Into or out of the interface.
    pub direction: Direction,
    /// Its length on the wire (`data` may be shorter if it was truncated).
    pub len: usize,
    /// How `data` begins: with an Ethernet header, or (on a raw-IP
    /// interface such as tun) with the IP header.
    pub link: LinkType,
    /// The frame's bytes from its link-layer header on (see `link`).
    pub data: Vec<u8>,
    /// A note recorded with it by
    /// [`Capture::record`](crate::capture::Capture::record) (why a frame the
    /// caller dropped went missing, say); the crate's wire records none.
    pub comment: Option<String>,
    /// The decoded headers.
    pub decoded: Decoded,
}

impl Packet {
    /// Decodes `data`, a frame of link type `link` seen on `node/iface`
    /// at `ts_ns` nanoseconds after the Unix epoch.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        ts_ns: u64,
        node: &str,
        iface: &str,
        direction: Direction,
        link: LinkType,
        len: usize,
        data: Vec<u8>,
        comment: Option<String>,
    ) -> Packet {
        Packet {
            time: UNIX_EPOCH + Duration::from_nanos(ts_ns),
            node: node.to_string(),
            iface: iface.to_string(),
            direction,
            len,
            link,
            decoded: Decoded::decode(link, &data),
            data,
            comment,
        }
    }

    /// Nanoseconds since the Unix epoch.
    pub fn timestamp_ns(&self) -> u64 {
        self.time
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    /// `node/iface`.
    pub fn place(&self) -> String {
        format!("{}/{}", self.node, self.iface)
    }

    /// The source IP address, if it is an IP packet.
    pub fn src_ip(&self) -> Option<IpAddr> {
        self.decoded.ip.map(|ip| ip.src)
    }

    /// The destination IP address, if it is an IP packet.
    pub fn dst_ip(&self) -> Option<IpAddr> {
        self.decoded.ip.map(|ip| ip.dst)
    }

    /// The source port of TCP or UDP.
    pub fn src_port(&self) -> Option<u16> {
        match self.decoded.transport {
            Transport::Tcp(t) => Some(t.src_port),
            Transport::Udp(u) => Some(u.src_port),
            _ => None,
        }
    }

    /// The destination port of TCP or UDP.
    pub fn dst_port(&self) -> Option<u16> {
        match self.decoded.transport {
            Transport::Tcp(t) => Some(t.dst_port),
            Transport::Udp(u) => Some(u.dst_port),
            _ => None,
        }
    }

    /// The TCP header, if it is a TCP segment.
    pub fn tcp(&self) -> Option<&Tcp> {
        match &self.decoded.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        }
    }

    /// The ICMP message, if it is one.
    pub fn icmp(&self) -> Option<&Icmp> {
        match &self.decoded.transport {
            Transport::Icmp(i) => Some(i),
            _ => None,
        }
    }
}
