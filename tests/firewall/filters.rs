//! Stateful filters as the probes see them: a reject is refused at once, a
//! drop times out, for TCP and UDP; a default-drop policy with connection
//! state; rate limits; every rule counts what it matched.

use std::net::TcpListener;
use std::time::Duration;

use netns_test::firewall::{Chain, CtState, Filter, Firewall, Nat, Policy, Proto, Rate, Reject};
use netns_test::probe::{PortState, UdpOutcome};
use netns_test::{Net, NodeThread, Route, Topology};

use crate::{home, udp, ARRIVES, SILENT};

/// h1 -- r1 -- srv with routes both ways (no NAT), and `fw` on r1.
fn routed(fw: Firewall) -> Net {
    let t = home(None)
        .route("srv", Route::to("198.51.100.0/26").via("203.0.113.1"))
        .firewall("r1", fw);
    Net::build(&t).unwrap()
}

/// UDP echo servers in `node` on `ports`, until the lab stops them.
fn echo(net: &Net, node: &str, addr: &str, ports: &[u16]) -> Vec<NodeThread<()>> {
    ports
        .iter()
        .map(|p| {
            let s = udp(net, node, &format!("{addr}:{p}"));
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            net[node]
                .spawn(move |stop| {
                    let mut buf = [0u8; 1500];
                    while !stop.is_stopped() {
                        if let Ok((n, from)) = s.recv_from(&mut buf) {
                            let _ = s.send_to(&buf[..n], from);
                        }
                    }
                })
                .unwrap()
        })
        .collect()
}

/// h1's TCP connect to srv's `port`, waiting at most `wait` (an answer,
/// open or refused, ends it at once).
fn tcp(net: &Net, port: u16, wait: Duration) -> PortState {
    net["h1"]
        .tcp_connect(("203.0.113.10", port))
        .timeout(wait)
        .run()
        .unwrap()
        .state
}

/// h1's UDP request to srv's `port`, waiting at most `wait` (a reply or
/// a refusal ends it at once).
fn udp_outcome(net: &Net, port: u16, wait: Duration) -> UdpOutcome {
    net["h1"]
        .udp_request(("203.0.113.10", port), b"q")
        .timeout(wait)
        .run()
        .unwrap()
        .outcome
}

#[test]
fn a_reject_is_refused_at_once_and_a_drop_times_out() {
    let fw = Firewall::new()
        .forward(Filter::reject().tcp().dport(81))
        .forward(Filter::drop().tcp().dport(82))
        .forward(Filter::reject_with(Reject::TcpReset).tcp().dport(83))
        .forward(Filter::reject_with(Reject::AdminProhibited).tcp().dport(84))
        .forward(Filter::reject().udp().dport(53))
        .forward(Filter::drop().udp().dport(54));
    let net = routed(fw);
    // Everything listens: whatever does not pass is the firewall's doing.
    let _listeners: Vec<TcpListener> = (80..=84)
        .map(|p| {
            net["srv"]
                .with(|| TcpListener::bind(("203.0.113.10", p)))
                .unwrap()
                .unwrap()
        })
        .collect();
    let _echo = echo(&net, "srv", "203.0.113.10", &[53, 54, 55]);

    assert_eq!(tcp(&net, 80, ARRIVES), PortState::Open);
    assert_eq!(
        tcp(&net, 81, ARRIVES),
        PortState::Refused,
        "ICMP port unreachable"
    );
    assert_eq!(tcp(&net, 82, SILENT), PortState::TimedOut, "dropped");
    assert_eq!(tcp(&net, 83, ARRIVES), PortState::Refused, "TCP reset");
    assert!(
        matches!(tcp(&net, 84, ARRIVES), PortState::Unreachable { errno, .. } if errno == libc::EHOSTUNREACH),
        "administratively prohibited"
    );
    // Who refused: r1's firewall with an ICMP error, or srv with a reset.
    let refusal = |port: u16| {
        let r = net["h1"]
            .tcp_connect(("203.0.113.10", port))
            .timeout(ARRIVES)
            .run()
            .unwrap();
        (r.icmp.map(|i| i.from.to_string()), r.to_string())
    };
    let (from, text) = refusal(81);
    assert_eq!(from.as_deref(), Some("198.51.100.62"), "{text}");
    assert!(
        text.contains("refused (Destination Port Unreachable from 198.51.100.62)"),
        "{text}"
    );
    let (from, text) = refusal(83);
    assert_eq!(from, None, "{text}");
    assert!(text.contains("refused (reset)"), "{text}");
    let (_, text) = refusal(84);
    assert!(
        text.contains("Packet filtered from 198.51.100.62"),
        "{text}"
    );
    assert_eq!(
        udp_outcome(&net, 55, ARRIVES),
        UdpOutcome::Reply(b"q".to_vec())
    );
    let udp_refused = net["h1"]
        .udp_request(("203.0.113.10", 53), b"q")
        .run()
        .unwrap();
    assert_eq!(
        udp_refused.icmp.map(|i| i.from.to_string()).as_deref(),
        Some("198.51.100.62")
    );
    assert_eq!(udp_outcome(&net, 53, ARRIVES), UdpOutcome::Refused);
    assert_eq!(udp_outcome(&net, 54, SILENT), UdpOutcome::Timeout);

    // Each rule counted what it stopped.
    let ruleset = net["r1"].ruleset().unwrap();
    let forward = ruleset
        .table("inet", "netns_test_firewall")
        .and_then(|t| t.chain("forward"))
        .unwrap_or_else(|| panic!("{ruleset}"));
    let counts: Vec<u64> = forward.rules.iter().map(|r| r.packets.unwrap()).collect();
    assert!(counts.iter().all(|&c| c >= 1), "{ruleset}");

    // Without the firewall, the same probes pass.
    let _off = net["r1"].remove_firewall().unwrap();
    assert_eq!(tcp(&net, 81, ARRIVES), PortState::Open);
    assert_eq!(tcp(&net, 82, ARRIVES), PortState::Open);
    assert_eq!(
        udp_outcome(&net, 54, ARRIVES),
        UdpOutcome::Reply(b"q".to_vec())
    );
}

#[test]
fn a_default_drop_policy_lets_in_replies_to_what_the_inside_started() {
    let fw = Firewall::new()
        .policy(Chain::Forward, Policy::Drop)
        .forward(Filter::accept().state(CtState::ESTABLISHED | CtState::RELATED))
        .forward(Filter::accept().iif("eth0").comment("from the inside"));
    let net = routed(fw);
    let _in = net["h1"]
        .with(|| TcpListener::bind("198.51.100.1:80"))
        .unwrap()
        .unwrap();
    let _out = net["srv"]
        .with(|| TcpListener::bind("203.0.113.10:80"))
        .unwrap()
        .unwrap();
    let out = net["h1"].tcp_connect("203.0.113.10:80").run().unwrap();
    assert_eq!(out.state, PortState::Open, "{out}");
    let inbound = net["srv"]
        .tcp_connect("198.51.100.1:80")
        .timeout(SILENT)
        .run()
        .unwrap();
    assert_eq!(inbound.state, PortState::TimedOut, "{inbound}");
    let text = net["r1"].ruleset().unwrap().to_string();
    assert!(text.contains("policy drop;"), "{text}");
    assert!(text.contains("iifname \"eth0\" counter packets "), "{text}");
}

#[test]
fn a_rate_limit_lets_its_burst_through_then_the_policy_decides() {
    // New UDP flows to port 7: two at once (the burst), then one a minute.
    let fw = Firewall::new()
        .policy(Chain::Forward, Policy::Drop)
        .forward(Filter::accept().state(CtState::ESTABLISHED))
        .forward(
            Filter::accept()
                .udp()
                .dport(7)
                .state(CtState::NEW)
                .limit(Rate::per_minute(1).burst(2)),
        );
    let net = routed(fw);
    let _echo = echo(&net, "srv", "203.0.113.10", &[7]);
    // Each request is a new flow (a new source port): the burst is
    // answered, the rest is dropped.
    let outcomes: Vec<bool> = [ARRIVES, ARRIVES, SILENT, SILENT, SILENT]
        .into_iter()
        .map(|wait| matches!(udp_outcome(&net, 7, wait), UdpOutcome::Reply(_)))
        .collect();
    assert_eq!(outcomes, [true, true, false, false, false]);
    let text = net["r1"].ruleset().unwrap().to_string();
    assert!(
        text.contains(
            "udp dport 7 ct state new limit rate 1/minute burst 2 packets counter packets 2 "
        ),
        "{text}"
    );
}

/// The kernel sizes a limit's token bucket as the unit in ns divided by
/// the rate, times the burst, and refuses a rule where that overflows 64
/// bits: at 1 packet a day, a burst of 213,503 is the largest.
#[test]
fn a_limit_whose_token_bucket_overflows_is_refused_before_building() {
    use netns_test::TopologyError;
    let day = |burst| Firewall::new().input(Filter::accept().limit(Rate::per_day(1).burst(burst)));
    let net = Net::build(&home(None).firewall("r1", day(213_503))).unwrap();
    let text = net["r1"].ruleset().unwrap().to_string();
    assert!(
        text.contains("limit rate 1/day burst 213503 packets"),
        "{text}"
    );
    for burst in [213_504, 1_000_000] {
        let e = home(None)
            .firewall("r1", day(burst))
            .validate()
            .unwrap_err();
        assert!(
            matches!(&e, TopologyError::InvalidFirewallRule { node, chain: "input", index: 1, reason }
                if node == "r1" && reason.contains(&format!("burst of {burst} packets at 1 a day overflows"))),
            "{e}"
        );
    }
}

#[test]
fn firewall_rules_that_cannot_match_are_refused_before_building() {
    use netns_test::TopologyError;
    let bad = |fw: Firewall| match home(None).firewall("r1", fw).validate() {
        Err(e) => e,
        Ok(()) => panic!("accepted"),
    };
    let e = bad(Firewall::new().forward(Filter::accept().dport(80)));
    assert!(
        matches!(&e, TopologyError::InvalidFirewallRule { node, chain: "forward", index: 1, .. } if node == "r1"),
        "{e}"
    );
    assert!(e.to_string().contains("`.tcp()`"), "{e}");
    let e = bad(Firewall::new()
        .input(Filter::accept())
        .input(Filter::drop().oif("eth0")));
    assert!(
        matches!(&e, TopologyError::InvalidFirewallRule { index: 2, .. }),
        "{e}"
    );
    let e = bad(Firewall::new().forward(Filter::reject_with(Reject::TcpReset).udp()));
    assert!(e.to_string().contains("TCP reset"), "{e}");
    let e = bad(Firewall::new().forward(Filter::drop().iif("wan0")));
    assert!(
        matches!(&e, TopologyError::UnknownInterface { node, ifname, .. } if node == "r1" && ifname == "wan0"),
        "{e}"
    );
    let e =
        bad(Firewall::new().forward(Filter::drop().from("198.51.100.0/26").to("2001:db8::/32")));
    assert!(e.to_string().contains("IPv4 and IPv6"), "{e}");
    let e = bad(Firewall::new().input(Filter::accept().ipv6().icmp()));
    assert!(e.to_string().contains("ICMP (protocol 1) is IPv4's"), "{e}");
    let e = bad(Firewall::new().input(Filter::accept().proto(Proto::Icmpv6).from("198.51.100.1")));
    assert!(
        e.to_string().contains("ICMPv6 (protocol 58) is IPv6's"),
        "{e}"
    );
    let e = bad(Firewall::new().input(Filter::accept().icmp().limit(Rate::per_second(5).burst(0))));
    assert!(e.to_string().contains("burst of 0"), "{e}");
    let e = bad(Firewall::new().input(Filter::accept().limit(Rate::per_second(u64::MAX))));
    assert!(e.to_string().contains("overflow"), "{e}");
    let e = bad(Firewall::new()
        .input(Filter::accept())
        .input(Filter::drop().from("198.51.100.0/33")));
    assert!(
        matches!(
            &e,
            TopologyError::InvalidFirewallRule {
                chain: "input",
                index: 2,
                ..
            }
        ),
        "{e}"
    );
    for forward in [
        Nat::port_forward("eth1", Proto::Udp, 0, "198.51.100.1:5000"),
        Nat::port_forward("eth1", Proto::Udp, 5000, "198.51.100.1:0"),
    ] {
        let e = home(Some(forward)).validate().unwrap_err();
        assert!(e.to_string().contains("port 0"), "{e}");
    }
    let dead = home(None).nat("r1", Nat::dnat("eth1", "198.51.100.1")).nat(
        "r1",
        Nat::port_forward("eth1", Proto::Tcp, 80, "198.51.100.1:8080"),
    );
    let e = dead.validate().unwrap_err();
    assert!(
        matches!(&e, TopologyError::NatNeverMatches { node, ifname, first, .. }
            if node == "r1" && ifname == "eth1" && first == "dnat on eth1 to 198.51.100.1"),
        "{e}"
    );
    let again = home(None)
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Udp, 53, "198.51.100.1"),
        )
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Tcp, 53, "198.51.100.1"),
        )
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Udp, 53, "198.51.100.2"),
        );
    let e = again.validate().unwrap_err();
    assert!(e.to_string().contains("198.51.100.2"), "{e}");
    let dual_stack = home(None)
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Tcp, 80, "198.51.100.1"),
        )
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Tcp, 80, "[2001:db8::1]:80"),
        );
    assert!(dual_stack.validate().is_ok(), "one forward per family");
    let both = home(Some(
        Nat::full_cone("eth1").mapping_timeout(Duration::from_secs(5)),
    ))
    .sysctl("r1", "net.netfilter.nf_conntrack_udp_timeout", "60");
    let e = both.validate().unwrap_err();
    assert!(
        e.to_string()
            .contains("net.netfilter.nf_conntrack_udp_timeout"),
        "{e}"
    );
    let twice = home(None)
        .firewall("r1", Firewall::new())
        .firewall("r1", Firewall::new());
    assert!(matches!(
        twice.validate(),
        Err(TopologyError::DuplicateFirewall { .. })
    ));
    let on_switch = Topology::new()
        .bridge(
            "sw",
            [
                ("a", "eth0", "198.51.100.1/26"),
                ("b", "eth0", "198.51.100.2/26"),
            ],
        )
        .firewall("sw", Firewall::new());
    assert!(matches!(
        on_switch.validate(),
        Err(TopologyError::NetfilterOnSwitch { .. })
    ));
}

/// The README's NAT and firewall example: the reject of port 25 comes
/// before the rule that accepts everything from inside, so r1 refuses
/// h1's SMTP connection itself.
#[test]
fn the_readme_firewall_example_refuses_smtp_at_the_router() {
    let t = home(Some(
        Nat::port_restricted_cone("eth1").mapping_timeout(Duration::from_secs(30)),
    ))
    .nat(
        "r1",
        Nat::port_forward("eth1", Proto::Tcp, 8080, "198.51.100.1:80"),
    )
    .firewall(
        "r1",
        Firewall::new()
            .policy(Chain::Forward, Policy::Drop)
            .forward(Filter::accept().state(CtState::ESTABLISHED | CtState::RELATED))
            .forward(Filter::reject().tcp().dport(25))
            .forward(Filter::accept().iif("eth0"))
            .forward(Filter::accept().tcp().dport(80)),
    );
    let net = Net::build(&t).unwrap();
    let smtp = net["h1"].tcp_connect("203.0.113.10:25").run().unwrap();
    assert_eq!(smtp.state, PortState::Refused);
    let text = smtp.to_string();
    assert!(
        text.starts_with(
            "tcp 203.0.113.10:25: refused (Destination Port Unreachable from 198.51.100.62) in "
        ),
        "{text}"
    );
}
