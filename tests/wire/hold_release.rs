//! Released frames go through the direction's rule and model.

use std::time::{Duration, Instant};

use netns_test::wire::{Direction, Frame, Impairment, Probability, Verdict};

use super::util::{
    arrived_numbers, block_relay, ipv4_wire, recv_numbers, send_numbered, udp, udp_number,
    until_held,
};

#[test]
fn released_frames_meet_the_model() {
    let net = ipv4_wire(31);
    let link = net.link("n1", "n2").unwrap();
    let rx = udp(&net, "n2", "198.51.100.2:9021", Duration::from_millis(200));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(200));
    let hold = link.hold(Direction::Forward).unwrap();
    send_numbered(&tx, "198.51.100.2:9021", 0..10, 32, Duration::ZERO);
    until_held(&hold, 10);
    // A model set while the frames wait applies to them on release.
    link.impair(
        Direction::Forward,
        Impairment::new().loss(Probability::ALWAYS),
    )
    .unwrap();
    let before = link.wire_stats().unwrap().forward;
    assert_eq!(hold.release().unwrap(), 10);
    let after = link.wire_stats().unwrap().forward;
    assert_eq!(after.lost - before.lost, 10, "{after:?}");
    assert_eq!(after.passed, before.passed, "{after:?}");
    assert!(
        recv_numbers(&rx, 10).is_empty(),
        "a released frame got through"
    );
}

#[test]
fn the_rule_sees_released_frames_in_order_before_later_ones() {
    let net = ipv4_wire(32);
    let link = net.link("n1", "n2").unwrap();
    let rx = udp(&net, "n2", "198.51.100.2:9022", Duration::from_millis(300));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(200));
    let hold = link.hold(Direction::Forward).unwrap();
    send_numbered(&tx, "198.51.100.2:9022", 0..6, 32, Duration::ZERO);
    until_held(&hold, 6);
    let (seen_tx, seen) = std::sync::mpsc::channel();
    link.set_rule(
        Direction::Forward,
        move |frame: &Frame<'_>| match udp_number(frame, 9022) {
            Some(n) => {
                let _ = seen_tx.send(n);
                if n == 3 {
                    Verdict::Drop
                } else {
                    Verdict::Pass
                }
            }
            None => Verdict::Pass,
        },
    )
    .unwrap();
    assert_eq!(hold.release().unwrap(), 6);
    send_numbered(&tx, "198.51.100.2:9022", 6..8, 32, Duration::ZERO);
    assert_eq!(arrived_numbers(&rx, 7), vec![0, 1, 2, 4, 5, 6, 7]);
    let order: Vec<u32> = seen.try_iter().collect();
    assert_eq!(order, (0..8).collect::<Vec<_>>());
    assert_eq!(link.wire_stats().unwrap().forward.rule_dropped, 1);
}

#[test]
fn frames_a_new_hold_takes_before_the_relay_ran_them_count_once() {
    let net = ipv4_wire(33);
    let link = net.link("n1", "n2").unwrap();
    let rx = udp(&net, "n2", "198.51.100.2:9023", Duration::from_millis(500));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(200));
    let back = udp(&net, "n2", "198.51.100.2:0", Duration::from_millis(200));
    let hold = link.hold(Direction::Forward).unwrap();
    send_numbered(&tx, "198.51.100.2:9023", 0..4, 32, Duration::ZERO);
    until_held(&hold, 4);
    // A rule on the other direction keeps the relay busy until the gate
    // opens, so the release cannot be run meanwhile.
    let busy = block_relay(&link, Direction::Backward, &back, "198.51.100.1:9024");
    // The release gives up waiting for the busy relay; a new hold then
    // takes the frames it has not run.
    assert!(hold.release().unwrap() >= 4);
    let again = link.hold(Direction::Forward).unwrap();
    assert!(again.held() >= 4, "{}", again.held());
    drop(busy);
    send_numbered(&tx, "198.51.100.2:9023", 4..6, 32, Duration::ZERO);
    let by = Instant::now() + Duration::from_secs(10);
    while again.held() < 6 && Instant::now() < by {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Every frame that entered the wire was held once, by one of the two
    // holds, and the second one holds them all (an ARP frame n1 sends
    // meanwhile included): read both while no frame comes in between.
    let (held, stats) = loop {
        let held = again.held();
        let stats = link.wire_stats().unwrap().forward;
        if again.held() == held {
            break (held, stats);
        }
    };
    assert!(held >= 6, "{held}");
    assert_eq!(stats.held, held as u64, "each frame held once: {stats:?}");
    again.release().unwrap();
    assert_eq!(arrived_numbers(&rx, 6), (0..6).collect::<Vec<_>>());
}
