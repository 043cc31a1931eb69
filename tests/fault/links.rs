//! Links down, up, flapping, and their MTU, at run time.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use netns_test::fault::FaultError;
use netns_test::{Error, Net, Route, Topology};

use crate::{reaches, silent};

pub(crate) fn pair() -> Net {
    Net::build(&Topology::new().link(
        ("n1", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    ))
    .unwrap()
}

#[test]
fn down_stops_traffic_and_the_guard_brings_it_back() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    assert_eq!(link.name(), "n1/eth0 -- n2/eth0");
    assert!(reaches(&net, "n1", "198.51.100.2"));
    {
        let _down = link.down().unwrap();
        assert!(!link.is_up().unwrap());
        assert!(silent(&net, "n1", "198.51.100.2"));
        assert!(silent(&net, "n1", "2001:db8::2"));
        let faults = net.active_faults();
        assert_eq!(faults.len(), 1, "{faults:?}");
        assert_eq!(faults[0].description, "link n1/eth0 -- n2/eth0 down");
        assert!(faults[0].evidence.contains("1 state changes"), "{faults:?}");
    }
    assert!(link.is_up().unwrap());
    assert!(net.active_faults().is_empty());
    assert!(reaches(&net, "n1", "198.51.100.2"));
    assert!(reaches(&net, "n1", "2001:db8::2"), "IPv6 addresses stay");
    assert_eq!(link.state_changes(), 2);
}

/// h1 -- r -- h2, IPv4 and IPv6, the hosts' default routes via r.
fn routed() -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("h1", "eth0", ["198.51.100.1/24", "2001:db8:1::1/64"]),
                ("r", "eth0", ["198.51.100.254/24", "2001:db8:1::fe/64"]),
            )
            .link(
                ("r", "eth1", ["203.0.113.254/24", "2001:db8:2::fe/64"]),
                ("h2", "eth0", ["203.0.113.2/24", "2001:db8:2::2/64"]),
            )
            .forwarding("r")
            .route("h1", Route::default_via("198.51.100.254"))
            .route("h1", Route::default_via("2001:db8:1::fe"))
            .route("h2", Route::default_via("203.0.113.254"))
            .route("h2", Route::default_via("2001:db8:2::fe")),
    )
    .unwrap()
}

/// Whether `flap` makes `n` transitions within 5 s.
fn flapped(flap: &netns_test::fault::Flap<'_>, n: u64) -> bool {
    let start = Instant::now();
    while flap.transitions() < n && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(2));
    }
    flap.transitions() >= n
}

fn default_routes(net: &Net, node: &str) -> usize {
    let routes = net[node].routes().unwrap();
    routes.iter().filter(|r| r.dst.is_none()).count()
}

fn h1_reaches_h2(net: &Net) -> bool {
    ["203.0.113.2", "2001:db8:2::2"]
        .iter()
        .all(|dst| reaches(net, "h1", dst))
}

#[test]
fn routes_through_a_link_come_back_with_it() {
    let net = routed();
    assert!(h1_reaches_h2(&net));
    assert_eq!(default_routes(&net, "h1"), 2);
    let link = net.link("h1", "r").unwrap();
    {
        let _down = link.down().unwrap();
        assert_eq!(default_routes(&net, "h1"), 0, "the kernel deleted them");
    }
    assert_eq!(default_routes(&net, "h1"), 2, "given back with the link");
    assert!(h1_reaches_h2(&net), "after down and up");
    // The same through a flap, and through a heal.
    let flap = link
        .flap(Duration::from_millis(20), Duration::from_millis(20))
        .unwrap();
    assert!(flapped(&flap, 4));
    flap.stop().unwrap();
    assert_eq!(default_routes(&net, "h1"), 2, "after a flap");
    assert!(h1_reaches_h2(&net), "after a flap");
    link.down().unwrap().detach();
    net.heal().unwrap();
    assert_eq!(default_routes(&net, "h1"), 2, "after a heal");
    assert!(h1_reaches_h2(&net), "after a heal");
}

#[test]
fn the_guard_restores_the_link_on_a_panic() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _down = link.down().unwrap();
        panic!("the body fails while the link is down");
    }));
    assert!(r.is_err());
    assert!(link.is_up().unwrap());
    assert!(reaches(&net, "n1", "198.51.100.2"));
}

#[test]
fn heal_brings_every_link_back_and_the_guard_then_does_nothing() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    let down = link.down().unwrap();
    net.heal().unwrap();
    assert!(link.is_up().unwrap());
    assert!(reaches(&net, "n1", "198.51.100.2"));
    down.restore().unwrap();
    assert!(link.is_up().unwrap());
    assert_eq!(link.state_changes(), 2);
}

#[test]
fn flap_changes_the_link_state_again_and_again() {
    let net = pair();
    let link = net.link("n2", "n1").unwrap();
    let flap = link
        .flap(Duration::from_millis(20), Duration::from_millis(20))
        .unwrap();
    // Watch the state from outside the flap: it must be seen changing.
    let mut seen_changes = 0;
    let mut last = link.is_up().unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until && (seen_changes < 4 || flap.transitions() < 8) {
        let now = link.is_up().unwrap();
        if now != last {
            seen_changes += 1;
            last = now;
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    assert!(seen_changes >= 4, "saw {seen_changes} changes");
    assert!(
        flap.transitions() >= 8,
        "{} transitions",
        flap.transitions()
    );
    assert!(net.active_faults()[0].description.contains("flapping"));
    drop(flap);
    assert!(link.is_up().unwrap());
    assert!(net.active_faults().is_empty());
    assert!(reaches(&net, "n1", "198.51.100.2"));
}

#[test]
fn mtu_changes_at_run_time() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    assert_eq!(
        net["n1"]
            .ping("n2")
            .payload_size(1400)
            .dont_fragment(true)
            .run()
            .unwrap()
            .received,
        1
    );
    link.set_mtu(1280).unwrap();
    for node in ["n1", "n2"] {
        let eth0 = net[node]
            .links()
            .unwrap()
            .into_iter()
            .find(|l| l.name == "eth0")
            .unwrap();
        assert_eq!(eth0.mtu, 1280, "{node}");
    }
    let r = net["n1"]
        .ping("n2")
        .payload_size(1400)
        .dont_fragment(true)
        .run()
        .unwrap();
    assert_eq!(r.received, 0, "{r}");
}

#[test]
fn a_link_that_does_not_exist_is_a_typed_error() {
    let net = Net::build(&Topology::new().node("n3").link(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    ))
    .unwrap();
    let e = net.link("n1", "n3").unwrap_err();
    assert!(matches!(e, Error::NoLink { found: 0, .. }), "{e}");
    let e = net.link("n1", "ghost").unwrap_err();
    assert!(matches!(e, Error::UnknownNode(_)), "{e}");
}

#[test]
fn a_failed_assertion_lists_the_active_faults() {
    let net = pair();
    let _down = net.link("n1", "n2").unwrap().down().unwrap();
    let failure = netns_test::assert::reachable(
        netns_test::assert::Source::with_net(&net, &net["n1"]),
        "198.51.100.2",
    )
    .unwrap_err();
    assert_eq!(failure.faults.len(), 1, "{failure}");
    let text = failure.to_string();
    assert!(
        text.contains("active faults:\n  link n1/eth0 -- n2/eth0 down (for "),
        "{text}"
    );
}

#[test]
fn a_port_of_a_bridge_segment_goes_down_alone() {
    let net = Net::build(&Topology::new().bridge(
        "sw",
        [
            ("a", "eth0", "203.0.113.1/24"),
            ("b", "eth0", "203.0.113.2/24"),
            ("c", "eth0", "203.0.113.3/24"),
        ],
    ))
    .unwrap();
    let port = net.link("a", "sw").unwrap();
    let _down = port.down().unwrap();
    assert!(silent(&net, "a", "b"));
    assert!(reaches(&net, "b", "c"));
    drop(_down);
    assert!(reaches(&net, "a", "203.0.113.2"));
}

#[test]
fn up_stops_a_flap_of_the_link_and_gives_its_routes_back() {
    let net = routed();
    let link = net.link("h1", "r").unwrap();
    let flap = link
        .flap(Duration::from_millis(10), Duration::from_millis(10))
        .unwrap();
    assert!(flapped(&flap, 3));
    link.up().unwrap();
    let after = flap.transitions();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(flap.transitions(), after, "the flap stopped");
    assert!(link.is_up().unwrap());
    assert!(net.active_faults().is_empty());
    assert_eq!(default_routes(&net, "h1"), 2);
    assert!(h1_reaches_h2(&net));
    drop(flap);
}

#[test]
fn a_flap_with_a_phase_of_zero_is_refused_and_changes_nothing() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    for (down, up) in [
        (Duration::ZERO, Duration::ZERO),
        (Duration::ZERO, Duration::from_millis(10)),
        (Duration::from_millis(10), Duration::ZERO),
    ] {
        let e = link.flap(down, up).map(drop).unwrap_err();
        let expected = FaultError::ZeroFlapPhase {
            link: "n1/eth0 -- n2/eth0".into(),
            down,
            up,
        };
        assert_eq!(FaultError::find(&e), Some(&expected), "{e}");
    }
    assert!(net.active_faults().is_empty(), "{:?}", net.active_faults());
    assert_eq!(link.state_changes(), 0);
    assert!(link.is_up().unwrap());
}

#[test]
fn a_flaps_changes_count_among_the_links_state_changes() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    let flap = link
        .flap(Duration::from_millis(20), Duration::from_millis(20))
        .unwrap();
    assert!(flapped(&flap, 3));
    // Stopped by the heal, the guard still answers.
    net.heal().unwrap();
    let flips = flap.transitions();
    drop(flap);
    assert!(link.is_up().unwrap());
    // Each transition, and the way back up when it stopped down.
    assert_eq!(link.state_changes(), flips + flips % 2);
}

#[test]
fn up_after_a_detached_down_counts_one_change_and_an_up_link_none() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    link.down().unwrap().detach();
    link.up().unwrap();
    assert_eq!(link.state_changes(), 2, "one down, one up");
    link.up().unwrap();
    assert_eq!(link.state_changes(), 2, "up on a link that is up");
    // A second down's evidence counts its own changes, not the link's.
    let _down = link.down().unwrap();
    let faults = net.active_faults();
    assert_eq!(
        faults[0].evidence, "1 state changes of the link",
        "{faults:?}"
    );
}
