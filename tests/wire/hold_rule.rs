//! Holding and releasing frames; a user's rule.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netns_test::wire::{Direction, Frame, Verdict};

use super::util::{ipv4_wire, recv_numbers, send_numbered, udp};

#[test]
fn held_frames_are_released_in_order() {
    let net = ipv4_wire(7);
    let link = net.link("n1", "n2").unwrap();
    let rx = udp(&net, "n2", "198.51.100.2:9002", Duration::from_millis(200));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(200));
    let hold = link.hold(Direction::Forward).unwrap();
    send_numbered(&tx, "198.51.100.2:9002", 0..10, 32, Duration::ZERO);
    assert!(recv_numbers(&rx, 10).is_empty(), "a held frame got through");
    assert_eq!(hold.held(), 10);
    let faults = net.active_faults();
    assert!(faults[0].description.contains("held"), "{faults:?}");
    assert_eq!(hold.release().unwrap(), 10);
    assert_eq!(recv_numbers(&rx, 10), (0..10).collect::<Vec<_>>());
    let stats = link.wire_stats().unwrap().forward;
    assert_eq!(stats.held, 10, "{stats:?}");
    assert!(net.active_faults().is_empty());
}

#[test]
fn discarded_frames_never_arrive_and_the_wire_carries_on() {
    let net = ipv4_wire(8);
    let link = net.link("n1", "n2").unwrap();
    let rx = udp(&net, "n2", "198.51.100.2:9003", Duration::from_millis(200));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(200));
    let hold = link.hold(Direction::Both).unwrap();
    send_numbered(&tx, "198.51.100.2:9003", 0..5, 32, Duration::ZERO);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(hold.discard().unwrap(), 5);
    assert!(recv_numbers(&rx, 5).is_empty());
    send_numbered(&tx, "198.51.100.2:9003", 5..8, 32, Duration::ZERO);
    assert_eq!(recv_numbers(&rx, 3), vec![5, 6, 7]);
    assert_eq!(link.wire_stats().unwrap().forward.discarded, 5);
}

#[test]
fn dropping_the_first_syn_makes_connect_succeed_on_retry() {
    let net = ipv4_wire(9);
    let link = net.link("n1", "n2").unwrap();
    let _listener = net["n2"]
        .run(|| std::net::TcpListener::bind("198.51.100.2:8080").unwrap())
        .unwrap();
    let syns = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&syns);
    link.set_rule(Direction::Forward, move |frame: &Frame<'_>| {
        if frame.is_tcp_syn() && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    })
    .unwrap();
    let start = Instant::now();
    net["n1"]
        .tcp_connect("198.51.100.2:8080")
        .timeout(Duration::from_secs(5))
        .run()
        .unwrap();
    // The retransmitted SYN leaves after the initial RTO of 1 s.
    assert!(start.elapsed() >= Duration::from_millis(900));
    assert_eq!(syns.load(Ordering::SeqCst), 2);
    assert_eq!(link.wire_stats().unwrap().forward.rule_dropped, 1);
}
