//! The frames waiting in the relay's timer queue are bounded: by bytes per
//! direction, and by how far ahead they are due.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netns_test::wire::{Direction, Frame, Impairment, Verdict, DELAY_LIMIT_BYTES};

use super::util::{arrived_numbers, ipv4_wire, send_numbered, udp, udp_number};

const PORT: u16 = 9011;

/// Waits until `count` reaches `target`, or, without one (or short of it),
/// until it has not moved for 200 ms; at most 10 s.
fn settle(count: &AtomicU64, target: Option<u64>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut last, mut since) = (count.load(Ordering::Relaxed), Instant::now());
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        let now = count.load(Ordering::Relaxed);
        if target.is_some_and(|t| now >= t) {
            return;
        }
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= Duration::from_millis(200) {
            return;
        }
    }
}
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
    let fits = (DELAY_LIMIT_BYTES / FRAME) as u64;
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_secs(1));
    let counted = Arc::clone(&flood);
    net["n1"]
        .run(move || {
            // Chunks of 50 (less than a small socket buffer holds), each
            // sent once the relay has taken the one before (or taken no
            // more for 200 ms: the kernel may drop some before the relay
            // reads them), until well past the limit.
            let mut sent = 0;
            while sent < SENT && counted.load(Ordering::Relaxed) < fits + 2_000 {
                let before = counted.load(Ordering::Relaxed);
                send_numbered(&tx, DST, sent..sent + 50, 1472, Duration::ZERO);
                sent += 50;
                settle(&counted, Some(before + 50));
            }
        })
        .unwrap();
    // Every frame that reached the relay has been through the rule.
    settle(&seen, None);
    let stats = link.wire_stats().unwrap().forward;
    let (seen, flood) = (seen.load(Ordering::Relaxed), flood.load(Ordering::Relaxed));
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
    let rx = udp(&net, "n2", DST, Duration::from_secs(2));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_secs(2));
    link.set_rule(Direction::Forward, |f: &Frame<'_>| {
        match udp_number(f, PORT) {
            Some(0) => Verdict::Delay(Duration::MAX),
            Some(1) => Verdict::Delay(Duration::from_secs(40 * 86_400)),
            _ => Verdict::Pass,
        }
    })
    .unwrap();
    send_numbered(&tx, DST, 0..4, 32, Duration::ZERO);
    // The two that pass; the counters below tell whether 0 or 1 did too.
    assert_eq!(arrived_numbers(&rx, 2), vec![2, 3]);
    let stats = link.wire_stats().unwrap().forward;
    assert_eq!(
        (stats.delay_dropped, stats.passed - before),
        (2, 2),
        "{stats}"
    );
}
