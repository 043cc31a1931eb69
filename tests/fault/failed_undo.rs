//! A fault whose undo fails stays active, shows the error, and the next
//! heal tries again.

use std::time::{Duration, Instant};

use netns_test::fault::{FlapLink, Schedule};
use netns_test::{Error, Net, Route, Topology};

/// h1 -- r -- h2, h1's default route via r.
fn routed() -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("h1", "eth0", "198.51.100.1/24"),
                ("r", "eth0", "198.51.100.254/24"),
            )
            .link(
                ("r", "eth1", "203.0.113.254/24"),
                ("h2", "eth0", "203.0.113.2/24"),
            )
            .forwarding("r")
            .route("h1", Route::default_via("198.51.100.254"))
            .route("h2", Route::default_via("203.0.113.254")),
    )
    .unwrap()
}

/// `ip addr {verb} 198.51.100.1/24 dev eth0` in h1: without its address,
/// h1's default route via 198.51.100.254 cannot be added back.
fn h1_address(net: &Net, verb: &str) {
    crate::common::run_in(
        &net["h1"],
        "ip",
        &["addr", verb, "198.51.100.1/24", "dev", "eth0"],
    );
}

fn has_default(net: &Net) -> bool {
    net["h1"].routes().unwrap().iter().any(|r| r.dst.is_none())
}

#[test]
fn a_link_whose_routes_cannot_come_back_stays_listed_and_heal_tries_again() {
    if !crate::common::ip_installed() {
        println!("skipped: the `ip` binary is not installed (CI installs it)");
        return;
    }
    let net = routed();
    let link = net.link("h1", "r").unwrap();
    let down = link.down().unwrap();
    assert!(!has_default(&net), "the kernel deleted the route");
    h1_address(&net, "del");
    let e = down.restore().unwrap_err();
    assert!(
        matches!(&e, Error::Netlink { node, .. } if node == "h1"),
        "{e}"
    );
    let faults = net.active_faults();
    assert_eq!(faults.len(), 1, "the fault was forgotten: {faults:?}");
    assert_eq!(faults[0].description, "link h1/eth0 -- r/eth0 down");
    assert!(faults[0].evidence.contains("undo failed"), "{faults:?}");
    // Still the link's fault: another one is refused.
    assert!(link.down().is_err());
    // Heal tries again: the same error while the cause stays.
    assert!(net.heal().is_err());
    assert_eq!(net.active_faults().len(), 1);
    // Once the address is back, the next heal ends it.
    h1_address(&net, "add");
    net.heal().unwrap();
    assert!(net.active_faults().is_empty(), "{:?}", net.active_faults());
    assert!(has_default(&net), "the route came back");
    assert!(link.is_up().unwrap());
    link.down().unwrap().restore().unwrap();
}

#[test]
fn a_schedule_whose_final_heal_fails_returns_the_error() {
    if !crate::common::ip_installed() {
        println!("skipped: the `ip` binary is not installed (CI installs it)");
        return;
    }
    let net = routed();
    // A period of 1 s: the link goes down after 1 s and would come up
    // 1 s later, long after the body below has taken h1's address away
    // and returned (which ends the down at once).
    let r = Schedule::new(1)
        .period(Duration::from_secs(1))
        .with(FlapLink::new("h1", "r"))
        .run(&net, || {
            // Once the nemesis took the link down, h1 loses its address:
            // neither the nemesis's stop nor the heal can add the route
            // back.
            let start = Instant::now();
            while net.active_faults().is_empty() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(1));
            }
            h1_address(&net, "del");
        });
    let e = r.map(drop).unwrap_err();
    assert!(
        matches!(&e, Error::Netlink { node, .. } if node == "h1"),
        "{e}"
    );
    let faults = net.active_faults();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert!(faults[0].evidence.contains("undo failed"), "{faults:?}");
    h1_address(&net, "add");
    net.heal().unwrap();
    assert!(has_default(&net));
}
