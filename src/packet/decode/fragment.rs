//! The transport header of a first fragment: etherparse's lax slicing
//! decodes none for a fragmented payload, but the fragment at offset 0
//! opens with it.

use etherparse::{
    ip_number, Icmpv4Slice, Icmpv6Slice, Ipv6ExtensionSlice, LaxIpv6Slice, LaxNetSlice, TcpSlice,
    TransportSlice, UdpSlice,
};

/// The TCP, UDP or ICMP header that opens the payload of `net`, when `net`
/// is the first fragment (offset 0) of a fragmented IPv4 or IPv6 packet.
pub(super) fn first_fragment_transport<'a>(
    net: Option<&LaxNetSlice<'a>>,
) -> Option<TransportSlice<'a>> {
    let (payload, v6) = match net? {
        LaxNetSlice::Ipv4(v4) if v4.header().fragments_offset().value() == 0 => {
            (v4.payload(), false)
        }
        LaxNetSlice::Ipv6(v6) if at_offset_0(v6) => (v6.payload(), true),
        _ => return None,
    };
    if !payload.fragmented {
        return None;
    }
    let data = payload.payload;
    Some(match payload.ip_number {
        ip_number::TCP => TransportSlice::Tcp(TcpSlice::from_slice(data).ok()?),
        ip_number::UDP => TransportSlice::Udp(UdpSlice::from_slice_lax(data).ok()?),
        ip_number::ICMP if !v6 => TransportSlice::Icmpv4(Icmpv4Slice::from_slice(data).ok()?),
        ip_number::IPV6_ICMP if v6 => TransportSlice::Icmpv6(Icmpv6Slice::from_slice(data).ok()?),
        _ => return None,
    })
}

/// Whether every Fragment header of `v6` says offset 0.
fn at_offset_0(v6: &LaxIpv6Slice<'_>) -> bool {
    v6.extensions().clone().into_iter().all(|ext| match ext {
        Ipv6ExtensionSlice::Fragment(f) => f.fragment_offset().value() == 0,
        _ => true,
    })
}
