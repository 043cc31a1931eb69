//! Golden tests of the assertion messages and the matrix table, on reports
//! built by hand (no namespace needed).

use std::net::IpAddr;
use std::time::Duration;

use super::path::judge_path;
use super::reach::ping_summary;
use super::*;
use crate::probe::{EchoReply, Hop, HopKind, HopProbe, IcmpErrorKind, PingError, Unreachable};
use crate::vocab::Family;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn hop(ttl: u8, from: &str, name: Option<&str>, kind: HopKind) -> Hop {
    let mut p = HopProbe::reply(ip(from), Duration::from_micros(51), kind);
    if let HopProbe::Reply(r) = &mut p {
        r.name = name.map(str::to_string);
    }
    Hop::new(ttl, vec![p.clone(), p.clone(), p])
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn four_hops(third: (&str, &str)) -> TraceReport {
    TraceReport::new(
        ip("203.0.113.1"),
        30,
        vec![
            hop(1, "198.51.100.254", Some("r1"), HopKind::TimeExceeded),
            hop(2, third.1, Some(third.0), HopKind::TimeExceeded),
            hop(3, "203.0.113.1", Some("h2"), HopKind::Reached),
        ],
    )
}

#[test]
fn matching_path_is_none() {
    let t = four_hops(("r2", "198.51.100.6"));
    assert!(judge_path("h1", &strings(&["r1", "r2", "h2"]), &t).is_none());
    // An address in `via` is compared with the responder's address.
    assert!(judge_path("h1", &strings(&["198.51.100.254", "r2", "h2"]), &t).is_none());
}

#[test]
fn wrong_hop_gives_the_documented_diff() {
    let t = four_hops(("r3", "198.51.100.10"));
    let (reason, details, met) = judge_path("h1", &strings(&["r1", "r2", "h2"]), &t).unwrap();
    assert_eq!(reason, "the path differs");
    assert_eq!(
        details.join("\n"),
        "expected: h1 -> r1 -> r2 -> h2\n\
         actual:   h1 -> r1 -> r3 -> h2\n          \
         (hop 2: expected r2, got r3 (198.51.100.10))"
    );
    assert_eq!(met, ["r1", "r3", "h2"]);
}

#[test]
fn short_long_silent_and_unnamed_hops() {
    let t = TraceReport::new(
        ip("203.0.113.1"),
        30,
        vec![
            hop(1, "198.51.100.254", None, HopKind::TimeExceeded),
            Hop::new(2, vec![HopProbe::Silent; 3]),
        ],
    );
    let (reason, details, _) = judge_path("h1", &strings(&["r1", "r2", "h2"]), &t).unwrap();
    assert_eq!(
        reason,
        "the path differs and the destination was not reached"
    );
    assert_eq!(
        details,
        [
            "expected: h1 -> r1 -> r2 -> h2",
            "actual:   h1 -> 198.51.100.254 -> *",
            "          (hop 1: expected r1, got 198.51.100.254)",
            "          (hop 2: expected r2, got * (no answer))",
            "          (hop 3: expected h2, got nothing (the trace ended after 2 hops))",
        ]
    );

    let t = four_hops(("r2", "198.51.100.6"));
    let (_, details, _) = judge_path("h1", &strings(&["r1", "h2"]), &t).unwrap();
    assert_eq!(
        &details[2..],
        [
            "          (hop 2: expected h2, got r2 (198.51.100.6))",
            "          (hop 3: unexpected h2 (203.0.113.1))",
        ]
    );
}

#[test]
fn same_hops_not_reached() {
    // The last hop answers, but with an error (a host unreachable from h2).
    let t = TraceReport::new(
        ip("203.0.113.1"),
        30,
        vec![hop(
            1,
            "198.51.100.254",
            Some("r1"),
            HopKind::Unreachable(Unreachable::Host),
        )],
    );
    let (reason, details, _) = judge_path("h1", &strings(&["r1"]), &t).unwrap();
    assert_eq!(reason, "the destination was not reached");
    assert_eq!(details[2], "          (the destination did not answer)");
}

#[test]
fn a_hop_matches_only_if_every_responder_is_the_expected_one() {
    let reply = |from: &str, name: Option<&str>| {
        let mut p = HopProbe::reply(ip(from), Duration::from_micros(51), HopKind::TimeExceeded);
        if let HopProbe::Reply(r) = &mut p {
            r.name = name.map(str::to_string);
        }
        p
    };
    let trace = |first: Vec<HopProbe>| {
        TraceReport::new(
            ip("203.0.113.1"),
            30,
            vec![
                Hop::new(1, first),
                hop(2, "203.0.113.1", Some("h2"), HopKind::Reached),
            ],
        )
    };
    let r1 = || reply("198.51.100.254", Some("r1"));
    // A silent probe is left out: the hop is r1's.
    let t = trace(vec![r1(), HopProbe::Silent, r1()]);
    assert!(judge_path("h1", &strings(&["r1", "h2"]), &t).is_none());
    // r1 and an address no node holds.
    let t = trace(vec![r1(), reply("198.51.100.9", None), r1()]);
    let (reason, details, met) = judge_path("h1", &strings(&["r1", "h2"]), &t).unwrap();
    assert_eq!(reason, "the path differs");
    assert_eq!(
        details,
        [
            "expected: h1 -> r1 -> h2",
            "actual:   h1 -> r1|198.51.100.9 -> h2",
            "          (hop 1: expected only r1, also got 198.51.100.9)",
        ]
    );
    assert_eq!(met, ["r1", "h2"]);
    let (_, details, _) = judge_path("h1", &strings(&["198.51.100.254", "h2"]), &t).unwrap();
    assert_eq!(
        details[2],
        "          (hop 1: expected only 198.51.100.254, also got 198.51.100.9)"
    );
    // r1 and r2: both are named when neither is expected.
    let t = trace(vec![r1(), reply("198.51.100.253", Some("r2")), r1()]);
    let (_, details, met) = judge_path("h1", &strings(&["r3", "h2"]), &t).unwrap();
    assert_eq!(
        details[2],
        "          (hop 1: expected r3, got r1 (198.51.100.254), r2 (198.51.100.253))"
    );
    assert_eq!(met, ["r1", "r2", "h2"]);
    let (_, details, _) = judge_path("h1", &strings(&["h2"]), &t).unwrap();
    assert_eq!(
        &details[2..],
        [
            "          (hop 1: expected h2, got r1 (198.51.100.254), r2 (198.51.100.253))",
            "          (hop 2: unexpected h2 (203.0.113.1))",
        ]
    );
}

fn report_lost() -> PingReport {
    PingReport::new(
        ip("203.0.113.1"),
        3,
        vec![],
        vec![
            PingError::icmp(
                1,
                ip("198.51.100.254"),
                IcmpErrorKind::Unreachable(Unreachable::Net),
                ms(0),
            ),
            PingError::icmp(
                2,
                ip("198.51.100.254"),
                IcmpErrorKind::Unreachable(Unreachable::Net),
                ms(10),
            ),
            PingError::icmp(
                3,
                ip("198.51.100.254"),
                IcmpErrorKind::Unreachable(Unreachable::Net),
                ms(20),
            ),
        ],
        ms(20),
    )
}

#[test]
fn summary_names_the_first_error_or_its_absence() {
    assert_eq!(
        ping_summary(&report_lost()),
        "0 of 3 echo requests answered; first error: From 198.51.100.254 icmp_seq=1 \
         Destination Net Unreachable"
    );
    let silent = PingReport::new(ip("203.0.113.1"), 2, vec![], vec![], ms(10));
    assert_eq!(
        ping_summary(&silent),
        "0 of 2 echo requests answered, no ICMP error came back"
    );
    let failed_send = PingReport::new(
        ip("203.0.113.1"),
        1,
        vec![],
        vec![PingError::send(1, libc::ENETUNREACH, ms(0))],
        ms(0),
    );
    assert_eq!(
        ping_summary(&failed_send),
        "0 of 1 echo requests answered; first error: ping: sendmsg: Network is unreachable"
    );
}

#[test]
fn failure_display_golden() {
    let mut f = AssertFailure::new(
        AssertKind::Reachable,
        "h1",
        "203.0.113.1",
        ping_summary(&report_lost()),
        ProbeResult::Ping(report_lost()),
    )
    .with_message("after the link went down");
    f.destination_node = Some("h2".into());
    f.reports = vec![
        Ok(NodeReport {
            node: "h1".into(),
            links: vec![],
            routes: vec![],
            neighbours: vec![],
        }),
        Err("node h2: not reported".into()),
    ];
    assert_eq!(
        f.to_string(),
        "assert_reachable! failed: h1 => 203.0.113.1 (node h2): 0 of 3 echo requests answered; \
first error: From 198.51.100.254 icmp_seq=1 Destination Net Unreachable
  after the link went down
probe from h1:
  PING 203.0.113.1 (203.0.113.1) 56(84) bytes of data.
  From 198.51.100.254 icmp_seq=1 Destination Net Unreachable
  From 198.51.100.254 icmp_seq=2 Destination Net Unreachable
  From 198.51.100.254 icmp_seq=3 Destination Net Unreachable

  --- 203.0.113.1 ping statistics ---
  3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 20ms
node h1:
  $ ip address show
  $ ip route show
  $ ip neigh show
node h2: not reported
"
    );
}

#[test]
fn path_failure_display_golden() {
    let t = four_hops(("r3", "198.51.100.10"));
    let (reason, details, _) = judge_path("h1", &strings(&["r1", "r2", "h2"]), &t).unwrap();
    let mut f = AssertFailure::new(
        AssertKind::Path,
        "h1",
        "203.0.113.1",
        reason,
        ProbeResult::Trace(t),
    );
    f.destination_node = Some("h2".into());
    f.details = details;
    assert_eq!(
        f.to_string(),
        "assert_path! failed: h1 => 203.0.113.1 (node h2): the path differs
  expected: h1 -> r1 -> r2 -> h2
  actual:   h1 -> r1 -> r3 -> h2
            (hop 2: expected r2, got r3 (198.51.100.10))
probe from h1:
  traceroute to 203.0.113.1 (203.0.113.1), 30 hops max, 60 byte packets
   1  r1 (198.51.100.254)  0.051 ms  0.051 ms  0.051 ms
   2  r3 (198.51.100.10)  0.051 ms  0.051 ms  0.051 ms
   3  h2 (203.0.113.1)  0.051 ms  0.051 ms  0.051 ms
"
    );
}

fn cell(from: &str, to: &str, dst: &str, state: CellState) -> Cell {
    let d = ip(dst);
    let report = match state {
        CellState::Ok | CellState::Skipped { answered: true } => PingReport::new(
            d,
            2,
            vec![
                EchoReply::new(1, d, 64, ms(0), ms(0)),
                EchoReply::new(2, d, 64, ms(0), ms(20)),
            ],
            vec![],
            ms(20),
        ),
        _ => PingReport::new(d, 2, vec![], vec![], ms(20)),
    };
    Cell {
        from: from.into(),
        to: to.into(),
        family: Family::of(d),
        dst: d,
        state,
        report: Ok(report),
    }
}

#[test]
fn matrix_display_golden() {
    use CellState::*;
    let m = Matrix {
        nodes: strings(&["h1", "h2", "router"]),
        families: vec![Family::V4, Family::V6],
        cells: vec![
            cell("h1", "h2", "198.51.100.2", Ok),
            cell("h1", "router", "198.51.100.254", Skipped { answered: true }),
            cell("h2", "h1", "198.51.100.1", Ok),
            cell("h2", "router", "198.51.100.254", Failed),
            cell("router", "h1", "198.51.100.1", Skipped { answered: false }),
            cell("router", "h2", "198.51.100.2", Ok),
            cell("h1", "h2", "2001:db8::2", Ok),
            cell("h2", "h1", "2001:db8::1", Ok),
        ],
        errors: vec![],
    };
    assert_eq!(
        m.to_string(),
        "*** Ping: testing reachability (IPv4)
        h1      h2      router
h1      --      ok      skip
h2      ok      --      x
router  skip    ok      --
*** Ping: testing reachability (IPv6)
        h1      h2
h1      --      ok
h2      ok      --
failed:
  h2 -> router (198.51.100.254): 0 of 2 echo requests answered, no ICMP error came back
notes:
  h1 -> router (198.51.100.254) answered, but is declared an exception
*** Results: 16% dropped (5/6 received)"
    );
    assert!(!m.is_ok());
    assert_eq!(m.notes().len(), 1);
    assert_eq!((m.received(), m.sent(), m.dropped_percent()), (5, 6, 16));
}

#[test]
fn empty_matrix_is_ok() {
    let m = Matrix {
        nodes: vec![],
        families: vec![],
        cells: vec![],
        errors: vec![],
    };
    assert!(m.is_ok());
    assert_eq!(m.to_string(), "*** Results: 0% dropped (0/0 received)");
}
