//! A wire carries what a veth carries: ARP, IPv4, IPv6, bridges.

use std::time::Duration;

use netns_test::wire::{Direction, Impairment, ImpairmentError, Probability, Profile};
use netns_test::{Error, Net, Topology};

fn wired() -> Net {
    Net::build(&Topology::new().wire(
        ("n1", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    ))
    .unwrap()
}

#[test]
fn a_wire_carries_ipv4_and_ipv6_and_counts_frames() {
    let net = wired();
    let link = net.link("n1", "n2").unwrap();
    assert!(link.is_wire());
    let r4 = net["n1"]
        .ping("198.51.100.2")
        .count(3)
        .interval(Duration::from_millis(10))
        .run()
        .unwrap();
    assert_eq!(r4.received, 3, "{r4}");
    let r6 = net["n2"]
        .ping("2001:db8::1")
        .count(2)
        .interval(Duration::from_millis(10))
        .run()
        .unwrap();
    assert_eq!(r6.received, 2, "{r6}");
    let stats = link.wire_stats().unwrap();
    // ARP request and 3 echo requests at least went forward; the replies back.
    assert!(stats.forward.passed >= 4, "{stats:?}");
    assert!(stats.backward.passed >= 4, "{stats:?}");
    assert_eq!(stats.forward.dropped(), 0);
    // The nodes' ends are there, under the declared names.
    let links = net["n1"].links().unwrap();
    assert!(links.iter().any(|l| l.name == "eth0"), "{links:?}");
}

#[test]
fn link_faults_work_on_a_wire() {
    let net = wired();
    let link = net.link("n1", "n2").unwrap();
    {
        let _down = link.down().unwrap();
        assert!(!link.is_up().unwrap());
        let r = net["n1"]
            .ping("198.51.100.2")
            .timeout(Duration::from_millis(300))
            .run()
            .unwrap();
        assert_eq!(r.received, 0, "{r}");
    }
    assert!(net["n1"]
        .wait_reachable("198.51.100.2")
        .timeout(Duration::from_secs(5))
        .run()
        .is_ok());
    // A smaller MTU on both ends: a large ping with DF set is refused
    // by the sender's own stack.
    link.set_mtu(1280).unwrap();
    let big = net["n1"]
        .ping("198.51.100.2")
        .payload_size(1400)
        .dont_fragment(true)
        .timeout(Duration::from_millis(300))
        .run()
        .unwrap();
    assert_eq!(big.received, 0, "{big}");
    let fits = net["n1"]
        .ping("198.51.100.2")
        .payload_size(1200)
        .run()
        .unwrap();
    assert_eq!(fits.received, 1, "{fits}");
}

#[test]
fn raising_a_wires_mtu_lets_large_frames_cross_both_ways() {
    let net = wired();
    let link = net.link("n1", "n2").unwrap();
    link.set_mtu(9000).unwrap();
    // 8,028-byte IP packets, not fragmented: the request and the reply
    // cross the relay whole, through the hub's ends too.
    let big = net["n1"]
        .ping("198.51.100.2")
        .payload_size(8000)
        .dont_fragment(true)
        .timeout(Duration::from_secs(2))
        .run()
        .unwrap();
    assert_eq!(big.received, 1, "{big}");
    let stats = link.wire_stats().unwrap();
    assert!(stats.forward.passed_bytes >= 8042, "{stats:?}");
    // And back down: what fits 1,500 bytes still crosses.
    link.set_mtu(1500).unwrap();
    let fits = net["n2"]
        .ping("198.51.100.1")
        .payload_size(1400)
        .dont_fragment(true)
        .timeout(Duration::from_secs(2))
        .run()
        .unwrap();
    assert_eq!(fits.received, 1, "{fits}");
}

#[test]
fn a_profile_with_one_bad_direction_changes_neither() {
    let net = wired();
    let link = net.link("n1", "n2").unwrap();
    let good = Impairment::new().delay(Duration::from_millis(5));
    let bad = Impairment::new().reorder(Probability::percent(10.0).unwrap());
    // The error names the direction whose model is wrong.
    for (profile, wrong) in [
        (
            Profile {
                forward: good.clone(),
                backward: bad.clone(),
            },
            "n2/eth0 -> n1/eth0",
        ),
        (
            Profile {
                forward: bad,
                backward: good,
            },
            "n1/eth0 -> n2/eth0",
        ),
    ] {
        let e = link.impair_with(profile).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::InvalidImpairment {
                    source: ImpairmentError::ReorderWithoutDelay(_),
                    link,
                } if link == wrong
            ),
            "{e}"
        );
        assert_eq!(
            link.impairment().unwrap(),
            (Impairment::new(), Impairment::new())
        );
        assert!(net.active_faults().is_empty(), "{:?}", net.active_faults());
    }
}

#[test]
fn heal_puts_back_the_built_model_after_unimpair() {
    let built = Impairment::new().delay(Duration::from_millis(5));
    let net = Net::build(&Topology::new().wire_with(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
        Profile::symmetric(built.clone()),
    ))
    .unwrap();
    let link = net.link("n1", "n2").unwrap();
    link.unimpair(Direction::Forward).unwrap();
    assert_eq!(
        link.impairment().unwrap(),
        (Impairment::new(), built.clone())
    );
    let faults = net.active_faults();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(
        faults[0].description,
        "wire n1/eth0 -> n2/eth0 unimpaired (built with delay 5ms)"
    );
    net.heal().unwrap();
    assert_eq!(link.impairment().unwrap(), (built.clone(), built.clone()));
    assert!(net.active_faults().is_empty());
    // Impaired, then unimpaired: heal still puts back the built model.
    let other = Impairment::new().delay(Duration::from_millis(9));
    link.impair(Direction::Backward, other).unwrap();
    link.unimpair(Direction::Backward).unwrap();
    assert_eq!(net.active_faults().len(), 1);
    net.heal().unwrap();
    assert_eq!(link.impairment().unwrap(), (built.clone(), built));
    // On a wire built transparent, unimpair is no fault.
    let plain = wired();
    plain
        .link("n1", "n2")
        .unwrap()
        .unimpair(Direction::Both)
        .unwrap();
    assert!(plain.active_faults().is_empty());
}
