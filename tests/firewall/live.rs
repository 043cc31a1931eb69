//! NAT and firewalls changed on live routers: guards that put back what
//! they replaced, in any order; a change checked like the topology's and
//! refused whole; errors that name the node and interface.

use netns_test::firewall::{Filter, Firewall, Nat, Proto};
use netns_test::{Error, Net, TopologyError};

use crate::{home, recv_within, udp, ARRIVES, SILENT};

/// Whether h1's datagram to srv gets an answer (srv answers whatever it hears).
fn answered(net: &Net, port: u16) -> bool {
    let h1 = udp(net, "h1", &format!("0.0.0.0:{port}"));
    let srv = udp(net, "srv", &format!("203.0.113.10:{port}"));
    h1.send_to(b"hi", ("203.0.113.10", port)).unwrap();
    let Some((_, from)) = recv_within(&srv, ARRIVES) else {
        return false;
    };
    // Without a route back (no NAT), the answer cannot even be sent.
    srv.send_to(b"back", from).is_ok() && recv_within(&h1, ARRIVES).is_some()
}

fn has_table(net: &Net) -> bool {
    let rs = net["r1"].ruleset().unwrap();
    rs.table("inet", "netns_test_firewall").is_some()
}

#[test]
fn a_nat_set_on_a_live_router_lasts_as_long_as_its_guard() {
    let net = Net::build(&home(None)).unwrap();
    assert!(!answered(&net, 4000), "srv has no route back to h1");
    assert!(!has_table(&net));
    {
        let _nat = net["r1"].set_nat(Nat::masquerade("eth1")).unwrap();
        assert!(has_table(&net));
        assert!(answered(&net, 4001));
    }
    assert!(!has_table(&net), "the table goes with the last declaration");
    assert!(!answered(&net, 4002));
    // keep(): it stays.
    net["r1"].set_nat(Nat::masquerade("eth1")).unwrap().keep();
    assert!(answered(&net, 4003));
}

#[test]
fn nat_and_firewall_guards_put_back_their_own_part_in_any_order() {
    let net = Net::build(&home(Some(Nat::masquerade("eth1")))).unwrap();
    let nat = net["r1"].remove_nat().unwrap();
    let fw = net["r1"]
        .set_firewall(Firewall::new().forward(Filter::drop().udp().dport(4100)))
        .unwrap();
    assert!(!answered(&net, 4000), "no NAT");
    drop(nat);
    assert!(answered(&net, 4001), "the NAT is back");
    assert!(!answered(&net, 4100), "the firewall stays");
    fw.restore().unwrap();
    assert!(answered(&net, 4100));
    let rs = net["r1"].ruleset().unwrap();
    let t = rs.table("inet", "netns_test_firewall").unwrap();
    assert!(t.chain("forward").is_none(), "{rs}");
}

#[test]
fn add_nat_guards_take_out_only_their_own_nat_in_any_order() {
    let net = Net::build(&home(None)).unwrap();
    let masquerade = net["r1"].add_nat(Nat::masquerade("eth1")).unwrap();
    let forward = net["r1"]
        .add_nat(Nat::port_forward("eth1", Proto::Udp, 53, "198.51.100.1"))
        .unwrap();
    assert!(answered(&net, 4000));
    // The first guard drops first: only its NAT goes.
    drop(masquerade);
    assert!(!answered(&net, 4001), "the masquerade is gone");
    assert!(has_table(&net), "the port forward stays");
    drop(forward);
    assert!(!has_table(&net), "nothing is left");
}

#[test]
fn a_bad_change_is_refused_whole_and_names_the_culprit() {
    let net = Net::build(&home(Some(Nat::masquerade("eth1")))).unwrap();
    let before = net["r1"].ruleset().unwrap().to_string();
    let err = net["r1"].set_nat(Nat::full_cone("wan0")).unwrap_err();
    assert!(
        matches!(&err, Error::Topology(TopologyError::UnknownInterface { node, ifname, .. })
            if node == "r1" && ifname == "wan0"),
        "{err}"
    );
    // A host does not forward: a NAT there is refused.
    let err = net["h1"].set_nat(Nat::masquerade("eth0")).unwrap_err();
    assert!(
        matches!(&err, Error::Topology(TopologyError::NatWithoutForwarding { node }) if node == "h1"),
        "{err}"
    );
    assert_eq!(net["r1"].ruleset().unwrap().to_string(), before);
    assert!(answered(&net, 4000));
}

#[test]
fn nat_declarations_are_checked_before_anything_is_built() {
    let check = |nat: Nat| home(Some(nat)).validate().unwrap_err();
    let e = check(Nat::masquerade("eth9"));
    assert!(
        matches!(&e, TopologyError::UnknownInterface { node, ifname, used_by }
            if node == "r1" && ifname == "eth9" && used_by.contains("masquerade")),
        "{e}"
    );
    let e = check(Nat::snat("eth1", "203.0.113.300"));
    assert!(
        matches!(&e, TopologyError::InvalidNat { node, .. } if node == "r1"),
        "{e}"
    );
    let e = check(Nat::port_forward(
        "eth1",
        netns_test::firewall::Proto::Icmp,
        1,
        "198.51.100.1",
    ));
    assert!(e.to_string().contains("ports are for TCP and UDP"), "{e}");
    let e = check(Nat::symmetric("eth1").hairpin(true));
    assert!(
        e.to_string().contains("endpoint-independent mapping"),
        "{e}"
    );
    #[allow(clippy::reversed_empty_ranges)]
    let e = check(Nat::masquerade("eth1").ports(2000..=1000));
    assert!(e.to_string().contains("bad port range"), "{e}");
    let e = check(Nat::full_cone("eth1").mapping_timeout(std::time::Duration::from_millis(1500)));
    assert!(e.to_string().contains("whole seconds"), "{e}");
    // A preset needs an IPv4 address on its interface.
    let v6 = netns_test::Topology::new()
        .link(
            ("r1", "eth1", "2001:db8::1/64"),
            ("x", "eth0", "2001:db8::2/64"),
        )
        .forwarding("r1")
        .nat("r1", Nat::full_cone("eth1"));
    let e = v6.validate().unwrap_err();
    assert!(
        matches!(&e, TopologyError::NoAddressForNat { node, ifname, .. } if node == "r1" && ifname == "eth1"),
        "{e}"
    );
    // And a NAT on a node that does not forward.
    let e = netns_test::Topology::new()
        .link(
            ("r1", "eth1", "203.0.113.1/24"),
            ("x", "eth0", "203.0.113.2/24"),
        )
        .nat("r1", Nat::masquerade("eth1"))
        .validate()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "node `r1` has a NAT but does not forward packets; add `.forwarding(\"r1\")`"
    );
}

#[test]
fn a_failed_assertion_shows_the_routers_rules_and_connections() {
    let fw = Firewall::new().forward(Filter::drop().icmp().comment("no pings"));
    let net = Net::build(&home(Some(Nat::masquerade("eth1"))).firewall("r1", fw)).unwrap();
    assert!(answered(&net, 4000));
    let src = netns_test::assert::Source::with_net(&net, &net["h1"]);
    let failure = netns_test::assert::reachable(src, "203.0.113.10").unwrap_err();
    let text = failure.to_string();
    assert_eq!(failure.netfilter.len(), 1, "{text}");
    assert!(
        text.contains("node r1 netfilter:\n  $ nft list ruleset\n"),
        "{text}"
    );
    let rule = text
        .lines()
        .find(|l| l.contains("comment \"no pings\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        !rule.contains("counter packets 0 "),
        "the dropped ping is counted: {rule}"
    );
    // The UDP mapping made above is listed under conntrack.
    assert!(
        text.contains("src=198.51.100.1 dst=203.0.113.10 sport=4000 dport=4000"),
        "{text}"
    );
}

#[test]
fn a_full_cone_keeps_its_mappings_across_a_firewall_change_but_not_a_new_timeout() {
    let net = crate::two_sites(Nat::full_cone("eth1"), Nat::full_cone("eth1"));
    let a = udp(&net, "a", "0.0.0.0:4000");
    let s = udp(&net, "s", "203.0.113.10:3478");
    let register = || {
        a.send_to(b"register", "203.0.113.10:3478").unwrap();
        recv_within(&s, ARRIVES).expect("s hears a").1
    };
    let a_out = register();
    // Each from a port of its own, so that conntrack knows none of them.
    // `wait`: long when the datagram should come, short when it should not.
    let let_in = |port: u16, wait| {
        let stranger = udp(&net, "s", &format!("203.0.113.10:{port}"));
        stranger.send_to(b"unsolicited", a_out).unwrap();
        recv_within(&a, wait).map(|(_, from)| from.port())
    };
    assert_eq!(let_in(9001, ARRIVES), Some(9001));
    // A firewall for something else: the table changes, the mapping stays.
    let _fw = net["na"]
        .set_firewall(Firewall::new().forward(Filter::drop().icmp()))
        .unwrap();
    assert_eq!(let_in(9002, ARRIVES), Some(9002));
    // A new mapping timeout makes a new set: it starts empty, and fills
    // again when a sends.
    let _nat = net["na"]
        .set_nat(Nat::full_cone("eth1").mapping_timeout(std::time::Duration::from_secs(60)))
        .unwrap();
    assert_eq!(let_in(9003, SILENT), None);
    assert_eq!(register(), a_out);
    assert_eq!(let_in(9004, ARRIVES), Some(9004));
}

#[test]
fn a_firewall_or_nat_on_a_live_switch_is_refused() {
    let net = Net::build(&netns_test::Topology::new().bridge(
        "sw",
        [
            ("a", "eth0", "198.51.100.1/26"),
            ("b", "eth0", "198.51.100.2/26"),
        ],
    ))
    .unwrap();
    let fw = net["sw"].set_firewall(Firewall::new().forward(Filter::drop().udp()));
    assert!(
        matches!(
            fw,
            Err(Error::Topology(TopologyError::NetfilterOnSwitch { ref node })) if node == "sw"
        ),
        "{fw:?}"
    );
    let nat = net["sw"].add_nat(Nat::masquerade("eth0"));
    assert!(
        matches!(
            nat,
            Err(Error::Topology(TopologyError::NetfilterOnSwitch { .. }))
        ),
        "{nat:?}"
    );
    assert!(net["sw"]
        .ruleset()
        .unwrap()
        .table("inet", "netns_test_firewall")
        .is_none());
}
