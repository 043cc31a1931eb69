use std::net::IpAddr;
use std::time::Duration;

use super::report::*;
use super::*;
use crate::packet::IcmpErrorKind;

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

#[test]
fn golden_three_replies() {
    let d: IpAddr = "198.51.100.2".parse().unwrap();
    let r = PingReport::new(
        d,
        3,
        vec![
            EchoReply::new(1, d, 64, us(45), us(45)),
            EchoReply::new(2, d, 64, us(61), us(1_000_061)),
            EchoReply::new(3, d, 64, us(31), us(2_003_031)),
        ],
        vec![],
        us(2_003_000),
    );
    assert_eq!(
        format!("{r:#}"),
        "64 bytes from 198.51.100.2: icmp_seq=1 ttl=64 time=0.045 ms\n\
         64 bytes from 198.51.100.2: icmp_seq=2 ttl=64 time=0.061 ms\n\
         64 bytes from 198.51.100.2: icmp_seq=3 ttl=64 time=0.031 ms\n\
         \n\
         --- 198.51.100.2 ping statistics ---\n\
         3 packets transmitted, 3 received, 0% packet loss, time 2003ms\n\
         rtt min/avg/max/mdev = 0.031/0.045/0.061/0.012 ms"
    );
    assert_eq!(
        r.to_string().lines().next().unwrap(),
        "PING 198.51.100.2 (198.51.100.2) 56(84) bytes of data."
    );
    let rtt = r.rtt().unwrap();
    assert_eq!(
        (rtt.min, rtt.avg, rtt.max, rtt.mdev),
        (us(31), us(45), us(61), us(12))
    );
    assert_eq!(r.loss_percent(), 0.0);
}

#[test]
fn golden_time_precision_rules() {
    // iputils: 3 decimals below 1 ms, 2 below 10 ms, 1 below 100 ms, none above.
    assert_eq!(fmt_reply_time(45), "0.045");
    assert_eq!(fmt_reply_time(999), "0.999");
    assert_eq!(fmt_reply_time(1000), "1.00");
    assert_eq!(fmt_reply_time(1234), "1.23");
    assert_eq!(fmt_reply_time(1235), "1.24");
    assert_eq!(fmt_reply_time(9994), "9.99");
    assert_eq!(fmt_reply_time(9995), "10.0");
    assert_eq!(fmt_reply_time(12_345), "12.3");
    assert_eq!(fmt_reply_time(99_949), "99.9");
    assert_eq!(fmt_reply_time(99_950), "100");
    assert_eq!(fmt_reply_time(123_456), "123");
}

#[test]
fn golden_loss_duplicates_and_errors() {
    let d: IpAddr = "203.0.113.2".parse().unwrap();
    let gw: IpAddr = "198.51.100.254".parse().unwrap();
    let r = PingReport::new(
        d,
        3,
        vec![
            EchoReply::new(1, d, 63, us(1_234), us(1_234)),
            EchoReply::new(1, d, 63, us(1_500), us(1_500)).duplicate(),
        ],
        vec![PingError::icmp(
            3,
            gw,
            IcmpErrorKind::Unreachable(super::super::Unreachable::Host),
            us(5_000_000),
        )],
        us(2_001_600),
    );
    assert_eq!(
        format!("{r:#}"),
        "64 bytes from 203.0.113.2: icmp_seq=1 ttl=63 time=1.23 ms\n\
         64 bytes from 203.0.113.2: icmp_seq=1 ttl=63 time=1.50 ms (DUP!)\n\
         From 198.51.100.254 icmp_seq=3 Destination Host Unreachable\n\
         \n\
         --- 203.0.113.2 ping statistics ---\n\
         3 packets transmitted, 1 received, +1 duplicates, +1 errors, 66.6667% packet loss, time 2002ms\n\
         rtt min/avg/max/mdev = 1.234/1.367/1.500/0.133 ms"
    );
}

#[test]
fn golden_all_lost_has_no_rtt_line() {
    let d: IpAddr = "198.51.100.9".parse().unwrap();
    let r = PingReport::new(d, 1, vec![], vec![], Duration::ZERO);
    assert_eq!(
        format!("{r:#}"),
        "--- 198.51.100.9 ping statistics ---\n\
         1 packets transmitted, 0 received, 100% packet loss, time 0ms"
    );
    assert_eq!(
        r.to_string(),
        "PING 198.51.100.9 (198.51.100.9) 56(84) bytes of data.\n\
         \n\
         --- 198.51.100.9 ping statistics ---\n\
         1 packets transmitted, 0 received, 100% packet loss, time 0ms"
    );
    assert!(r.rtt().is_none());
    assert!(!r.is_reachable());
}

#[test]
fn golden_ttl_exceeded_and_send_failure() {
    let d: IpAddr = "203.0.113.2".parse().unwrap();
    let r = PingReport::new(
        d,
        2,
        vec![],
        vec![
            PingError::icmp(
                1,
                "198.51.100.254".parse().unwrap(),
                IcmpErrorKind::TtlExceeded,
                us(50),
            ),
            PingError::send(2, libc::ENETUNREACH, us(1_000_000)),
        ],
        us(1_000_000),
    );
    assert_eq!(
        format!("{r:#}"),
        "From 198.51.100.254 icmp_seq=1 Time to live exceeded\n\
         ping: sendmsg: Network is unreachable\n\
         \n\
         --- 203.0.113.2 ping statistics ---\n\
         2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1000ms"
    );
}

#[test]
fn golden_ipv6() {
    let d: IpAddr = "2001:db8::2".parse().unwrap();
    let r = PingReport::new(
        d,
        2,
        vec![EchoReply::new(1, d, 64, us(52), us(52))],
        vec![PingError::icmp(
            2,
            "2001:db8::1".parse().unwrap(),
            IcmpErrorKind::Unreachable(super::super::Unreachable::Address),
            us(4_000_000),
        )],
        us(1_000_100),
    );
    assert_eq!(
        r.to_string(),
        "PING 2001:db8::2 (2001:db8::2) 56 data bytes\n\
         64 bytes from 2001:db8::2: icmp_seq=1 ttl=64 time=0.052 ms\n\
         From 2001:db8::1 icmp_seq=2 Destination unreachable: Address unreachable\n\
         \n\
         --- 2001:db8::2 ping statistics ---\n\
         2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 1000ms\n\
         rtt min/avg/max/mdev = 0.052/0.052/0.052/0.000 ms"
    );
}

#[test]
fn golden_small_payload_prints_no_times() {
    let d: IpAddr = "198.51.100.2".parse().unwrap();
    let mut reply = EchoReply::new(1, d, 64, us(45), us(45));
    reply.bytes = 16;
    let r = PingReport::new(d, 1, vec![reply], vec![], Duration::ZERO).with_payload_size(8);
    assert_eq!(
        format!("{r:#}"),
        "16 bytes from 198.51.100.2: icmp_seq=1 ttl=64\n\
         \n\
         --- 198.51.100.2 ping statistics ---\n\
         1 packets transmitted, 1 received, 0% packet loss, time 0ms"
    );
}

#[test]
fn percent_g_like_c() {
    assert_eq!(fmt_g(0.0), "0");
    assert_eq!(fmt_g(100.0), "100");
    assert_eq!(fmt_g(50.0), "50");
    assert_eq!(fmt_g(100.0 / 3.0), "33.3333");
    assert_eq!(fmt_g(200.0 / 3.0), "66.6667");
    assert_eq!(fmt_g(100.0 / 7.0), "14.2857");
    assert_eq!(fmt_g(12.5), "12.5");
    assert_eq!(fmt_g(0.1), "0.1");
    assert_eq!(fmt_g(100.0 / 1024.0), "0.0976562");
    assert_eq!(fmt_g(0.00005), "5e-05");
}

#[test]
fn bad_options_are_typed_errors() {
    let v4: IpAddr = "198.51.100.2".parse().unwrap();
    let v6: IpAddr = "2001:db8::2".parse().unwrap();
    let err = |o: PingOptions, d| o.validate(d).unwrap_err();
    assert!(matches!(
        err(PingOptions::new().count(0), v4),
        ProbeError::InvalidOption {
            option: "count",
            ..
        }
    ));
    assert!(matches!(
        err(PingOptions::new().ttl(0), v4),
        ProbeError::InvalidOption { option: "ttl", .. }
    ));
    assert!(matches!(
        err(PingOptions::new().timeout(Duration::ZERO), v4),
        ProbeError::InvalidOption {
            option: "timeout",
            ..
        }
    ));
    assert!(matches!(
        err(PingOptions::new().payload_size(65508), v4),
        ProbeError::PayloadTooLarge { max: 65507, .. }
    ));
    assert!(PingOptions::new().payload_size(65508).validate(v6).is_ok());
    assert!(matches!(
        err(PingOptions::new().source(v4), v6),
        ProbeError::FamilyMismatch { .. }
    ));
    assert!(matches!(
        err(PingOptions::new().interface("a-name-that-is-too-long"), v4),
        ProbeError::InvalidOption {
            option: "interface",
            ..
        }
    ));
    assert!(matches!(
        err(PingOptions::new(), "0.0.0.0".parse().unwrap()),
        ProbeError::InvalidDestination { .. }
    ));
    let msg = err(PingOptions::new().count(0), v4).to_string();
    assert!(msg.contains("count"), "{msg}");
}

#[test]
fn waits_longer_than_max_wait_are_typed_errors() {
    let v4: IpAddr = "198.51.100.2".parse().unwrap();
    let over = crate::probe::MAX_WAIT + Duration::from_nanos(1);
    for (opts, option) in [
        (PingOptions::new().timeout(Duration::MAX), "timeout"),
        (PingOptions::new().timeout(over), "timeout"),
        (PingOptions::new().interval(Duration::MAX), "interval"),
        (PingOptions::new().deadline(Duration::MAX), "deadline"),
    ] {
        match opts.validate(v4) {
            Err(ProbeError::InvalidOption { option: o, .. }) if o == option => {}
            other => panic!("{option}: {other:?}"),
        }
    }
    let max = crate::probe::MAX_WAIT;
    let longest = PingOptions::new().timeout(max).interval(max).deadline(max);
    assert!(longest.validate(v4).is_ok());
}
