//! The `nft` syntax of the model, checked against what `nft list ruleset`
//! (nftables 1.0.6) prints for the same rules.

use std::time::Duration;

use super::text::{chain_header, duration, priority, rule, set_keyword, set_lines};
use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn priorities_print_by_standard_name_where_the_hook_allows_it() {
    let inet = [
        (Hook::Input, -10, "filter - 10"),
        (Hook::Forward, 0, "filter"),
        (Hook::Output, 10, "filter + 10"),
        (Hook::Prerouting, -100, "dstnat"),
        (Hook::Postrouting, 100, "srcnat"),
        (Hook::Postrouting, 101, "srcnat + 1"),
        (Hook::Prerouting, -150, "mangle"),
        (Hook::Prerouting, -300, "raw"),
        (Hook::Input, 50, "security"),
        // dstnat and srcnat belong to their hooks; 11 away is a number.
        (Hook::Output, -100, "-100"),
        (Hook::Input, 100, "100"),
        (Hook::Input, 11, "11"),
        // The extremes nft accepts.
        (Hook::Input, i32::MIN, "-2147483648"),
        (Hook::Input, i32::MAX, "2147483647"),
    ];
    // The bridge family's names (nft(8), "PRIORITY"), each valid on its hooks.
    let bridge = [
        (Hook::Prerouting, -200, "filter"),
        (Hook::Prerouting, -300, "dstnat"),
        (Hook::Postrouting, 300, "srcnat"),
        (Hook::Output, 100, "out"),
        (Hook::Input, 100, "100"),
        (Hook::Prerouting, 0, "0"),
    ];
    let families = [
        (TableFamily::Inet, &inet[..]),
        (TableFamily::Bridge, &bridge[..]),
    ];
    for (family, cases) in families {
        for &(hook, prio, want) in cases {
            assert_eq!(
                priority(family, hook, prio),
                want,
                "{family} {hook:?} {prio}"
            );
        }
    }
    let base = BaseChain {
        hook: Hook::Postrouting,
        priority: 100,
        kind: ChainKind::Nat,
        policy: Verdict::Accept,
    };
    assert_eq!(
        chain_header(TableFamily::Inet, &base),
        "type nat hook postrouting priority srcnat; policy accept;"
    );
}

#[test]
fn durations_and_sets_print_as_nft_does() {
    assert_eq!(duration(Duration::from_secs(30)), "30s");
    assert_eq!(duration(Duration::from_secs(150)), "2m30s");
    assert_eq!(duration(Duration::from_secs(3600)), "1h");
    assert_eq!(duration(Duration::from_millis(1500)), "1s500ms");
    assert_eq!(duration(Duration::from_secs(90000)), "1d1h");
    let map = SetDef {
        name: "m".into(),
        key: vec![DataType::InetService],
        data: vec![DataType::Ipv4Addr, DataType::InetService],
        dynamic: true,
        timeout: Some(Duration::from_secs(120)),
        size: Some(65535),
    };
    assert_eq!(set_keyword(&map), "map");
    assert_eq!(
        set_lines(&map),
        [
            "type inet_service : ipv4_addr . inet_service",
            "size 65535",
            "flags dynamic,timeout",
            "timeout 2m",
        ]
    );
}

#[test]
fn a_protocol_match_is_left_out_where_a_port_says_it() {
    let accept = || vec![Stmt::Verdict(Verdict::Accept)];
    let cases = [
        // The dependency of `tcp dport`.
        (
            vec![Match::L4Proto(6), Match::Dport(PortRange::one(22))],
            "tcp dport 22 accept",
        ),
        // Nothing reads the transport header: it stays.
        (vec![Match::L4Proto(17)], "meta l4proto udp accept"),
        (vec![Match::L4Proto(58)], "meta l4proto ipv6-icmp accept"),
        (vec![Match::L4Proto(200)], "meta l4proto 200 accept"),
        // Ports without a protocol: `th`.
        (
            vec![Match::Sport(PortRange { lo: 1, hi: 2 })],
            "th sport 1-2 accept",
        ),
        (
            vec![
                Match::Iifname("eth0".into()),
                Match::Saddr(net("198.51.100.0/26")),
                Match::Daddr(net("2001:db8::1/128")),
            ],
            "iifname \"eth0\" ip saddr 198.51.100.0/26 ip6 daddr 2001:db8::1 accept",
        ),
        (
            vec![Match::CtState(CtState::NEW | CtState::INVALID)],
            "ct state invalid,new accept",
        ),
        (
            vec![Match::CtStatus(16 | 32 | 0x10000)],
            "ct status snat,dnat,0x10000 accept",
        ),
        (
            vec![Match::NfProto(crate::vocab::Family::V6)],
            "meta nfproto ipv6 accept",
        ),
    ];
    for (matches, want) in cases {
        assert_eq!(rule(&Rule::new(matches, accept())), want);
    }
}

#[test]
fn nat_statements_print_with_their_flags_ports_and_brackets() {
    let v6 = Stmt::Nat(NatStmt {
        kind: NatKind::Dnat,
        family: crate::vocab::Family::V6,
        to: NatTo::Addr {
            min: "2001:db8::1".parse().unwrap(),
            max: None,
            ports: Some(PortRange::one(80)),
        },
        flags: NatFlags::default(),
    });
    assert_eq!(
        rule(&Rule::new(vec![Match::L4Proto(6)], vec![v6])),
        "meta l4proto tcp dnat ip6 to [2001:db8::1]:80"
    );
    // As nft 1.0.6 lists it.
    let range = Stmt::Nat(NatStmt {
        kind: NatKind::Snat,
        family: crate::vocab::Family::V6,
        to: NatTo::Addr {
            min: "2001:db8::1".parse().unwrap(),
            max: Some("2001:db8::2".parse().unwrap()),
            ports: Some(PortRange { lo: 1000, hi: 2000 }),
        },
        flags: NatFlags::default(),
    });
    assert_eq!(
        rule(&Rule::new(vec![Match::L4Proto(17)], vec![range])),
        "meta l4proto udp snat ip6 to [2001:db8::1]-[2001:db8::2]:1000-2000"
    );
    let masq = Stmt::Masquerade {
        ports: Some(PortRange { lo: 1024, hi: 2000 }),
        flags: NatFlags {
            random: true,
            persistent: true,
            ..NatFlags::default()
        },
    };
    assert_eq!(
        rule(&Rule::new(vec![Match::L4Proto(6)], vec![masq])),
        "meta l4proto tcp masquerade to :1024-2000 random,persistent"
    );
    let limited = Rule {
        matches: vec![],
        stmts: vec![
            Stmt::Limit(Limit {
                rate: 10,
                unit_secs: 1,
                burst: 20,
                over: false,
            }),
            Stmt::counter(),
            Stmt::Reject(Reject::AdminProhibited),
        ],
        comment: Some("x y".into()),
    };
    assert_eq!(
        rule(&limited),
        "limit rate 10/second burst 20 packets counter packets 0 bytes 0 \
         reject with icmpx admin-prohibited comment \"x y\""
    );
}

#[test]
fn a_whole_table_prints_blocks_apart() {
    let rs = NodeRuleset {
        sets: vec![SetDef {
            name: "s".into(),
            key: vec![DataType::InetService],
            data: vec![],
            dynamic: true,
            timeout: Some(Duration::from_secs(30)),
            size: Some(65535),
        }],
        chains: vec![(
            "input".into(),
            BaseChain {
                hook: Hook::Input,
                priority: 0,
                kind: ChainKind::Filter,
                policy: Verdict::Drop,
            },
        )],
        rules: vec![(
            "input".into(),
            Rule::counted(vec![Match::L4Proto(1)], Verdict::Accept, "ping"),
        )],
        sysctls: vec![],
    };
    assert_eq!(
        rs.text(),
        "table inet netns_test_firewall {\n\
         \tset s {\n\t\ttype inet_service\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\
         \t\ttimeout 30s\n\t}\n\
         \n\
         \tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\
         \t\tmeta l4proto icmp counter packets 0 bytes 0 accept comment \"ping\"\n\t}\n\
         }\n"
    );
}
