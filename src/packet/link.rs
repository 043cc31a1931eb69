//! How a captured frame begins: the link types capture records, with their
//! pcapng codes and the device types they come from.

use std::fmt;

/// `LINKTYPE_ETHERNET`.
const LINKTYPE_ETHERNET: u16 = 1;
/// `LINKTYPE_RAW`: raw IPv4 or IPv6, the version in the first nibble.
const LINKTYPE_RAW: u16 = 101;
/// `LINKTYPE_IPV4` and `LINKTYPE_IPV6`, which other tools may write.
const LINKTYPE_IPV4: u16 = 228;
const LINKTYPE_IPV6: u16 = 229;
/// `ARPHRD_RAWIP` (`ARPHRD_NONE`, `ARPHRD_ETHER` and `ARPHRD_LOOPBACK` are
/// in libc).
const ARPHRD_RAWIP: u16 = 519;

/// What a captured frame's bytes begin with, as its interface carries it.
///
/// ```
/// use netns_test::capture::LinkType;
/// assert_eq!(LinkType::RawIp.to_string(), "raw IP");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LinkType {
    /// An Ethernet header: veths, bridges, VLANs, taps, and loopback
    /// (whose header is all zeros). pcapng `LINKTYPE_ETHERNET`.
    #[default]
    Ethernet,
    /// The IP header, with no link-layer header before it: layer-3
    /// devices such as tun. pcapng `LINKTYPE_RAW`.
    RawIp,
}

impl LinkType {
    /// The link type of frames of a device of type `hatype` (an `ARPHRD_*`
    /// value), if capture can record them.
    pub(crate) fn of_device(hatype: u16) -> Option<LinkType> {
        match hatype {
            libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => Some(LinkType::Ethernet),
            libc::ARPHRD_NONE | ARPHRD_RAWIP => Some(LinkType::RawIp),
            _ => None,
        }
    }

    /// Its code in a pcapng interface block.
    pub(crate) fn pcap_code(self) -> u16 {
        match self {
            LinkType::Ethernet => LINKTYPE_ETHERNET,
            LinkType::RawIp => LINKTYPE_RAW,
        }
    }

    /// The link type of pcapng code `code`, if this crate decodes it.
    pub(crate) fn from_pcap_code(code: u16) -> Option<LinkType> {
        match code {
            LINKTYPE_ETHERNET => Some(LinkType::Ethernet),
            LINKTYPE_RAW | LINKTYPE_IPV4 | LINKTYPE_IPV6 => Some(LinkType::RawIp),
            _ => None,
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkType::Ethernet => "Ethernet",
            LinkType::RawIp => "raw IP",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_types_and_pcapng_codes() {
        assert_eq!(LinkType::of_device(1), Some(LinkType::Ethernet));
        assert_eq!(LinkType::of_device(772), Some(LinkType::Ethernet));
        assert_eq!(LinkType::of_device(0xfffe), Some(LinkType::RawIp));
        assert_eq!(LinkType::of_device(768), None); // ipip
        for l in [LinkType::Ethernet, LinkType::RawIp] {
            assert_eq!(LinkType::from_pcap_code(l.pcap_code()), Some(l));
        }
        assert_eq!(LinkType::from_pcap_code(113), None); // Linux cooked
    }
}
