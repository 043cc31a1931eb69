//! Source NAT (masquerade, SNAT to a range with ports, two levels as a
//! carrier-grade NAT does), destination NAT (port forwarding), and what a
//! conntrack flush does to an established mapping.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use netns_test::firewall::{Nat, Proto};
use netns_test::probe::PortState;
use netns_test::{Net, Route, Topology};

use crate::{home, recv_within, udp, ARRIVES, SILENT};

#[test]
fn a_host_behind_masquerade_reaches_a_server_that_sees_the_routers_outside_address() {
    // Without NAT, the server hears h1 but cannot answer: no route back.
    let plain = Net::build(&home(None)).unwrap();
    let (h1, srv) = (
        udp(&plain, "h1", "0.0.0.0:4000"),
        udp(&plain, "srv", "203.0.113.10:7"),
    );
    h1.send_to(b"hi", "203.0.113.10:7").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("the server hears h1");
    assert_eq!(from.ip().to_string(), "198.51.100.1");
    drop(plain);

    let net = Net::build(&home(Some(Nat::masquerade("eth1")))).unwrap();
    let (h1, srv) = (
        udp(&net, "h1", "0.0.0.0:4000"),
        udp(&net, "srv", "203.0.113.10:7"),
    );
    h1.send_to(b"hi", "203.0.113.10:7").unwrap();
    let (msg, from) = recv_within(&srv, ARRIVES).expect("the server hears h1");
    assert_eq!(
        (msg.as_slice(), from.ip().to_string().as_str()),
        (&b"hi"[..], "203.0.113.1")
    );
    srv.send_to(b"back", from).unwrap();
    let (reply, src) = recv_within(&h1, ARRIVES).expect("the reply comes back through r1");
    assert_eq!(
        (reply.as_slice(), src.to_string().as_str()),
        (&b"back"[..], "203.0.113.10:7")
    );

    // The mapping is readable, with the outside port the server saw.
    let mappings = net["r1"].nat_mappings().unwrap();
    let m = mappings
        .iter()
        .find(|m| m.inside.to_string() == "198.51.100.1:4000")
        .unwrap_or_else(|| panic!("{mappings:?}"));
    assert_eq!(m.outside, from);
    assert_eq!(m.remote.to_string(), "203.0.113.10:7");

    // TCP too.
    let listener = net["srv"]
        .with(|| TcpListener::bind("203.0.113.10:80"))
        .unwrap()
        .unwrap();
    let report = net["h1"].tcp_connect("203.0.113.10:80").run().unwrap();
    assert_eq!(report.state, PortState::Open, "{report}");
    let (_, peer) = listener.accept().unwrap();
    assert_eq!(peer.ip().to_string(), "203.0.113.1");
}

#[test]
fn snat_to_an_address_range_uses_its_addresses_and_ports() {
    let t = Topology::new()
        .link(
            ("h1", "eth0", "198.51.100.1/26"),
            ("r1", "eth0", "198.51.100.62/26"),
        )
        .link(
            (
                "r1",
                "eth1",
                ["203.0.113.1/24", "203.0.113.2/24", "203.0.113.3/24"],
            ),
            ("srv", "eth0", "203.0.113.10/24"),
        )
        .forwarding("r1")
        .route("h1", Route::default_via("198.51.100.62"))
        .nat(
            "r1",
            Nat::snat_range("eth1", "203.0.113.2", "203.0.113.3")
                .ports(20000..=20010)
                .fully_random(),
        );
    let net = Net::build(&t).unwrap();
    let srv = udp(&net, "srv", "203.0.113.10:7");
    for port in [4000, 4001, 4002] {
        let h1 = udp(&net, "h1", &format!("0.0.0.0:{port}"));
        h1.send_to(b"hi", "203.0.113.10:7").unwrap();
        let (_, from) = recv_within(&srv, ARRIVES).expect("the server hears h1");
        let ip = from.ip().to_string();
        assert!(ip == "203.0.113.2" || ip == "203.0.113.3", "{from}");
        assert!((20000..=20010).contains(&from.port()), "{from}");
    }
}

#[test]
fn two_levels_of_nat_as_behind_a_carrier_grade_nat() {
    // h1 -- home router r1 -- CGN c1 -- srv; the CGN's inside network is a
    // /26 of the documentation range.
    let t = Topology::new()
        .link(
            ("h1", "eth0", "198.51.100.1/26"),
            ("r1", "eth0", "198.51.100.62/26"),
        )
        .link(
            ("r1", "eth1", "198.51.100.65/26"),
            ("c1", "eth0", "198.51.100.126/26"),
        )
        .link(
            ("c1", "eth1", "203.0.113.1/24"),
            ("srv", "eth0", "203.0.113.10/24"),
        )
        .forwarding("r1")
        .forwarding("c1")
        .route("h1", Route::default_via("198.51.100.62"))
        .route("r1", Route::default_via("198.51.100.126"))
        .nat("r1", Nat::masquerade("eth1"))
        .nat("c1", Nat::carrier_grade("eth1"));
    let net = Net::build(&t).unwrap();
    let (h1, srv) = (
        udp(&net, "h1", "0.0.0.0:4000"),
        udp(&net, "srv", "203.0.113.10:7"),
    );
    h1.send_to(b"hi", "203.0.113.10:7").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("the server hears h1");
    assert_eq!(from.ip().to_string(), "203.0.113.1");
    srv.send_to(b"back", from).unwrap();
    assert!(
        recv_within(&h1, ARRIVES).is_some(),
        "the reply crosses both NATs"
    );
    // Each level maps the level below: the CGN sees the home router.
    let inside = |node: &str| -> Vec<String> {
        let m = net[node].nat_mappings().unwrap();
        m.iter().map(|m| m.inside.ip().to_string()).collect()
    };
    assert_eq!(inside("r1"), ["198.51.100.1"]);
    assert_eq!(inside("c1"), ["198.51.100.65"]);
}

#[test]
fn port_forwarding_from_outside_reaches_an_inside_server() {
    let t = home(Some(Nat::masquerade("eth1")))
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Tcp, 8080, "198.51.100.1:80"),
        )
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Udp, 5353, "198.51.100.1:53"),
        );
    let net = Net::build(&t).unwrap();
    // Without the forward, the outside port is closed: r1 itself answers.
    let closed = net["srv"].tcp_connect("203.0.113.1:8081").run().unwrap();
    assert_eq!(closed.state, PortState::Refused, "{closed}");

    let listener = net["h1"]
        .with(|| TcpListener::bind("198.51.100.1:80"))
        .unwrap()
        .unwrap();
    let report = net["srv"].tcp_connect("203.0.113.1:8080").run().unwrap();
    assert_eq!(report.state, PortState::Open, "{report}");
    let (mut stream, peer): (TcpStream, SocketAddr) = listener.accept().unwrap();
    // No source NAT inbound: the inside server sees the real client.
    assert_eq!(peer.ip().to_string(), "203.0.113.10");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();

    let echo = udp(&net, "h1", "198.51.100.1:53");
    let server = std::thread::spawn(move || {
        if let Some((msg, from)) = recv_within(&echo, ARRIVES) {
            echo.send_to(&msg, from).unwrap();
        }
    });
    let reply = net["srv"]
        .udp_request("203.0.113.1:5353", b"q")
        .run()
        .unwrap();
    server.join().unwrap();
    assert_eq!(reply.reply(), Some(&b"q"[..]), "{reply:?}");
    let dnat: Vec<_> = net["r1"]
        .conntrack()
        .unwrap()
        .into_iter()
        .filter(|e| e.is_dnat())
        .collect();
    assert_eq!(dnat.len(), 2, "{dnat:?}");
}

#[test]
fn a_conntrack_flush_breaks_an_established_udp_mapping() {
    let net = Net::build(&home(Some(Nat::masquerade("eth1")))).unwrap();
    let (h1, srv) = (
        udp(&net, "h1", "0.0.0.0:4000"),
        udp(&net, "srv", "203.0.113.10:7"),
    );
    h1.send_to(b"hi", "203.0.113.10:7").unwrap();
    let (_, outside) = recv_within(&srv, ARRIVES).expect("the server hears h1");
    // Established: the server may send to the mapping at any time.
    srv.send_to(b"one", outside).unwrap();
    assert_eq!(
        recv_within(&h1, ARRIVES).map(|(m, _)| m),
        Some(b"one".to_vec())
    );
    assert_eq!(net["r1"].nat_mappings().unwrap().len(), 1);

    net["r1"].flush_conntrack().unwrap();
    assert_eq!(net["r1"].nat_mappings().unwrap(), []);
    // As after a reboot of r1: the mapping is gone, so is the way in.
    srv.send_to(b"two", outside).unwrap();
    assert_eq!(recv_within(&h1, SILENT), None);
}

#[test]
fn masquerade_to_ports_below_1024_uses_them() {
    let net = Net::build(&home(Some(Nat::masquerade("eth1").ports(600..=610)))).unwrap();
    let srv = udp(&net, "srv", "203.0.113.10:7");
    let h1 = udp(&net, "h1", "0.0.0.0:4000");
    h1.send_to(b"hi", "203.0.113.10:7").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("the server hears h1");
    assert_eq!(from.ip().to_string(), "203.0.113.1");
    assert!((600..=610).contains(&from.port()), "{from}");
}
