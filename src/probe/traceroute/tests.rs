use std::net::IpAddr;
use std::time::Duration;

use super::report::*;
use super::*;
use crate::packet::Unreachable;

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64(v / 1000.0)
}

#[test]
fn golden_two_hops() {
    let gw: IpAddr = "198.51.100.254".parse().unwrap();
    let d: IpAddr = "203.0.113.2".parse().unwrap();
    let r = TraceReport::new(
        d,
        30,
        vec![
            Hop::new(
                1,
                vec![
                    HopProbe::reply(gw, ms(0.051), HopKind::TimeExceeded),
                    HopProbe::reply(gw, ms(0.020), HopKind::TimeExceeded),
                    HopProbe::reply(gw, ms(0.018), HopKind::TimeExceeded),
                ],
            ),
            Hop::new(
                2,
                vec![
                    HopProbe::reply(d, ms(0.035), HopKind::Reached),
                    HopProbe::reply(d, ms(0.022), HopKind::Reached),
                    HopProbe::reply(d, ms(0.021), HopKind::Reached),
                ],
            ),
        ],
    );
    assert_eq!(
        r.to_string(),
        "traceroute to 203.0.113.2 (203.0.113.2), 30 hops max, 60 byte packets\n \
         1  198.51.100.254  0.051 ms  0.020 ms  0.018 ms\n \
         2  203.0.113.2  0.035 ms  0.022 ms  0.021 ms"
    );
    assert!(r.reached());
    assert_eq!(r.path(), vec![Some(gw), Some(d)]);
}

#[test]
fn golden_silence_changes_and_flags() {
    let a: IpAddr = "198.51.100.254".parse().unwrap();
    let b: IpAddr = "198.51.100.253".parse().unwrap();
    let d: IpAddr = "203.0.113.2".parse().unwrap();
    let r = TraceReport::new(
        d,
        30,
        vec![
            Hop::new(
                1,
                vec![
                    HopProbe::reply(a, ms(0.051), HopKind::TimeExceeded),
                    HopProbe::Silent,
                    HopProbe::reply(a, ms(0.018), HopKind::TimeExceeded),
                ],
            ),
            Hop::new(
                2,
                vec![HopProbe::Silent, HopProbe::Silent, HopProbe::Silent],
            ),
            Hop::new(
                3,
                vec![
                    HopProbe::Silent,
                    HopProbe::reply(b, ms(3000.0), HopKind::Unreachable(Unreachable::Host)),
                    HopProbe::reply(a, ms(12.3456), HopKind::Unreachable(Unreachable::Filtered)),
                ],
            ),
        ],
    );
    assert_eq!(
        r.to_string(),
        "traceroute to 203.0.113.2 (203.0.113.2), 30 hops max, 60 byte packets\n \
         1  198.51.100.254  0.051 ms *  0.018 ms\n \
         2  * * *\n \
         3  * 198.51.100.253  3000.000 ms !H 198.51.100.254  12.346 ms !X"
    );
    assert!(!r.reached());
    assert_eq!(r.path(), vec![Some(a), None, Some(b)]);
    assert_eq!(r.hops[2].responders(), vec![b, a]);
}

#[test]
fn golden_names_ipv6_and_other_flags() {
    let r1: IpAddr = "2001:db8::1".parse().unwrap();
    let d: IpAddr = "2001:db8:1::2".parse().unwrap();
    let mut r = TraceReport::new(
        d,
        5,
        vec![
            Hop::new(1, vec![HopProbe::reply(r1, ms(0.1), HopKind::TimeExceeded)]),
            Hop::new(
                2,
                vec![HopProbe::reply(
                    d,
                    ms(0.2),
                    HopKind::Unreachable(Unreachable::NoRoute),
                )],
            ),
        ],
    );
    r.resolve_names(|a| (a == r1).then(|| "router".to_string()));
    assert_eq!(
        r.to_string(),
        "traceroute to 2001:db8:1::2 (2001:db8:1::2), 5 hops max, 80 byte packets\n \
         1  router (2001:db8::1)  0.100 ms\n \
         2  2001:db8:1::2  0.200 ms !N"
    );
    assert_eq!(r.names(), vec![Some("router"), None]);
    let p = TraceReport::new(
        "198.51.100.9".parse().unwrap(),
        30,
        vec![Hop::new(
            1,
            vec![
                HopProbe::reply(
                    "198.51.100.1".parse().unwrap(),
                    ms(1.0),
                    HopKind::Unreachable(Unreachable::Protocol),
                ),
                HopProbe::SendFailed {
                    errno: libc::ENETUNREACH,
                },
            ],
        )],
    );
    assert_eq!(
        p.to_string(),
        "traceroute to 198.51.100.9 (198.51.100.9), 30 hops max, 60 byte packets\n \
         1  198.51.100.1  1.000 ms !P * (sendmsg: Network is unreachable)"
    );
}

#[test]
fn bad_options_are_typed_errors() {
    let d: IpAddr = "198.51.100.2".parse().unwrap();
    let err = |o: TraceOptions| o.validate(d).unwrap_err();
    assert!(matches!(
        err(TraceOptions::new().max_hops(0)),
        ProbeError::InvalidOption {
            option: "max_hops",
            ..
        }
    ));
    assert!(matches!(
        err(TraceOptions::new().probes_per_hop(0)),
        ProbeError::InvalidOption {
            option: "probes_per_hop",
            ..
        }
    ));
    assert!(matches!(
        err(TraceOptions::new().probes_per_hop(11)),
        ProbeError::InvalidOption {
            option: "probes_per_hop",
            ..
        }
    ));
    assert!(matches!(
        err(TraceOptions::new().mode(TraceMode::Udp { base_port: 65500 })),
        ProbeError::InvalidOption { option: "mode", .. }
    ));
    assert!(matches!(
        err(TraceOptions::new().source("2001:db8::1".parse().unwrap())),
        ProbeError::FamilyMismatch { .. }
    ));
    assert!(matches!(
        err(TraceOptions::new().timeout(Duration::MAX)),
        ProbeError::InvalidOption {
            option: "timeout",
            ..
        }
    ));
    assert!(TraceOptions::new()
        .mode(TraceMode::udp())
        .timeout(crate::probe::MAX_WAIT)
        .validate(d)
        .is_ok());
}

#[test]
fn port_unreachable_reaches_only_from_the_destination() {
    let d: IpAddr = "203.0.113.2".parse().unwrap();
    let router: IpAddr = "198.51.100.254".parse().unwrap();
    let port = IcmpErrorKind::Unreachable(Unreachable::Port);
    assert_eq!(hop_kind(port, d, d), HopKind::Reached);
    assert_eq!(
        hop_kind(port, router, d),
        HopKind::Unreachable(Unreachable::Port)
    );
    assert_eq!(
        hop_kind(IcmpErrorKind::TtlExceeded, router, d),
        HopKind::TimeExceeded
    );
    let r = TraceReport::new(
        d,
        30,
        vec![
            Hop::new(
                1,
                vec![HopProbe::reply(router, ms(0.1), HopKind::TimeExceeded)],
            ),
            Hop::new(
                2,
                vec![HopProbe::reply(
                    router,
                    ms(0.2),
                    HopKind::Unreachable(Unreachable::Port),
                )],
            ),
        ],
    );
    assert!(!r.reached());
    assert_eq!(
        r.to_string(),
        "traceroute to 203.0.113.2 (203.0.113.2), 30 hops max, 60 byte packets\n \
         1  198.51.100.254  0.100 ms\n \
         2  198.51.100.254  0.200 ms !"
    );
}
