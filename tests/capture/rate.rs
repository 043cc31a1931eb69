//! How many packets per second a capture keeps up with over a veth, with
//! no kernel drop: a measurement, run on request
//! (`cargo test --test capture rate -- --ignored --nocapture`).

use std::net::UdpSocket;
use std::time::Instant;

use netns_test::capture::Filter;
use netns_test::{Net, Topology};

/// Datagrams sent per burst.
const BURST: u64 = 200_000;

#[test]
#[ignore = "a measurement; prints packets/s and drops"]
fn capture_rate_over_a_veth() {
    let net = Net::build(&Topology::new().link(
        ("h1", "eth0", "198.51.100.1/24"),
        ("h2", "eth0", "198.51.100.2/24"),
    ))
    .unwrap();
    let _sink = net["h2"]
        .with(|| UdpSocket::bind("198.51.100.2:9"))
        .unwrap()
        .unwrap();
    let sock = net["h1"]
        .with(|| UdpSocket::bind("198.51.100.1:0"))
        .unwrap()
        .unwrap();
    sock.send_to(b"warm up: ARP", "198.51.100.2:9").unwrap();
    let cap = net["h1"].capture_iface("eth0").unwrap();
    cap.set_limit(64 << 20);
    let payload = [0u8; 64];
    // CAPTURE_RATE_PPS paces the sender (in steps of 1 ms); unset: as fast
    // as it can.
    let pps: Option<u64> = std::env::var("CAPTURE_RATE_PPS")
        .ok()
        .and_then(|v| v.parse().ok());
    let start = Instant::now();
    for i in 0..BURST {
        sock.send_to(&payload, "198.51.100.2:9").unwrap();
        if let Some(pps) = pps {
            let due = std::time::Duration::from_secs_f64((i + 1) as f64 / pps as f64);
            if let Some(ahead) = due.checked_sub(start.elapsed()) {
                if ahead > std::time::Duration::from_millis(1) {
                    std::thread::sleep(ahead);
                }
            }
        }
    }
    let sent_in = start.elapsed();
    let stats = cap.stats().remove(0);
    let drained_in = start.elapsed();
    let seen = cap.count(&Filter::udp().dst_port(9).outgoing()) as u64;
    println!(
        "sent {BURST} datagrams in {sent_in:.2?} ({:.0}/s); captured {seen} (seen {}, kernel drops {}) \
         in {drained_in:.2?} ({:.0} packets/s kept)",
        BURST as f64 / sent_in.as_secs_f64(),
        stats.seen,
        stats.kernel_drops,
        seen as f64 / drained_in.as_secs_f64(),
    );
    assert_eq!(seen + stats.kernel_drops, BURST);
}
