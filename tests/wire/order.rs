//! Each direction's frames leave in the order they came, however late the
//! relay gets to them.

use std::sync::mpsc;
use std::time::Duration;

use netns_test::wire::{Bandwidth, Direction, Frame, Impairment, Verdict, MAX_DELAY};
use netns_test::Net;

use super::util::{ipv4_wire, recv_numbers, send_numbered, udp, udp_number};

const PORT: u16 = 9005;
const DST: &str = "198.51.100.2:9005";

/// Stops the relay, with `model` on n1 -> n2, so that frames which are due
/// the moment it reads them meet earlier frames still in its timer queue:
/// datagram 0 stops it (in its rule) while datagrams 1 to 32 queue at the
/// port, a full batch; 1, the first of that batch, stops it again while
/// 33 to 40 queue behind the batch and then wait out `due_after`. When the
/// relay goes on, 0 to 32 are in its timer queue and 33 to 40, read in the
/// same pass, are due. What n2 receives.
fn stop_and_go(net: &Net, model: Impairment, due_after: Duration) -> Vec<u32> {
    let link = net.link("n1", "n2").unwrap();
    link.impair(Direction::Forward, model).unwrap();
    let rx = udp(net, "n2", DST, Duration::from_secs(2));
    let tx = udp(net, "n1", "198.51.100.1:0", Duration::from_secs(2));
    let (entered, on_entry) = mpsc::channel();
    let (go, gate) = mpsc::channel::<()>();
    link.set_rule(Direction::Forward, move |f: &Frame<'_>| {
        if let Some(n) = udp_number(f, PORT).filter(|&n| n <= 1) {
            let _ = entered.send(n);
            let _ = gate.recv_timeout(Duration::from_secs(10));
        }
        Verdict::Pass
    })
    .unwrap();
    let wait = Duration::from_secs(10);
    send_numbered(&tx, DST, 0..1, 32, Duration::ZERO);
    assert_eq!(on_entry.recv_timeout(wait), Ok(0));
    send_numbered(&tx, DST, 1..33, 32, Duration::ZERO);
    // Not a measurement: room for the frames to reach the port.
    std::thread::sleep(Duration::from_millis(5));
    go.send(()).unwrap();
    assert_eq!(on_entry.recv_timeout(wait), Ok(1));
    send_numbered(&tx, DST, 33..41, 32, Duration::ZERO);
    std::thread::sleep(due_after);
    go.send(()).unwrap();
    let got = recv_numbers(&rx, 41);
    link.clear_rule(Direction::Forward).unwrap();
    got
}

#[test]
fn a_delayed_frame_due_on_arrival_leaves_after_the_earlier_ones() {
    let net = ipv4_wire(11);
    let delay = Duration::from_millis(20);
    let got = stop_and_go(&net, Impairment::new().delay(delay), 2 * delay);
    assert_eq!(got, (0..41).collect::<Vec<_>>());
}

#[test]
fn a_rate_limited_frame_due_on_arrival_leaves_after_the_earlier_ones() {
    let net = ipv4_wire(12);
    // 74-byte frames at 1 Mbit/s: 0.6 ms each, 41 of them in 25 ms.
    let model = Impairment::new().rate(Bandwidth::mbit(1).unwrap());
    let got = stop_and_go(&net, model, Duration::from_millis(60));
    assert_eq!(got, (0..41).collect::<Vec<_>>());
}

#[test]
fn a_frame_delayed_for_a_day_holds_back_no_frame_after_the_model_goes() {
    let net = ipv4_wire(16);
    let link = net.link("n1", "n2").unwrap();
    let rx = udp(&net, "n2", DST, Duration::from_millis(300));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(300));
    link.impair(Direction::Forward, Impairment::new().delay(MAX_DELAY))
        .unwrap();
    // The rule says when datagram 0 is in: the model takes it under the
    // same lock, before `unimpair` can.
    let (entered, on_entry) = mpsc::channel();
    link.set_rule(Direction::Forward, move |f: &Frame<'_>| {
        if udp_number(f, PORT) == Some(0) {
            let _ = entered.send(());
        }
        Verdict::Pass
    })
    .unwrap();
    send_numbered(&tx, DST, 0..1, 32, Duration::ZERO);
    on_entry.recv_timeout(Duration::from_secs(10)).unwrap();
    link.unimpair(Direction::Forward).unwrap();
    link.clear_rule(Direction::Forward).unwrap();
    send_numbered(&tx, DST, 1..4, 32, Duration::ZERO);
    assert_eq!(recv_numbers(&rx, 4), vec![1, 2, 3]);
    // They left as they came, none counted as delayed; 0 still waits.
    let stats = link.wire_stats().unwrap().forward;
    assert_eq!(stats.delayed, 0, "{stats:?}");
}
