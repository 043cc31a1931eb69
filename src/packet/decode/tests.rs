//! Decoding and tcpdump lines of frames built with etherparse's builder.

use etherparse::PacketBuilder;

use super::*;

const A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const B: [u8; 6] = [2, 0, 0, 0, 0, 2];
const V4A: [u8; 4] = [198, 51, 100, 1];
const V4B: [u8; 4] = [198, 51, 100, 2];

fn packet(data: Vec<u8>, dir: Direction) -> Packet {
    // 12:00:00.000123 UTC on some day.
    let ts = 1_700_000_000 / 86_400 * 86_400 * 1_000_000_000 + 12 * 3_600 * 1_000_000_000 + 123_456;
    let len = data.len();
    Packet::new(ts, "n1", "eth0", dir, LinkType::Ethernet, len, data, None)
}

#[test]
fn icmp_echo_request_line() {
    let mut data = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4(V4A, V4B, 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut data, &[0u8; 56])
        .unwrap();
    let p = packet(data, Direction::Out);
    let icmp = p.icmp().unwrap();
    assert!(icmp.is_echo_request() && !icmp.is_echo_reply());
    assert_eq!(icmp.echo(), Some((1, 1)));
    assert_eq!(p.src_ip(), Some("198.51.100.1".parse().unwrap()));
    assert_eq!(
        p.to_string(),
        "12:00:00.000123 n1/eth0 Out IP 198.51.100.1 > 198.51.100.2: ICMP echo request, id 1, seq 1, length 64"
    );
}

#[test]
fn tcp_lines() {
    let mut syn = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4(V4A, V4B, 64)
        .tcp(40000, 80, 1000, 64240)
        .syn()
        .write(&mut syn, &[])
        .unwrap();
    let p = packet(syn, Direction::Out);
    assert_eq!(p.tcp().unwrap().flags, TcpFlags::SYN);
    assert_eq!((p.src_port(), p.dst_port()), (Some(40000), Some(80)));
    assert!(p.to_string().ends_with(
        "IP 198.51.100.1.40000 > 198.51.100.2.80: Flags [S], seq 1000, win 64240, length 0"
    ));

    let mut data = Vec::new();
    PacketBuilder::ethernet2(B, A)
        .ipv4(V4B, V4A, 64)
        .tcp(80, 40000, 5000, 502)
        .psh()
        .ack(1001)
        .write(&mut data, b"hello")
        .unwrap();
    let p = packet(data, Direction::In);
    assert_eq!(p.tcp().unwrap().payload_len, 5);
    assert!(p.to_string().ends_with(
        "In IP 198.51.100.2.80 > 198.51.100.1.40000: Flags [P.], seq 5000:5005, ack 1001, win 502, length 5"
    ));
}

#[test]
fn udp_and_ipv6_lines() {
    let mut data = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4(V4A, V4B, 64)
        .udp(5353, 7)
        .write(&mut data, b"hi")
        .unwrap();
    assert!(packet(data, Direction::Out)
        .to_string()
        .ends_with("IP 198.51.100.1.5353 > 198.51.100.2.7: UDP, length 2"));

    let a6: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let b6: std::net::Ipv6Addr = "2001:db8::2".parse().unwrap();
    let mut data = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv6(a6.octets(), b6.octets(), 64)
        .icmpv6_echo_reply(7, 3)
        .write(&mut data, &[0u8; 56])
        .unwrap();
    let p = packet(data, Direction::In);
    assert!(p.icmp().unwrap().is_echo_reply());
    assert!(p
        .to_string()
        .ends_with("IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo reply, id 7, seq 3, length 64"));
}

#[test]
fn arp_lines() {
    // An ARP request and reply, by hand: Ethernet, then the 28-byte packet.
    let arp = |op: u16, smac: [u8; 6], sip: [u8; 4], tmac: [u8; 6], tip: [u8; 4]| {
        let mut f = Vec::new();
        f.extend_from_slice(&[0xff; 6]);
        f.extend_from_slice(&smac);
        f.extend_from_slice(&0x0806u16.to_be_bytes());
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
        f.extend_from_slice(&op.to_be_bytes());
        f.extend_from_slice(&smac);
        f.extend_from_slice(&sip);
        f.extend_from_slice(&tmac);
        f.extend_from_slice(&tip);
        f
    };
    let req = packet(arp(1, A, V4A, [0; 6], V4B), Direction::Out);
    assert_eq!(
        req.decoded.arp.unwrap().target_ip,
        std::net::Ipv4Addr::from(V4B)
    );
    assert!(req
        .to_string()
        .ends_with("ARP, Request who-has 198.51.100.2 tell 198.51.100.1, length 28"));
    let rep = packet(arp(2, B, V4B, A, V4A), Direction::In);
    assert!(rep
        .to_string()
        .ends_with("ARP, Reply 198.51.100.2 is-at 02:00:00:00:00:02, length 28"));
}

#[test]
fn icmp_error_names_the_quoted_destination() {
    // Host unreachable from a router, quoting the original echo request.
    let mut quoted = Vec::new();
    PacketBuilder::ipv4(V4A, [203, 0, 113, 99], 63)
        .icmpv4_echo_request(1, 1)
        .write(&mut quoted, &[0u8; 8])
        .unwrap();
    let mut data = Vec::new();
    PacketBuilder::ethernet2(B, A)
        .ipv4([198, 51, 100, 254], V4A, 64)
        .icmpv4_raw(3, 1, [0; 4])
        .write(&mut data, &quoted)
        .unwrap();
    let p = packet(data, Direction::In);
    assert_eq!(
        p.icmp().unwrap().target,
        Some("203.0.113.99".parse().unwrap())
    );
    assert!(
        p.to_string().ends_with(
            "IP 198.51.100.254 > 198.51.100.1: ICMP host 203.0.113.99 unreachable, length 44"
        ),
        "{p}"
    );
}

#[test]
fn odd_frames_still_print() {
    let mut lldp = vec![0u8; 60];
    lldp[12] = 0x88;
    lldp[13] = 0xcc;
    let p = packet(lldp, Direction::In);
    assert_eq!(p.decoded.ethertype, 0x88cc);
    assert!(p.to_string().ends_with("In ethertype 0x88cc, length 60"));
    let mut p = packet(vec![1, 2, 3], Direction::Out);
    p.comment = Some("dropped by the wire".into());
    assert!(p.to_string().ends_with(" -- dropped by the wire"), "{p}");
}

#[test]
fn time_of_day_is_utc_with_microseconds() {
    assert_eq!(crate::packet::tcpdump::time_of_day(0), "00:00:00.000000");
    assert_eq!(
        crate::packet::tcpdump::time_of_day(86_400_000_000_000 + 3_723_000_456_999),
        "01:02:03.000456"
    );
}

/// `frame` (Ethernet, IPv4 without options), cut to its first `keep`
/// bytes of IP payload and marked as a fragment at `offset` (in 8-byte
/// units) with more to come.
fn v4_fragment(mut frame: Vec<u8>, keep: usize, offset: u16) -> Vec<u8> {
    frame.truncate(14 + 20 + keep);
    frame[16..18].copy_from_slice(&((20 + keep) as u16).to_be_bytes());
    frame[20..22].copy_from_slice(&(0x2000 | offset).to_be_bytes());
    frame
}

#[test]
fn a_first_ipv4_fragment_decodes_its_transport_header() {
    let mut udp = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4(V4A, V4B, 64)
        .udp(5353, 53)
        .write(&mut udp, &[7u8; 3000])
        .unwrap();
    let first = packet(v4_fragment(udp.clone(), 1480, 0), Direction::Out);
    assert_eq!((first.src_port(), first.dst_port()), (Some(5353), Some(53)));
    let Transport::Udp(u) = first.decoded.transport else {
        panic!("{:?}", first.decoded)
    };
    assert_eq!(u.payload_len, 3000);
    assert!(crate::capture::Filter::udp().port(53).matches(&first));
    // A later fragment carries no header to decode.
    let later = packet(v4_fragment(udp, 1480, 185), Direction::Out);
    assert_eq!(later.decoded.transport, Transport::None);
    assert!(!crate::capture::Filter::udp().port(53).matches(&later));

    let mut tcp = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4(V4A, V4B, 64)
        .tcp(40000, 80, 1000, 64240)
        .ack(1)
        .write(&mut tcp, &[1u8; 2000])
        .unwrap();
    let first = packet(v4_fragment(tcp, 1480, 0), Direction::Out);
    assert_eq!(
        (first.src_port(), first.dst_port()),
        (Some(40000), Some(80))
    );

    let mut ping = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4(V4A, V4B, 64)
        .icmpv4_echo_request(9, 4)
        .write(&mut ping, &[0u8; 2000])
        .unwrap();
    let first = packet(v4_fragment(ping, 1480, 0), Direction::Out);
    assert_eq!(first.icmp().and_then(|i| i.echo()), Some((9, 4)));
}

#[test]
fn a_first_ipv6_fragment_decodes_its_transport_header() {
    let a6: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let b6: std::net::Ipv6Addr = "2001:db8::2".parse().unwrap();
    let mut udp = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv6(a6.octets(), b6.octets(), 64)
        .udp(5353, 53)
        .write(&mut udp, &[7u8; 3000])
        .unwrap();
    // A Fragment header (next: UDP) after the IPv6 header, the first 1448
    // bytes of the datagram after it.
    let fragment = |offset: u16| {
        let mut f = udp[..14 + 40].to_vec();
        f[14 + 6] = 44;
        f[14 + 4..14 + 6].copy_from_slice(&(8u16 + 1448).to_be_bytes());
        f.extend([17, 0]);
        f.extend(((offset << 3) | 1).to_be_bytes());
        f.extend([0, 0, 0, 42]);
        f.extend_from_slice(&udp[14 + 40..14 + 40 + 1448]);
        f
    };
    let first = packet(fragment(0), Direction::Out);
    assert_eq!((first.src_port(), first.dst_port()), (Some(5353), Some(53)));
    let later = packet(fragment(181), Direction::Out);
    assert_eq!(later.decoded.transport, Transport::None);
}
