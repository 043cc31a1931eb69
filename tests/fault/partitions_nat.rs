//! Partitions through a NAT router: what the far side sees as the router's
//! own address is the inside hosts' traffic, so the router drops it
//! between its translations.

use std::net::UdpSocket;
use std::time::Duration;

use netns_test::firewall::{Nat, Proto};
use netns_test::{Error, Net, Route, Topology};

use crate::common::two_inside;
use crate::{reaches, silent, ARRIVES, SILENT};

/// h1 and h2 (198.51.100.0/26) behind r1, which masquerades on eth1 and
/// forwards UDP 203.0.113.1:5000 to h1:5000; srv (203.0.113.10) outside,
/// with no route to the inside network.
fn behind_nat() -> Net {
    Net::build(&two_inside(vec![
        Nat::masquerade("eth1"),
        Nat::port_forward("eth1", Proto::Udp, 5000, "198.51.100.1:5000"),
    ]))
    .unwrap()
}

/// Whether a datagram srv sends to r1's forwarded port reaches h1 within
/// `wait`.
fn forwarded_arrives(net: &Net, h1: &UdpSocket, wait: Duration) -> bool {
    let srv = net["srv"]
        .with(|| UdpSocket::bind("203.0.113.10:0"))
        .unwrap()
        .unwrap();
    srv.send_to(b"in", "203.0.113.1:5000").unwrap();
    h1.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 16];
    h1.recv_from(&mut buf).is_ok()
}

#[test]
fn a_partition_holds_through_a_nat_both_ways_and_spares_the_hosts_outside_it() {
    let net = behind_nat();
    let h1 = net["h1"]
        .with(|| UdpSocket::bind("198.51.100.1:5000"))
        .unwrap()
        .unwrap();
    assert!(reaches(&net, "h1", "srv"));
    assert!(forwarded_arrives(&net, &h1, ARRIVES));
    {
        let _p = net.partition("h1", "srv").unwrap();
        // Out through the masquerade, and in through the port forward.
        assert!(silent(&net, "h1", "srv"));
        assert!(!forwarded_arrives(&net, &h1, SILENT));
        // h2 shares the router and its outside address, and is not cut off.
        assert!(reaches(&net, "h2", "srv"));
        let dropped = &net.active_faults()[0].evidence;
        assert!(!dropped.starts_with("0 "), "{dropped}");
    }
    assert!(reaches(&net, "h1", "srv"));
    assert!(forwarded_arrives(&net, &h1, ARRIVES));
    // One way: h1's requests go nowhere, srv's datagrams still come in.
    let _p = net.partition_one_way("h1", "srv").unwrap();
    assert!(silent(&net, "h1", "srv"));
    assert!(forwarded_arrives(&net, &h1, ARRIVES));
}

#[test]
fn a_node_without_an_address_cannot_be_partitioned_and_isolate_skips_it() {
    let net = behind_nat();
    let e = net.partition("h1", "lan").unwrap_err();
    assert!(
        matches!(&e, Error::InvalidPartition { reason } if reason.contains("`lan` has no address")),
        "{e}"
    );
    let _p = net.isolate("h2").unwrap();
    let faults = net.active_faults();
    assert_eq!(faults[0].description, "partition {h2} | {h1, r1, srv}");
    assert!(silent(&net, "h2", "h1"));
    assert!(reaches(&net, "h1", "srv"));
}

/// `nft` as an oracle, where it is installed (CI installs it): the NAT
/// router's forward rules, and each heal taking away its own sets.
#[test]
fn nft_sees_the_nat_routers_forward_rules_and_each_heal_removes_its_own() {
    if !crate::common::nft_installed() {
        println!("skipped: the `nft` binary is not installed (CI installs it as an oracle)");
        return;
    }
    let net = behind_nat();
    let ruleset = || crate::common::nft_list_ruleset(&net["r1"]);
    let p = net.partition("h1", "srv").unwrap();
    let q = net.partition_one_way("h2", "srv").unwrap();
    let text = ruleset();
    for rule in [
        "chain fault_forward {\n\t\ttype filter hook forward priority filter - 10; policy accept;",
        "ip saddr @fault0_0_from4 ip daddr @fault0_0_to4 counter packets 0 bytes 0 drop comment \"netns-test fault 0\"",
        "ip saddr @fault0_1_from4 ip daddr @fault0_1_to4 counter packets 0 bytes 0 drop",
        "set fault1_0_to4 {\n\t\ttype ipv4_addr\n\t\telements = { 203.0.113.10 }",
    ] {
        assert!(text.contains(rule), "no `{rule}` in:\n{text}");
    }
    drop(p);
    let text = ruleset();
    assert!(!text.contains("fault0_"), "{text}");
    assert!(
        text.contains("ip saddr @fault1_0_from4 ip daddr @fault1_0_to4"),
        "{text}"
    );
    drop(q);
    assert!(
        !ruleset().contains("table inet netns_test {"),
        "{}",
        ruleset()
    );
}

#[test]
fn the_partition_nemeses_pick_only_nodes_with_addresses_and_check_the_nodes_named() {
    use netns_test::fault::{IsolateOne, Nemesis, RandomHalves, Rng};
    let net = behind_nat();
    for seed in 0..16 {
        let mut rng = Rng::new(seed);
        let mut one = IsolateOne::new();
        let detail = one.start(&net, &mut rng).unwrap();
        assert!(!detail.contains("lan"), "{detail}");
        one.stop(&net).unwrap();
        let mut halves = RandomHalves::new();
        let detail = halves.start(&net, &mut rng).unwrap();
        assert!(!detail.contains("lan"), "{detail}");
        halves.stop(&net).unwrap();
    }
    let e = IsolateOne::of(["lan"]).check(&net).unwrap_err();
    assert!(e.to_string().contains("`lan` has no address"), "{e}");
    let e = RandomHalves::of(["h1", "ghost"]).check(&net).unwrap_err();
    assert!(matches!(&e, Error::UnknownNode(n) if n == "ghost"), "{e}");
    let e = RandomHalves::of(["h1"]).check(&net).unwrap_err();
    assert!(e.to_string().contains("at least 2"), "{e}");
    assert!(RandomHalves::new().check(&net).is_ok());
}

#[test]
fn a_host_behind_one_nat_is_cut_off_from_the_hosts_behind_another_by_partitioning_that_router() {
    // a -- na (masquerade) == nb (forwards UDP 5000 to b) -- b
    let net = Net::build(
        &Topology::new()
            .link(
                ("a", "eth0", "198.51.100.1/26"),
                ("na", "eth0", "198.51.100.62/26"),
            )
            .link(
                ("b", "eth0", "198.51.100.65/26"),
                ("nb", "eth0", "198.51.100.126/26"),
            )
            .link(
                ("na", "eth1", "203.0.113.1/24"),
                ("nb", "eth1", "203.0.113.2/24"),
            )
            .forwarding("na")
            .forwarding("nb")
            .route("a", Route::default_via("198.51.100.62"))
            .route("b", Route::default_via("198.51.100.126"))
            .nat("na", Nat::masquerade("eth1"))
            .nat("nb", Nat::masquerade("eth1"))
            .nat(
                "nb",
                Nat::port_forward("eth1", Proto::Udp, 5000, "198.51.100.65:5000"),
            ),
    )
    .unwrap();
    let b = net["b"]
        .with(|| UdpSocket::bind("198.51.100.65:5000"))
        .unwrap()
        .unwrap();
    let a = net["a"]
        .with(|| UdpSocket::bind("198.51.100.1:4000"))
        .unwrap()
        .unwrap();
    let mut buf = [0u8; 16];
    // Across both NATs: b hears a (from na's outside address) and answers;
    // each waits at most `wait`.
    let exchange = |buf: &mut [u8], wait: Duration| -> (bool, bool) {
        a.set_read_timeout(Some(wait)).unwrap();
        b.set_read_timeout(Some(wait)).unwrap();
        a.send_to(b"to b", "203.0.113.2:5000").unwrap();
        let Ok((_, from)) = b.recv_from(buf) else {
            return (false, false);
        };
        assert_eq!(from.ip().to_string(), "203.0.113.1");
        b.send_to(b"to a", from).unwrap();
        (true, a.recv_from(buf).is_ok())
    };
    assert_eq!(exchange(&mut buf, ARRIVES), (true, true));
    {
        let _p = net.partition("a", "nb").unwrap();
        assert_eq!(exchange(&mut buf, SILENT), (false, false));
        // And what b sends to the mapping a used is dropped too.
        b.send_to(b"to a", "203.0.113.1:4000").unwrap();
        assert!(a.recv_from(&mut buf).is_err());
    }
    assert_eq!(exchange(&mut buf, ARRIVES), (true, true));
}

/// Whether a datagram `from` sends to srv's port 6000 reaches it within
/// `wait`.
fn arrives_at_srv(net: &Net, from: &str, wait: Duration) -> bool {
    let srv = net["srv"]
        .with(|| UdpSocket::bind("203.0.113.10:6000"))
        .unwrap()
        .unwrap();
    srv.set_read_timeout(Some(wait)).unwrap();
    net[from]
        .with(|| {
            let s = UdpSocket::bind("0.0.0.0:0")?;
            s.send_to(b"out", "203.0.113.10:6000")
        })
        .unwrap()
        .unwrap();
    let mut buf = [0u8; 16];
    srv.recv_from(&mut buf).is_ok()
}

#[test]
fn a_nat_installed_during_a_partition_gets_its_forward_rules_until_the_heal() {
    // No NAT at first: srv has no route back to the inside network, and
    // r1 gets no forward rules when the partitions start.
    let net = Net::build(&two_inside(Vec::new())).unwrap();
    // r1's ruleset, when it holds the faults' table; empty when not.
    let fault_table = || {
        let text = net["r1"].ruleset().unwrap().to_string();
        if text.contains("table inet netns_test {") {
            text
        } else {
            String::new()
        }
    };
    let p = net.partition_one_way("h1", "srv").unwrap();
    assert!(!fault_table().contains("fault_forward"));
    let nat = net["r1"].set_nat(Nat::masquerade("eth1")).unwrap();
    // srv sees r1's own address: only r1 can tell h1's pings apart.
    assert!(silent(&net, "h1", "srv"));
    assert!(reaches(&net, "h2", "srv"));
    let text = fault_table();
    assert!(
        text.contains("ip saddr @fault0_0_from4 ip daddr @fault0_0_to4 counter packets 1 "),
        "{text}"
    );
    let dropped = &net.active_faults()[0].evidence;
    assert_eq!(dropped, "1 packets dropped");
    p.heal().unwrap();
    assert_eq!(fault_table(), "");
    assert!(reaches(&net, "h1", "srv"));
    nat.restore().unwrap();

    // Both ways, with a NAT added after the start: what h1 sends never
    // reaches srv, and a second NAT adds nothing twice.
    let p = net.partition("h1", "srv").unwrap();
    let nat = net["r1"].add_nat(Nat::masquerade("eth1")).unwrap();
    let again = net["r1"]
        .add_nat(Nat::port_forward(
            "eth1",
            Proto::Udp,
            5000,
            "198.51.100.1:5000",
        ))
        .unwrap();
    assert!(!arrives_at_srv(&net, "h1", SILENT));
    assert!(arrives_at_srv(&net, "h2", ARRIVES));
    let text = fault_table();
    assert_eq!(text.matches("@fault1_0_to4").count(), 1, "{text}");
    assert_eq!(text.matches("@fault1_1_to4").count(), 1, "{text}");
    drop(p);
    assert_eq!(fault_table(), "");
    assert!(arrives_at_srv(&net, "h1", ARRIVES));
    drop(again);
    drop(nat);
}
