//! What happens to single frames: reordered, duplicated, corrupted.

use std::time::Duration;

use netns_test::wire::{Direction, Impairment, Probability};

use super::util::{ipv4_wire, recv_numbers, send_numbered, snmp, udp};

#[test]
fn reordering_is_seen_by_a_udp_receiver() {
    let net = ipv4_wire(3);
    net.link("n1", "n2")
        .unwrap()
        .impair(
            Direction::Forward,
            Impairment::new()
                .delay(Duration::from_millis(10))
                .reorder(Probability::percent(25.0).unwrap()),
        )
        .unwrap();
    let rx = udp(&net, "n2", "198.51.100.2:9000", Duration::from_millis(300));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(300));
    send_numbered(
        &tx,
        "198.51.100.2:9000",
        0..200,
        64,
        Duration::from_micros(500),
    );
    let got = recv_numbers(&rx, 200);
    assert_eq!(got.len(), 200, "nothing is lost, only reordered");
    let inversions = got.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(inversions > 0, "arrived in order: {got:?}");
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..200).collect::<Vec<_>>());
}

#[test]
fn duplicated_requests_show_as_dup_replies() {
    let net = ipv4_wire(4);
    let link = net.link("n1", "n2").unwrap();
    link.impair(
        Direction::Forward,
        Impairment::new().duplicate(Probability::ALWAYS),
    )
    .unwrap();
    let report = net["n1"]
        .ping("n2")
        .count(5)
        .interval(Duration::from_millis(10))
        .run()
        .unwrap();
    assert_eq!(report.received, 5, "{report}");
    // Each copy's reply follows its original's at once; ping may stop on
    // the last original before the last copy's reply is read.
    assert!((4..=5).contains(&report.duplicates), "{report}");
    assert!(report.to_string().contains("(DUP!)"), "{report}");
    assert!(link.wire_stats().unwrap().forward.duplicated >= 5);
}

#[test]
fn corrupted_frames_fail_the_receivers_checksums() {
    let net = ipv4_wire(5);
    let link = net.link("n1", "n2").unwrap();
    let errors = |net: &netns_test::Net| {
        snmp(net, "n2", "Ip", "InHdrErrors")
            + snmp(net, "n2", "IpExt", "InTruncatedPkts")
            // Checksum errors, and lengths a flipped bit made wrong.
            + snmp(net, "n2", "Udp", "InErrors")
    };
    let before = errors(&net);
    link.impair(
        Direction::Forward,
        Impairment::new().corrupt(Probability::ALWAYS),
    )
    .unwrap();
    let rx = udp(&net, "n2", "198.51.100.2:9001", Duration::from_millis(300));
    let tx = udp(&net, "n1", "198.51.100.1:0", Duration::from_millis(300));
    // 100-byte payloads: the frame has no Ethernet padding a flip could hit
    // harmlessly.
    send_numbered(
        &tx,
        "198.51.100.2:9001",
        0..50,
        100,
        Duration::from_micros(200),
    );
    let got = recv_numbers(&rx, 50);
    assert!(got.is_empty(), "corrupted datagrams were accepted: {got:?}");
    let stats = link.wire_stats().unwrap();
    assert_eq!(stats.forward.corrupted, 50, "{stats:?}");
    assert_eq!(errors(&net) - before, 50, "every frame fails a checksum");
}
