//! What the presets' tracking sets point at when outside ports change
//! hands, and port forwards declared beside a preset.

use std::net::SocketAddr;

use netns_test::firewall::{Nat, Proto};
use netns_test::Net;

use crate::common::two_inside;
use crate::{recv_within, udp, ARRIVES, SILENT};

#[test]
fn a_full_cone_port_whose_connection_is_forgotten_stays_with_its_inside_host() {
    let net = Net::build(&two_inside(vec![Nat::full_cone("eth1")])).unwrap();
    let srv = udp(&net, "srv", "203.0.113.10:3478");
    let h1 = udp(&net, "h1", "0.0.0.0:5000");
    h1.send_to(b"h1", "203.0.113.10:3478").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("srv hears h1");
    assert_eq!(from.to_string(), "203.0.113.1:5000", "the port is kept");
    // h1's connection is forgotten; its mapping is not (2 minutes).
    net["r1"].flush_conntrack().unwrap();
    let h2 = udp(&net, "h2", "0.0.0.0:5000");
    h2.send_to(b"h2", "203.0.113.10:3478").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("srv hears h2");
    assert_ne!(from.to_string(), "203.0.113.1:5000", "h2 gets another port");
    // Anyone sending to h1's port still reaches h1, not h2.
    let peer = udp(&net, "srv", "203.0.113.10:9000");
    peer.send_to(b"for h1", "203.0.113.1:5000").unwrap();
    assert!(recv_within(&h1, ARRIVES).is_some(), "h1 holds its mapping");
    assert!(recv_within(&h2, SILENT).is_none(), "h2 does not");
}

/// h1 and h2 both bind port 5000 and send to different ports of srv;
/// then a stranger on srv sends to 203.0.113.1:5000. Returns h2's
/// outside endpoints towards srv:3479 and srv:3480.
fn two_hosts_one_inside_port(nat: Nat) -> (SocketAddr, SocketAddr) {
    let net = Net::build(&two_inside(vec![nat])).unwrap();
    let s1 = udp(&net, "srv", "203.0.113.10:3478");
    let s2 = udp(&net, "srv", "203.0.113.10:3479");
    let s3 = udp(&net, "srv", "203.0.113.10:3480");
    let h1 = udp(&net, "h1", "0.0.0.0:5000");
    let h2 = udp(&net, "h2", "0.0.0.0:5000");
    h1.send_to(b"h1", "203.0.113.10:3478").unwrap();
    let (_, from) = recv_within(&s1, ARRIVES).expect("srv hears h1");
    assert_eq!(from.to_string(), "203.0.113.1:5000", "the port is kept");
    h2.send_to(b"h2", "203.0.113.10:3479").unwrap();
    let (_, h2_first) = recv_within(&s2, ARRIVES).expect("srv hears h2");
    h2.send_to(b"h2 again", "203.0.113.10:3480").unwrap();
    let (_, h2_second) = recv_within(&s3, ARRIVES).expect("srv hears h2 again");
    // A stranger, from srv's address (which both contacted).
    let stranger = udp(&net, "srv", "203.0.113.10:9000");
    stranger.send_to(b"for h1", "203.0.113.1:5000").unwrap();
    assert!(recv_within(&h1, ARRIVES).is_some(), "h1 keeps its mapping");
    assert!(
        recv_within(&h2, SILENT).is_none(),
        "h2 did not take it over"
    );
    (h2_first, h2_second)
}

#[test]
fn a_full_cone_never_gives_a_live_mapping_port_to_another_inside_host() {
    let (first, second) = two_hosts_one_inside_port(Nat::full_cone("eth1"));
    assert_ne!(first.to_string(), "203.0.113.1:5000");
    assert_eq!(first, second, "h2's own mapping is endpoint-independent");
}

#[test]
fn a_restricted_cone_never_gives_a_live_mapping_port_to_another_inside_host() {
    let (first, second) = two_hosts_one_inside_port(Nat::restricted_cone("eth1"));
    assert_ne!(first.to_string(), "203.0.113.1:5000");
    assert_eq!(first, second, "h2's own mapping is endpoint-independent");
}

#[test]
fn a_udp_port_forward_beside_a_port_restricted_cone_serves_every_client() {
    let net = Net::build(&two_inside(vec![
        Nat::port_restricted_cone("eth1"),
        Nat::port_forward("eth1", Proto::Udp, 5000, "198.51.100.1:5000"),
    ]))
    .unwrap();
    let server = udp(&net, "h1", "198.51.100.1:5000");
    for port in [7001, 7002, 7003] {
        let client = udp(&net, "srv", &format!("203.0.113.10:{port}"));
        client.send_to(b"hello", "203.0.113.1:5000").unwrap();
        let (_, from) = recv_within(&server, ARRIVES)
            .unwrap_or_else(|| panic!("client {port} is forwarded to h1"));
        server.send_to(b"echo", from).unwrap();
        assert!(
            recv_within(&client, ARRIVES).is_some(),
            "client {port} gets its echo"
        );
    }
}
