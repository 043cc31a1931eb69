//! Guards of one router's NATs and firewall dropped in any order: what is
//! in force is what the live guards say, and the declaration once they are
//! all gone.

use std::net::IpAddr;

use netns_test::firewall::{Filter, Firewall, Nat, Proto, RulesetChange};
use netns_test::Net;

use crate::{home, recv_within, udp, ARRIVES};

/// The source address srv sees on h1's datagram from `port`, or `None`
/// when none arrives. A port of its own for each call: conntrack knows
/// none of them, so the NATs in force now translate it.
fn seen_from(net: &Net, port: u16) -> Option<IpAddr> {
    let h1 = udp(net, "h1", &format!("0.0.0.0:{port}"));
    let srv = udp(net, "srv", &format!("203.0.113.10:{port}"));
    h1.send_to(b"hi", ("203.0.113.10", port)).unwrap();
    recv_within(&srv, ARRIVES).map(|(_, from)| from.ip())
}

/// r1's ruleset as `nft list ruleset` prints it.
fn listing(net: &Net) -> String {
    net["r1"].ruleset().unwrap().to_string()
}

/// The SNAT rule to `addr`, as the listing prints it.
fn snat_to(addr: &str) -> String {
    format!("snat ip to {addr}\n")
}

fn addr(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[test]
fn set_nat_guards_dropped_in_either_order_leave_the_declared_nat() {
    let net = Net::build(&home(Some(Nat::snat("eth1", "203.0.113.1")))).unwrap();
    assert_eq!(seen_from(&net, 4000), addr("203.0.113.1"));
    for (round, first_out) in [(0u16, 0usize), (1, 1)] {
        let port = 4100 + 10 * round;
        let mut guards: Vec<Option<RulesetChange>> = vec![
            Some(net["r1"].set_nat(Nat::snat("eth1", "203.0.113.7")).unwrap()),
            Some(net["r1"].set_nat(Nat::snat("eth1", "203.0.113.8")).unwrap()),
        ];
        assert_eq!(seen_from(&net, port), addr("203.0.113.8"));
        drop(guards[first_out].take());
        // The other guard's NAT is in force, whichever it is.
        let live = if first_out == 0 {
            "203.0.113.8"
        } else {
            "203.0.113.7"
        };
        let now = listing(&net);
        assert!(now.contains(&snat_to(live)), "round {round}\n{now}");
        assert_eq!(seen_from(&net, port + 1), addr(live), "round {round}");
        drop(guards);
        let now = listing(&net);
        assert!(
            now.contains(&snat_to("203.0.113.1")),
            "round {round}\n{now}"
        );
        assert!(
            !now.contains("203.0.113.7") && !now.contains("203.0.113.8"),
            "{now}"
        );
        assert_eq!(
            seen_from(&net, port + 2),
            addr("203.0.113.1"),
            "round {round}"
        );
    }
}

#[test]
fn set_firewall_guards_dropped_out_of_order_leave_the_declared_firewall() {
    let declared = Firewall::new().forward(Filter::drop().udp().dport(4100));
    let net = Net::build(&home(Some(Nat::masquerade("eth1"))).firewall("r1", declared)).unwrap();
    let first = net["r1"]
        .set_firewall(Firewall::new().forward(Filter::drop().udp().dport(4200)))
        .unwrap();
    let second = net["r1"]
        .set_firewall(Firewall::new().forward(Filter::drop().udp().dport(4300)))
        .unwrap();
    drop(first);
    let now = listing(&net);
    assert!(now.contains("udp dport 4300 counter"), "{now}");
    assert!(!now.contains("4100") && !now.contains("4200"), "{now}");
    assert_eq!(seen_from(&net, 4300), None, "the second guard's filter");
    assert!(
        seen_from(&net, 4200).is_some(),
        "the first guard's filter is gone"
    );
    drop(second);
    let now = listing(&net);
    assert!(now.contains("udp dport 4100 counter"), "{now}");
    assert!(!now.contains("4200") && !now.contains("4300"), "{now}");
    assert_eq!(seen_from(&net, 4100), None, "the declared filter");
    assert!(seen_from(&net, 4201).is_some());
    assert!(seen_from(&net, 4300).is_some());
}

#[test]
fn add_nat_guards_add_to_the_nats_the_other_guards_leave_in_force() {
    let net = Net::build(&home(Some(Nat::masquerade("eth1")))).unwrap();
    let forward = || Nat::port_forward("eth1", Proto::Udp, 53, "198.51.100.1");
    let set = net["r1"].set_nat(Nat::snat("eth1", "203.0.113.7")).unwrap();
    let added = net["r1"].add_nat(forward()).unwrap();
    let removed = net["r1"].remove_nat().unwrap();
    assert_eq!(seen_from(&net, 4000), addr("198.51.100.1"), "no NAT");
    // Under the removal: nothing changes.
    drop(set);
    let now = listing(&net);
    assert!(!now.contains("snat") && !now.contains("dnat"), "{now}");
    // The removal goes: the declared NAT, and the added one after it.
    drop(removed);
    let now = listing(&net);
    assert!(
        now.contains("masquerade") && now.contains("udp dport 53 dnat"),
        "{now}"
    );
    assert!(!now.contains("203.0.113.7"), "{now}");
    assert_eq!(seen_from(&net, 4001), addr("203.0.113.1"));
    drop(added);
    let now = listing(&net);
    assert!(now.contains("masquerade") && !now.contains("dnat"), "{now}");
    assert_eq!(seen_from(&net, 4002), addr("203.0.113.1"));
}

#[test]
fn a_kept_change_outlasts_the_guards_made_before_it() {
    let net = Net::build(&home(Some(Nat::masquerade("eth1")))).unwrap();
    let first = net["r1"].set_nat(Nat::snat("eth1", "203.0.113.7")).unwrap();
    net["r1"]
        .set_nat(Nat::snat("eth1", "203.0.113.8"))
        .unwrap()
        .keep();
    drop(first);
    let now = listing(&net);
    assert!(now.contains(&snat_to("203.0.113.8")), "{now}");
    assert!(
        !now.contains("masquerade") && !now.contains("203.0.113.7"),
        "{now}"
    );
    assert_eq!(seen_from(&net, 4000), addr("203.0.113.8"));
}
