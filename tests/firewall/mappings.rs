//! What the presets' tracking sets point at when outside ports change
//! hands, and port forwards declared beside a preset.

use netns_test::firewall::{Nat, Proto};
use netns_test::Net;

use crate::common::two_inside;
use crate::{recv_within, udp, ARRIVES, SILENT};

#[test]
fn a_full_cone_port_that_changes_hands_points_at_its_new_inside_host() {
    let net = Net::build(&two_inside(vec![Nat::full_cone("eth1")])).unwrap();
    let srv = udp(&net, "srv", "203.0.113.10:3478");
    let h1 = udp(&net, "h1", "0.0.0.0:5000");
    h1.send_to(b"h1", "203.0.113.10:3478").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("srv hears h1");
    assert_eq!(from.to_string(), "203.0.113.1:5000", "the port is kept");
    // h1's connection is forgotten; its map entry is not (2 minutes).
    net["r1"].flush_conntrack().unwrap();
    let h2 = udp(&net, "h2", "0.0.0.0:5000");
    h2.send_to(b"h2", "203.0.113.10:3478").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("srv hears h2");
    assert_eq!(
        from.to_string(),
        "203.0.113.1:5000",
        "h2 gets the same port"
    );
    // Anyone sending to that port now reaches h2, not h1.
    let peer = udp(&net, "srv", "203.0.113.10:9000");
    peer.send_to(b"for h2", "203.0.113.1:5000").unwrap();
    assert!(recv_within(&h2, ARRIVES).is_some(), "h2 holds the mapping");
    assert!(recv_within(&h1, SILENT).is_none(), "h1 no longer does");
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
