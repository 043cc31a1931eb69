//! The RFC 4787 presets where they matter: UDP hole punching between two
//! hosts behind NATs through a rendezvous server, and hairpinning.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use netns_test::firewall::Nat;
use netns_test::{Endpoint, Net, Route, Topology};

use crate::common::two_inside;
use crate::{recv_within, two_sites, udp, ARRIVES, SILENT};

/// Registers `a` and `b` with the rendezvous server `s` (203.0.113.10:3478):
/// each sends to it, and it answers each with the other's outside
/// endpoint, as a STUN-like server does. Returns (a's view of b, b's view
/// of a).
fn rendezvous(net: &Net, a: &UdpSocket, b: &UdpSocket) -> (SocketAddr, SocketAddr) {
    let s = udp(net, "s", "203.0.113.10:3478");
    a.send_to(b"register a", "203.0.113.10:3478").unwrap();
    let (_, a_out) = recv_within(&s, ARRIVES).expect("s hears a");
    b.send_to(b"register b", "203.0.113.10:3478").unwrap();
    let (_, b_out) = recv_within(&s, ARRIVES).expect("s hears b");
    s.send_to(b_out.to_string().as_bytes(), a_out).unwrap();
    s.send_to(a_out.to_string().as_bytes(), b_out).unwrap();
    let peer = |sock: &UdpSocket| -> SocketAddr {
        let (msg, from) = recv_within(sock, ARRIVES).expect("the server's answer");
        assert_eq!(from.to_string(), "203.0.113.10:3478");
        String::from_utf8(msg).unwrap().parse().unwrap()
    };
    (peer(a), peer(b))
}

/// Both sides send to the other's outside endpoint, in turns, `rounds`
/// times; returns whether each heard the other, and from where. Each round
/// waits [`SILENT`] for the other's datagram, the last one `last` (the
/// first datagrams between the NATs wait for ARP): [`ARRIVES`] where the
/// punch should get through, [`SILENT`] where it should not.
fn punch(
    a: &UdpSocket,
    b: &UdpSocket,
    a_to: SocketAddr,
    b_to: SocketAddr,
    rounds: usize,
    last: Duration,
) -> (Option<SocketAddr>, Option<SocketAddr>) {
    let (mut a_heard, mut b_heard) = (None, None);
    for round in 1..=rounds {
        let wait = if round == rounds { last } else { SILENT };
        a.send_to(b"punch from a", a_to).unwrap();
        b.send_to(b"punch from b", b_to).unwrap();
        if b_heard.is_none() {
            b_heard = recv_within(b, wait).map(|(_, from)| from);
        }
        if a_heard.is_none() {
            a_heard = recv_within(a, wait).map(|(_, from)| from);
        }
        if a_heard.is_some() && b_heard.is_some() {
            break;
        }
    }
    (a_heard, b_heard)
}

#[test]
fn udp_hole_punching_works_behind_two_full_cone_nats() {
    let net = two_sites(Nat::full_cone("eth1"), Nat::full_cone("eth1"));
    let (a, b) = (
        udp(&net, "a", "0.0.0.0:4000"),
        udp(&net, "b", "0.0.0.0:5000"),
    );
    let (b_out, a_out) = rendezvous(&net, &a, &b);
    assert_eq!(a_out.ip().to_string(), "203.0.113.1");
    assert_eq!(b_out.ip().to_string(), "203.0.113.2");
    // Full cone: the first datagram gets through, from the mapping s saw.
    let (a_heard, b_heard) = punch(&a, &b, b_out, a_out, 1, ARRIVES);
    assert_eq!((a_heard, b_heard), (Some(b_out), Some(a_out)));
}

#[test]
fn udp_hole_punching_works_behind_port_restricted_cones_with_both_sending() {
    let net = two_sites(
        Nat::port_restricted_cone("eth1"),
        Nat::port_restricted_cone("eth1"),
    );
    let (a, b) = (
        udp(&net, "a", "0.0.0.0:4000"),
        udp(&net, "b", "0.0.0.0:5000"),
    );
    let (b_out, a_out) = rendezvous(&net, &a, &b);
    let (a_heard, b_heard) = punch(&a, &b, b_out, a_out, 3, ARRIVES);
    assert_eq!((a_heard, b_heard), (Some(b_out), Some(a_out)));
    // Unsolicited, from an endpoint neither contacted: filtered (what b
    // sent meanwhile may still be queued).
    let stranger = udp(&net, "s", "203.0.113.10:9999");
    stranger.send_to(b"hello", a_out).unwrap();
    while let Some((msg, from)) = recv_within(&a, SILENT) {
        assert_eq!((msg.as_slice(), from), (&b"punch from b"[..], b_out));
    }
}

#[test]
fn udp_hole_punching_fails_behind_two_symmetric_nats() {
    let net = two_sites(Nat::symmetric("eth1"), Nat::symmetric("eth1"));
    let (a, b) = (
        udp(&net, "a", "0.0.0.0:4000"),
        udp(&net, "b", "0.0.0.0:5000"),
    );
    let (b_out, a_out) = rendezvous(&net, &a, &b);
    let (a_heard, b_heard) = punch(&a, &b, b_out, a_out, 3, SILENT);
    assert_eq!((a_heard, b_heard), (None, None));
    // Why: a's mapping towards b is not the one the server saw.
    let mappings = net["na"].nat_mappings().unwrap();
    let to = |remote: SocketAddr| {
        mappings
            .iter()
            .find(|m| m.remote == remote)
            .map(|m| m.outside)
            .unwrap_or_else(|| panic!("{mappings:?}"))
    };
    let via_server = to("203.0.113.10:3478".parse().unwrap());
    assert_eq!(via_server, a_out);
    assert_ne!(to(b_out), via_server, "{mappings:?}");
}

#[test]
fn hairpinning_off_then_on_through_a_full_cone_nat() {
    // h1 and h2 share the NAT r1; srv outside.
    let net = Net::build(&two_inside(vec![Nat::full_cone("eth1")])).unwrap();
    let (h1, h2) = (
        udp(&net, "h1", "0.0.0.0:4001"),
        udp(&net, "h2", "0.0.0.0:4002"),
    );
    let srv = udp(&net, "srv", "203.0.113.10:3478");
    // h2's mapping, as the server sees it; h1 learns it from there.
    let register = |sock: &UdpSocket| {
        sock.send_to(b"register", "203.0.113.10:3478").unwrap();
        recv_within(&srv, ARRIVES).expect("s hears the host").1
    };
    let h2_out = register(&h2);
    let h1_out = register(&h1);

    // Off (the default): h1's datagram to h2's outside endpoint stays in r1.
    h1.send_to(b"via the outside", h2_out).unwrap();
    assert_eq!(recv_within(&h2, SILENT), None);

    // On: it comes back in to h2, from h1's outside endpoint.
    let _on = net["r1"]
        .set_nat(Nat::full_cone("eth1").hairpin(true))
        .unwrap();
    // r1 still tracks h1's datagram as one for itself (conntrack keeps a
    // flow's first decision): forget it, and send out again to fill the
    // new table's tracking sets.
    net["r1"].flush_conntrack().unwrap();
    assert_eq!(register(&h2), h2_out);
    assert_eq!(register(&h1), h1_out);
    h1.send_to(b"via the outside", h2_out).unwrap();
    let (msg, from) = recv_within(&h2, ARRIVES).expect("hairpinned");
    assert_eq!((msg.as_slice(), from), (&b"via the outside"[..], h1_out));
    // r1's mapping of h1 for it names h2 itself as the remote, not the
    // outside endpoint h1 sent to.
    let mappings = net["r1"].nat_mappings().unwrap();
    assert!(
        mappings
            .iter()
            .any(|m| m.inside.to_string() == "198.51.100.1:4001"
                && m.outside == h1_out
                && m.remote.to_string() == "198.51.100.2:4002"),
        "{mappings:?}"
    );
    // And the answer goes back the same way.
    h2.send_to(b"answer", from).unwrap();
    assert_eq!(
        recv_within(&h1, ARRIVES),
        Some((b"answer".to_vec(), h2_out))
    );
}

#[test]
fn a_restricted_cone_lets_in_any_port_of_an_address_it_contacted_only() {
    let net = two_sites(Nat::restricted_cone("eth1"), Nat::full_cone("eth1"));
    let a = udp(&net, "a", "0.0.0.0:4000");
    let s = udp(&net, "s", "203.0.113.10:3478");
    a.send_to(b"register", "203.0.113.10:3478").unwrap();
    let (_, a_out) = recv_within(&s, ARRIVES).expect("s hears a");
    // Another port of the address a sent to: in.
    let other_port = udp(&net, "s", "203.0.113.10:9999");
    other_port.send_to(b"from 9999", a_out).unwrap();
    let (msg, from) = recv_within(&a, ARRIVES).expect("address-dependent filtering lets it in");
    assert_eq!(
        (msg.as_slice(), from.to_string().as_str()),
        (&b"from 9999"[..], "203.0.113.10:9999")
    );
    // Another address: out.
    let b = udp(&net, "b", "0.0.0.0:5000");
    b.send_to(b"from b", a_out).unwrap();
    assert_eq!(recv_within(&a, SILENT), None);
}

#[test]
fn a_port_restricted_cone_filters_only_ipv4_to_its_outside_address() {
    // Dual stack: IPv4 leaves r1 translated, IPv6 is routed as is, and
    // srv can also route IPv4 to the inside network through r1.
    let net = Net::build(
        &Topology::new()
            .link(
                Endpoint::new("h1", "eth0")
                    .addr("198.51.100.1/26")
                    .addr("2001:db8:1::1/64"),
                Endpoint::new("r1", "eth0")
                    .addr("198.51.100.62/26")
                    .addr("2001:db8:1::fe/64"),
            )
            .link(
                Endpoint::new("r1", "eth1")
                    .addr("203.0.113.1/24")
                    .addr("2001:db8:2::fe/64"),
                Endpoint::new("srv", "eth0")
                    .addr("203.0.113.10/24")
                    .addr("2001:db8:2::10/64"),
            )
            .forwarding("r1")
            .route("h1", Route::default_via("198.51.100.62"))
            .route("h1", Route::default_via("2001:db8:1::fe"))
            .route("srv", Route::to("2001:db8:1::/64").via("2001:db8:2::fe"))
            .route("srv", Route::to("198.51.100.0/26").via("203.0.113.1"))
            .nat("r1", Nat::port_restricted_cone("eth1")),
    )
    .expect("build the lab (run as root or with user namespaces)");
    let h4 = udp(&net, "h1", "0.0.0.0:5000");
    let h6 = udp(&net, "h1", "[2001:db8:1::1]:5000");
    let s4 = udp(&net, "srv", "203.0.113.10:3478");
    // h1's IPv4 datagram from port 5000 maps outside port 5000.
    h4.send_to(b"register", "203.0.113.10:3478").unwrap();
    let (_, h1_out) = recv_within(&s4, ARRIVES).expect("srv hears h1");
    assert_eq!(h1_out.to_string(), "203.0.113.1:5000");
    // IPv4 from a port h1 did not send to: filtered.
    let s4_other = udp(&net, "srv", "203.0.113.10:6000");
    s4_other.send_to(b"v4 from 6000", h1_out).unwrap();
    assert_eq!(recv_within(&h4, SILENT), None);
    // A new IPv6 flow to the same port number on h1: the NAT's IPv4
    // filtering does not touch it.
    let s6 = udp(&net, "srv", "[2001:db8:2::10]:6000");
    s6.send_to(b"v6 from 6000", "[2001:db8:1::1]:5000").unwrap();
    let (msg, from) = recv_within(&h6, ARRIVES).expect("IPv6 is not filtered by the NAT");
    assert_eq!(
        (msg.as_slice(), from.to_string().as_str()),
        (&b"v6 from 6000"[..], "[2001:db8:2::10]:6000")
    );
    // IPv4 that r1 forwards to h1's own address, to that port: routed.
    s4_other
        .send_to(b"routed to h1", "198.51.100.1:5000")
        .unwrap();
    let (msg, from) = recv_within(&h4, ARRIVES).expect("transit is not filtered by the NAT");
    assert_eq!(
        (msg.as_slice(), from.to_string().as_str()),
        (&b"routed to h1"[..], "203.0.113.10:6000")
    );
}

#[test]
fn answers_in_a_session_a_peer_started_keep_a_full_cone_mapping_alive() {
    use std::time::{Duration, Instant};
    let timeout = Duration::from_secs(2);
    let net = two_sites(
        Nat::full_cone("eth1").mapping_timeout(timeout),
        Nat::full_cone("eth1"),
    );
    let a = udp(&net, "a", "0.0.0.0:4000");
    let s = udp(&net, "s", "203.0.113.10:3478");
    a.send_to(b"register", "203.0.113.10:3478").unwrap();
    let (_, a_out) = recv_within(&s, ARRIVES).expect("s hears a");
    // A peer starts a session through the mapping; a only ever answers it,
    // for longer than the mapping timeout.
    let peer = udp(&net, "s", "203.0.113.10:9001");
    let start = Instant::now();
    while start.elapsed() < timeout + Duration::from_secs(1) {
        peer.send_to(b"ping", a_out).unwrap();
        let (_, from) = recv_within(&a, ARRIVES).expect("the peer's session is let in");
        a.send_to(b"pong", from).unwrap();
        assert!(recv_within(&peer, ARRIVES).is_some(), "a's answer arrives");
        std::thread::sleep(Duration::from_millis(400));
    }
    // The answers refreshed the mapping: a new peer still gets in.
    let late = udp(&net, "s", "203.0.113.10:9002");
    late.send_to(b"late", a_out).unwrap();
    let heard = recv_within(&a, ARRIVES).map(|(_, from)| from.port());
    assert_eq!(heard, Some(9002));
}
