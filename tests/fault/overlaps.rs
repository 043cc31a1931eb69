//! One fault per link at a time, and flaps whose durations are too long to
//! add to the current time.

use std::time::{Duration, Instant};

use netns_test::fault::{FaultError, Flap};
use netns_test::{Error, Net, Topology};

fn pair() -> Net {
    Net::build(&Topology::new().link(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    ))
    .unwrap()
}

/// Waits (up to 5 s) until `flap` has made `n` transitions.
fn wait_transitions(flap: &Flap<'_>, n: u64) {
    let start = Instant::now();
    while flap.transitions() < n && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        flap.transitions() >= n,
        "{} transitions",
        flap.transitions()
    );
}

/// The fault error `e` carries, which must be a `LinkBusy` naming the link
/// and the fault it has.
fn assert_busy(e: &Error, active: &str) {
    let found = FaultError::find(e);
    assert_eq!(
        found,
        Some(&FaultError::LinkBusy {
            link: "n1/eth0 -- n2/eth0".into(),
            active: active.into(),
        }),
        "{e}"
    );
    assert!(e.to_string().contains("already has a fault"), "{e}");
}

#[test]
fn a_second_fault_on_a_down_link_is_refused_and_changes_nothing() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    let first = link.down().unwrap();
    let e = link.down().map(drop).unwrap_err();
    assert_busy(&e, "link n1/eth0 -- n2/eth0 down");
    // From the other end, and as a flap, the same.
    let e = net.link("n2", "n1").unwrap().down().map(drop).unwrap_err();
    assert!(FaultError::find(&e).is_some(), "{e}");
    let e = link
        .flap(Duration::from_millis(10), Duration::from_millis(10))
        .map(drop)
        .unwrap_err();
    assert_busy(&e, "link n1/eth0 -- n2/eth0 down");
    assert_eq!(link.state_changes(), 1, "nothing changed");
    assert_eq!(net.active_faults().len(), 1, "{:?}", net.active_faults());
    assert!(!link.is_up().unwrap());
    drop(first);
    assert!(link.is_up().unwrap());
    assert!(net.active_faults().is_empty());
    // Free again: a new fault starts.
    link.down().unwrap().restore().unwrap();
}

#[test]
fn a_flapping_link_cannot_also_be_taken_down() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    let flap = link
        .flap(Duration::from_millis(10), Duration::from_millis(10))
        .unwrap();
    let e = link.down().map(drop).unwrap_err();
    assert_busy(&e, "link n1/eth0 -- n2/eth0 flapping (down 10ms, up 10ms)");
    assert_eq!(net.active_faults().len(), 1, "{:?}", net.active_faults());
    flap.stop().unwrap();
    assert!(link.is_up().unwrap());
    assert!(net.active_faults().is_empty());
}

#[test]
fn a_flap_down_for_longer_than_time_can_tell_stays_down_until_stopped() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    let flap = link.flap(Duration::MAX, Duration::from_millis(10)).unwrap();
    wait_transitions(&flap, 1);
    assert!(!link.is_up().unwrap());
    assert_eq!(flap.error(), None);
    assert_eq!(flap.transitions(), 1);
    flap.stop().unwrap();
    assert!(link.is_up().unwrap());
    assert!(net.active_faults().is_empty());
}
