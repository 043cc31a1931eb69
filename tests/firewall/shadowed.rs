//! A source NAT out of an interface that the source NATs declared before
//! it out of that interface leave no packet to: it would never match, so
//! it is refused, by validation and on a live router, before anything
//! changes. One for an address family they leave is accepted.

use netns_test::firewall::Nat;
use netns_test::{Error, Net, TopologyError};

use crate::{home, recv_within, udp, ARRIVES};

/// Whether `e` says that `nat` on r1/eth1 never matches because of `first`.
fn never_matches(e: &TopologyError, nat: &str, first: &str) -> bool {
    matches!(e, TopologyError::NatNeverMatches { node, ifname, nat: n, first: f }
        if node == "r1" && ifname == "eth1" && n == nat && f == first)
}

#[test]
fn a_second_source_nat_out_of_one_interface_is_refused_before_the_build() {
    let refused = [
        (
            Nat::masquerade("eth1"),
            Nat::snat("eth1", "203.0.113.1"),
            "snat to 203.0.113.1 on eth1",
            "masquerade on eth1",
        ),
        (
            Nat::masquerade("eth1").ports(20000..=20999),
            Nat::masquerade("eth1"),
            "masquerade on eth1",
            "masquerade on eth1",
        ),
        (
            Nat::snat("eth1", "203.0.113.1"),
            Nat::snat_range("eth1", "203.0.113.1", "203.0.113.1").persistent(),
            "snat to 203.0.113.1-203.0.113.1 on eth1",
            "snat to 203.0.113.1 on eth1",
        ),
        (
            Nat::masquerade("eth1"),
            Nat::full_cone("eth1"),
            "full cone on eth1",
            "masquerade on eth1",
        ),
        (
            Nat::symmetric("eth1"),
            Nat::snat("eth1", "203.0.113.1"),
            "snat to 203.0.113.1 on eth1",
            "symmetric on eth1",
        ),
    ];
    for (first, second, nat, by) in refused {
        let t = home(Some(first)).nat("r1", second);
        let e = t.validate().unwrap_err();
        assert!(never_matches(&e, nat, by), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "NAT `{nat}` on node `r1` never matches: `{by}`, declared before it, \
                 takes its packets on r1/eth1"
            )
        );
        // The build refuses it as validation does, before making anything.
        match Net::build(&t) {
            Err(Error::Topology(b)) => assert_eq!(b, e),
            other => panic!("built: {other:?}"),
        }
    }
    // IPv4 and IPv6 source NATs of one interface, each taking its own
    // family: the second one would never match.
    let e = home(Some(Nat::snat("eth1", "203.0.113.1")))
        .nat("r1", Nat::snat("eth1", "2001:db8::1"))
        .nat("r1", Nat::masquerade("eth1"))
        .validate()
        .unwrap_err();
    assert!(
        never_matches(
            &e,
            "masquerade on eth1",
            "snat to 203.0.113.1 on eth1` and `snat to 2001:db8::1 on eth1"
        ),
        "{e:?}"
    );
}

#[test]
fn a_source_nat_for_what_the_ones_before_it_leave_is_accepted() {
    let accepted = [
        // An `snat ip` leaves IPv6 alone: the masquerade takes it.
        (Nat::snat("eth1", "203.0.113.1"), Nat::masquerade("eth1")),
        (
            Nat::snat("eth1", "203.0.113.1"),
            Nat::snat("eth1", "2001:db8::1"),
        ),
        // The presets are IPv4 too.
        (Nat::full_cone("eth1"), Nat::masquerade("eth1")),
        // Another interface.
        (Nat::masquerade("eth1"), Nat::masquerade("eth0")),
        // Destination NAT of what comes in on it.
        (Nat::masquerade("eth1"), Nat::dnat("eth1", "198.51.100.1")),
    ];
    for (first, second) in accepted {
        let t = home(Some(first.clone())).nat("r1", second.clone());
        assert!(t.validate().is_ok(), "{first:?} then {second:?}");
    }
}

/// The address srv sees h1's datagram from.
fn seen_from(net: &Net, port: u16) -> std::net::IpAddr {
    let h1 = udp(net, "h1", &format!("0.0.0.0:{port}"));
    let srv = udp(net, "srv", &format!("203.0.113.10:{port}"));
    h1.send_to(b"hi", ("203.0.113.10", port)).unwrap();
    recv_within(&srv, ARRIVES).expect("srv hears h1").1.ip()
}

#[test]
fn a_second_source_nat_on_a_live_router_is_refused_and_changes_nothing() {
    let net = Net::build(&home(Some(Nat::masquerade("eth1")))).unwrap();
    let r1 = &net["r1"];
    let before = r1.ruleset().unwrap().to_string();
    for second in [Nat::snat("eth1", "203.0.113.1"), Nat::symmetric("eth1")] {
        let e = r1.add_nat(second).unwrap_err();
        assert!(
            matches!(&e, Error::Topology(TopologyError::NatNeverMatches { node, ifname, .. })
                if node == "r1" && ifname == "eth1"),
            "{e}"
        );
        assert_eq!(r1.ruleset().unwrap().to_string(), before);
    }
    assert_eq!(seen_from(&net, 4000).to_string(), "203.0.113.1");
    // Put in its place, a source NAT is the only one: accepted.
    let nat = r1.set_nat(Nat::symmetric("eth1")).unwrap();
    assert_ne!(r1.ruleset().unwrap().to_string(), before);
    nat.restore().unwrap();
    assert_eq!(r1.ruleset().unwrap().to_string(), before);
}
