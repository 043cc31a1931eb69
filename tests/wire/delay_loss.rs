//! Delay shows in round trips; loss follows the model and the seed.

use std::collections::BTreeSet;
use std::time::Duration;

use netns_test::wire::{Direction, Impairment, Probability};

use super::util::ipv4_wire;

#[test]
fn fifty_ms_each_way_is_a_hundred_ms_round_trip() {
    let net = ipv4_wire(1);
    let link = net.link("n1", "n2").unwrap();
    link.impair(
        Direction::Both,
        Impairment::new().delay(Duration::from_millis(50)),
    )
    .unwrap();
    let report = net["n1"]
        .ping("n2")
        .count(10)
        .interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(2))
        .run()
        .unwrap();
    assert_eq!(report.received, 10, "{report}");
    let rtt = report.rtt().unwrap();
    // Never early: both delays are served by a timer that cannot fire before
    // its deadline. Late by a few ms, more on a loaded machine, but far
    // from a third delay.
    assert!(rtt.min >= Duration::from_millis(100), "{report}");
    assert!(rtt.avg < Duration::from_millis(150), "{report}");
    let faults = net.active_faults();
    assert_eq!(faults.len(), 2, "{faults:?}");
    assert!(faults[0].description.contains("delay 50ms"), "{faults:?}");
    assert!(faults[0].evidence.contains("seed 1"), "{faults:?}");
    // Removing the model brings the round trip back under a millisecond or
    // so: well under the 100 ms of the two delays, even on a loaded machine.
    link.unimpair(Direction::Both).unwrap();
    assert!(net.active_faults().is_empty());
    let fast = net["n1"].ping("n2").count(3).run().unwrap();
    assert!(
        fast.rtt().unwrap().min < Duration::from_millis(90),
        "{fast}"
    );
}

/// Sends 1,000 echoes over a wire losing 20 % of what n1 sends, and
/// returns the sequence numbers that got no reply.
fn lost_with_seed(seed: u64) -> BTreeSet<u16> {
    let net = ipv4_wire(seed);
    let link = net.link("n1", "n2").unwrap();
    link.impair(
        Direction::Forward,
        Impairment::new().loss(Probability::percent(20.0).unwrap()),
    )
    .unwrap();
    let report = net["n1"]
        .ping("n2")
        .count(1000)
        .interval(Duration::from_millis(1))
        .timeout(Duration::from_millis(500))
        .run()
        .unwrap();
    let answered: BTreeSet<u16> = report.replies.iter().map(|r| r.seq).collect();
    let sent: BTreeSet<u16> = (1..=1000).collect();
    let lost: BTreeSet<u16> = sent.difference(&answered).copied().collect();
    let stats = link.wire_stats().unwrap();
    assert_eq!(stats.forward.lost as usize, lost.len(), "{stats:?}");
    assert_eq!(stats.backward.lost, 0);
    lost
}

#[test]
fn twenty_percent_loss_is_within_bounds_and_replays_with_the_seed() {
    let first = lost_with_seed(20);
    // Binomial(1000, 0.2): mean 200, standard deviation 12.6; the bounds
    // are 6 standard deviations either way.
    assert!((124..=276).contains(&first.len()), "{} lost", first.len());
    let again = lost_with_seed(20);
    assert_eq!(first, again, "the same seed must lose the same echoes");
    let other = lost_with_seed(21);
    assert_ne!(first, other, "another seed loses other echoes");
}
