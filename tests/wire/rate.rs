//! A rate limit shapes TCP to the configured bandwidth.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netns_test::wire::{Bandwidth, Direction, Frame, Impairment, Verdict};

use super::util::{ipv4_wire, recv_numbers, send_numbered, udp, udp_number};

#[test]
fn ten_mbit_gives_tcp_goodput_within_a_few_percent() {
    const BYTES: usize = 2_500_000;
    let net = ipv4_wire(6);
    let link = net.link("n1", "n2").unwrap();
    let rate = Bandwidth::mbit(10).unwrap();
    link.impair(Direction::Forward, Impairment::new().rate(rate))
        .unwrap();
    let listener = net["n2"]
        .run(|| TcpListener::bind("198.51.100.2:5001").unwrap())
        .unwrap();
    let sender = net["n1"]
        .spawn(|_| {
            let mut s = TcpStream::connect("198.51.100.2:5001").unwrap();
            let chunk = vec![0x5au8; 64 * 1024];
            let mut left = BYTES;
            while left > 0 {
                let n = left.min(chunk.len());
                s.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
        })
        .unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0;
    let mut first = None;
    while got < BYTES {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {got} bytes");
        first.get_or_insert_with(Instant::now);
        got += n;
    }
    let elapsed = first.unwrap().elapsed();
    sender.join();
    // The rate counts whole Ethernet frames: a full segment carries 1,448
    // bytes (MSS with timestamps) in a 1,514-byte frame.
    let expected = rate.bits_per_second() as f64 * 1448.0 / 1514.0;
    let goodput = (got as f64 * 8.0) / elapsed.as_secs_f64();
    let error = (goodput - expected).abs() / expected;
    assert!(
        error < 0.05,
        "goodput {:.3} Mbit/s, expected {:.3} Mbit/s ({:.1}% off)",
        goodput / 1e6,
        expected / 1e6,
        error * 100.0
    );
}

#[test]
fn a_rate_changed_live_keeps_the_backlog_ahead_of_new_frames() {
    const DST: &str = "198.51.100.2:9007";
    let net = ipv4_wire(17);
    let link = net.link("n1", "n2").unwrap();
    let rx = udp(&net, "n2", DST, Duration::from_secs(3));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_secs(3));
    // 100 kbit/s: each 1,242-byte frame takes about 0.1 s, so ten of them
    // queue for about a second.
    let slow = Impairment::new().rate(Bandwidth::kbit(100).unwrap());
    link.impair(Direction::Forward, slow.clone()).unwrap();
    // The rule says when datagram 9 is in: the model takes it under the
    // same lock, before the next `impair` can.
    let (entered, on_entry) = mpsc::channel();
    link.set_rule(Direction::Forward, move |f: &Frame<'_>| {
        if udp_number(f, 9007) == Some(9) {
            let _ = entered.send(());
        }
        Verdict::Pass
    })
    .unwrap();
    send_numbered(&tx, DST, 0..10, 1200, Duration::ZERO);
    on_entry.recv_timeout(Duration::from_secs(10)).unwrap();
    // Sped up while they queue: the new frames leave after them.
    let fast = Impairment::new().rate(Bandwidth::mbit(100).unwrap());
    link.impair(Direction::Forward, fast).unwrap();
    send_numbered(&tx, DST, 10..15, 1200, Duration::ZERO);
    // The same slow rate again: still in order.
    link.impair(Direction::Forward, slow).unwrap();
    send_numbered(&tx, DST, 15..20, 1200, Duration::ZERO);
    let got = recv_numbers(&rx, 20);
    assert_eq!(
        got,
        (0..20).collect::<Vec<_>>(),
        "{}",
        link.wire_stats().unwrap().forward
    );
}
