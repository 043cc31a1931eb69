//! One router's NATs and firewall changed from two threads at once: each
//! change reads the node's declaration and writes it back whole, so both
//! must land, whichever comes second.

use std::sync::Barrier;

use netns_test::firewall::{Filter, Firewall, Nat, Proto};
use netns_test::{Net, Node};

use crate::home;

/// Rounds of two changes started together.
const ROUNDS: u16 = 20;

/// Runs `a` and `b` on two threads that start them together.
fn at_once(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            barrier.wait();
            a();
        });
        s.spawn(|| {
            barrier.wait();
            b();
        });
    });
}

/// r1's ruleset as `nft list ruleset` prints it.
fn listing(r1: &Node) -> String {
    r1.ruleset().unwrap().to_string()
}

#[test]
fn a_nat_and_a_firewall_set_at_once_both_hold() {
    let net = Net::build(&home(None)).unwrap();
    let r1 = &net["r1"];
    for round in 0..ROUNDS {
        let port = 5000 + round;
        at_once(
            || {
                let nat = Nat::port_forward("eth1", Proto::Tcp, port, "198.51.100.1");
                r1.set_nat(nat).unwrap().keep();
            },
            || {
                let fw = Firewall::new().forward(Filter::drop().udp().dport(port));
                r1.set_firewall(fw).unwrap().keep();
            },
        );
        let now = listing(r1);
        assert!(
            now.contains(&format!("tcp dport {port} dnat")),
            "round {round}: the NAT was lost\n{now}"
        );
        assert!(
            now.contains(&format!("udp dport {port}")),
            "round {round}: the firewall was lost\n{now}"
        );
    }
}

#[test]
fn nats_added_at_once_all_hold() {
    let net = Net::build(&home(None)).unwrap();
    let r1 = &net["r1"];
    for round in 0..ROUNDS {
        let (tcp, udp) = (6000 + round, 7000 + round);
        at_once(
            || {
                let nat = Nat::port_forward("eth1", Proto::Tcp, tcp, "198.51.100.1");
                r1.add_nat(nat).unwrap().keep();
            },
            || {
                let nat = Nat::port_forward("eth1", Proto::Udp, udp, "198.51.100.1");
                r1.add_nat(nat).unwrap().keep();
            },
        );
    }
    let now = listing(r1);
    let lost: Vec<String> = (0..ROUNDS)
        .flat_map(|round| {
            [
                format!("tcp dport {} dnat", 6000 + round),
                format!("udp dport {} dnat", 7000 + round),
            ]
        })
        .filter(|rule| !now.contains(rule.as_str()))
        .collect();
    assert!(lost.is_empty(), "lost: {lost:?}\n{now}");
}
