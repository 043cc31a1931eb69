//! The frames waiting in the relay's timer queue are bounded: by bytes per
//! direction, and by how far ahead they are due.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use netns_test::wire::{Direction, Frame, Impairment, Verdict, DELAY_LIMIT_BYTES};

use super::util::{ipv4_wire, recv_numbers, send_numbered, udp, udp_number};

const PORT: u16 = 9011;
const DST: &str = "198.51.100.2:9011";

#[test]
fn a_long_delay_keeps_at_most_the_limit_and_counts_the_rest() {
    // 1,472-byte datagrams: 1,514-byte frames.
    const FRAME: usize = 1514;
    const SENT: u32 = 26_000;
    let net = ipv4_wire(21);
    let link = net.link("n1", "n2").unwrap();
    // The frames of the lab's set-up (ARP, pings).
    let before = link.wire_stats().unwrap().forward.passed;
    link.impair(
        Direction::Forward,
        Impairment::new().delay(Duration::from_secs(50)),
    )
    .unwrap();
    // Counts every frame the model takes, and those of the flood.
    let (seen, flood) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (s, f) = (Arc::clone(&seen), Arc::clone(&flood));
    link.set_rule(Direction::Forward, move |fr: &Frame<'_>| {
        s.fetch_add(1, Ordering::Relaxed);
        if udp_number(fr, PORT).is_some() {
            f.fetch_add(1, Ordering::Relaxed);
        }
        Verdict::Pass
    })
    .unwrap();
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_secs(1));
    net["n1"]
        .run(move || {
            for chunk in 0..SENT / 100 {
                send_numbered(
                    &tx,
                    DST,
                    chunk * 100..chunk * 100 + 100,
                    1472,
                    Duration::ZERO,
                );
                // Not a measurement: room for the relay to read them.
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let stats = link.wire_stats().unwrap().forward;
    let (seen, flood) = (seen.load(Ordering::Relaxed), flood.load(Ordering::Relaxed));
    let fits = (DELAY_LIMIT_BYTES / FRAME) as u64;
    assert!(
        flood > fits + 1_000,
        "only {flood} of the flood reached the relay"
    );
    let kept = seen - stats.delay_dropped;
    // A few small frames (ARP) besides the flood may be among them.
    assert!(
        (fits - 2..=fits + 8).contains(&kept),
        "{kept} kept, {fits} fit; {stats}"
    );
    assert_eq!(stats.passed, before, "none left yet; {stats}");
}

#[test]
fn a_frame_delayed_for_ever_is_dropped_and_counted() {
    let net = ipv4_wire(22);
    let link = net.link("n1", "n2").unwrap();
    let before = link.wire_stats().unwrap().forward.passed;
    let rx = udp(&net, "n2", DST, Duration::from_millis(500));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(500));
    link.set_rule(Direction::Forward, |f: &Frame<'_>| {
        match udp_number(f, PORT) {
            Some(0) => Verdict::Delay(Duration::MAX),
            Some(1) => Verdict::Delay(Duration::from_secs(40 * 86_400)),
            _ => Verdict::Pass,
        }
    })
    .unwrap();
    send_numbered(&tx, DST, 0..4, 32, Duration::ZERO);
    assert_eq!(recv_numbers(&rx, 4), vec![2, 3]);
    let stats = link.wire_stats().unwrap().forward;
    assert_eq!(
        (stats.delay_dropped, stats.passed - before),
        (2, 2),
        "{stats}"
    );
}
