//! NAT, sets, conntrack state, reject and limit: messages checked byte for
//! byte against what `nft` 1.0.6 sends for the same statements (captured
//! with `nft --debug=mnl -f` from this ruleset, set user data left out):
//!
//! ```text
//! table inet t {
//!   map fullcone { type inet_service : ipv4_addr . inet_service; flags dynamic,timeout; timeout 30s; }
//!   set contacted { type inet_service . ipv4_addr; flags dynamic,timeout; timeout 30s; size 65535; }
//!   chain c {
//!     masquerade random
//!     meta l4proto udp snat ip to 203.0.113.1-203.0.113.4:1024-65535 fully-random,persistent
//!     meta l4proto tcp dnat ip to 198.51.100.10:80
//!     udp dport . ip saddr @contacted dnat ip to udp dport map @fullcone
//!     update @fullcone { udp sport : ct original ip saddr . ct original proto-src }
//!     reject with tcp reset
//!     reject
//!     limit rate over 10/second burst 7 packets drop
//!     ct state established,related accept
//!     tcp dport 1000-2000 accept
//!   }
//! }
//! ```
//!
//! Then each rule is read back by the decoder and printed as `nft list
//! ruleset` prints it.

use std::time::Duration;

use super::batch::concat_type;
use super::decode::decode_rule;
use super::expr::encode_rule;
use super::*;
use crate::ruleset::{
    text, CtState, DataType, Field, Limit, Match, NatFlags, NatKind, NatStmt, NatTo, PortRange,
    Reject, Rule, SetDef, Stmt, Verdict,
};
use crate::vocab::Family as Ip;

const SET_FULLCONE: &[&str] = &[
    "06000100740000000d00020066756c6c636f6e65000000000800030000000038080004000000000d0800050000000002",
    "08000600000001cd080007000000000808000a00000000010c000b000000000000007530",
];
const SET_CONTACTED: &[&str] = &[
    "06000100740000000e000200636f6e746163746564000000080003000000003008000400000003470800050000000008",
    "08000a00000000020c000980080001000000ffff0c000b000000000000007530",
];
const MASQUERADE_RANDOM: &[&str] = &["1c000180090001006d617371000000000c0002800800010000000004"];
const SNAT_RANGE: &[&str] = &[
    "24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100636d7000",
    "20000280080001000000000108000200000000000c00038005000100110000002c0001800e000100696d6d6564696174",
    "650000001800028008000100000000010c00028008000100cb0071012c0001800e000100696d6d656469617465000000",
    "1800028008000100000000020c00028008000100cb0071042c0001800e000100696d6d65646961746500000018000280",
    "08000100000000030c00028006000100040000002c0001800e000100696d6d6564696174650000001800028008000100",
    "000000040c00028006000100ffff000048000180080001006e6174003c00028008000100000000000800020000000002",
    "0800030000000001080004000000000208000500000000030800060000000004080007000000001a",
];
const DNAT_PORT: &[&str] = &[
    "24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100636d7000",
    "20000280080001000000000108000200000000000c00038005000100060000002c0001800e000100696d6d6564696174",
    "650000001800028008000100000000010c00028008000100c633640a2c0001800e000100696d6d656469617465000000",
    "1800028008000100000000020c000280060001000050000038000180080001006e6174002c0002800800010000000001",
    "0800020000000002080003000000000108000500000000020800070000000002",
];
const LOOKUP_DNAT_MAP: &[&str] = &[
    "24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100636d7000",
    "20000280080001000000000108000200000000000c000380050001001100000024000180090001006d65746100000000",
    "14000280080002000000000f08000100000000012c00018008000100636d700020000280080001000000000108000200",
    "000000000c0003800500010002000000340001800c0001007061796c6f61640024000280080001000000000108000200",
    "0000000208000300000000020800040000000002340001800c0001007061796c6f616400240002800800010000000009",
    "0800020000000001080003000000000c0800040000000004340001800b0001006c6f6f6b757000002400028008000200",
    "000000010e000100636f6e7461637465640000000800040000000002340001800c0001007061796c6f61640024000280",
    "08000100000000010800020000000002080003000000000208000400000000023c0001800b0001006c6f6f6b75700000",
    "2c000280080002000000000108000300000000010d00010066756c6c636f6e6500000000080004000000000130000180",
    "080001006e617400240002800800010000000001080002000000000208000300000000010800050000000009",
];
const DYNSET_UPDATE: &[&str] = &[
    "24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100636d7000",
    "20000280080001000000000108000200000000000c0003800500010011000000340001800c0001007061796c6f616400",
    "240002800800010000000001080002000000000208000300000000000800040000000002280001800700010063740000",
    "1c0002800800020000000013080001000000000205000300000000002800018007000100637400001c00028008000200",
    "0000000b080001000000000d0500030000000000440001800b00010064796e7365740000340002800800040000000001",
    "080005000000000208000300000000010d00010066756c6c636f6e65000000000800020000000001",
];
const REJECT_TCP: &[&str] = &[
    "24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100636d7000",
    "20000280080001000000000108000200000000000c0003800500010006000000240001800b00010072656a6563740000",
    "1400028008000100000000010500020000000000",
];
const REJECT: &[&str] =
    &["240001800b00010072656a65637400001400028008000100000000020500020001000000"];
const LIMIT_OVER: &[&str] = &[
    "440001800a0001006c696d6974000000340002800c000100000000000000000a0c000200000000000000000108000300",
    "0000000708000400000000000800050000000001300001800e000100696d6d6564696174650000001c00028008000100",
    "00000000100002800c0002800800010000000000",
];
const CT_STATE: &[&str] = &[
    "2000018007000100637400001400028008000200000000000800010000000001440001800c0001006269747769736500",
    "340002800800010000000001080002000000000108000300000000040c00048008000100060000000c00058008000100",
    "000000002c00018008000100636d700020000280080001000000000108000200000000010c0003800800010000000000",
    "300001800e000100696d6d6564696174650000001c0002800800010000000000100002800c0002800800010000000001",
];
const PORT_RANGE: &[&str] = &[
    "24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100636d7000",
    "20000280080001000000000108000200000000000c0003800500010006000000340001800c0001007061796c6f616400",
    "2400028008000100000000010800020000000002080003000000000208000400000000022c00018008000100636d7000",
    "20000280080001000000000108000200000000050c0003800600010003e800002c00018008000100636d700020000280",
    "080001000000000108000200000000030c0003800600010007d00000300001800e000100696d6d656469617465000000",
    "1c0002800800010000000000100002800c0002800800010000000001",
];

/// The bytes of hex chunks.
fn hex(chunks: &[&str]) -> Vec<u8> {
    let s: String = chunks.concat();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The set ids `nft` gave: the map 1, the set 2.
fn ids(name: &str) -> Option<u32> {
    match name {
        "fullcone" => Some(1),
        "contacted" => Some(2),
        _ => None,
    }
}

/// Key and data lengths of the two sets, for the decoder.
fn lens(name: &str) -> Option<(u32, u32)> {
    match name {
        "fullcone" => Some((2, 8)),
        "contacted" => Some((8, 0)),
        _ => None,
    }
}

fn v4(s: &str) -> std::net::IpAddr {
    s.parse().unwrap()
}

/// The ten rules of the ruleset above, in the model, with what `nft list
/// ruleset` prints for each.
fn rules() -> Vec<(&'static [&'static str], Rule, &'static str)> {
    let tcp = Match::L4Proto(6);
    let udp = Match::L4Proto(17);
    let rule = |m: Vec<Match>, s: Vec<Stmt>| Rule::new(m, s);
    let fields = |f: &[Field]| f.to_vec();
    vec![
        (
            MASQUERADE_RANDOM,
            rule(
                vec![],
                vec![Stmt::Masquerade {
                    ports: None,
                    flags: NatFlags {
                        random: true,
                        ..NatFlags::default()
                    },
                }],
            ),
            "masquerade random",
        ),
        (
            SNAT_RANGE,
            rule(
                vec![udp.clone()],
                vec![Stmt::Nat(NatStmt {
                    kind: NatKind::Snat,
                    family: Ip::V4,
                    to: NatTo::Addr {
                        min: v4("203.0.113.1"),
                        max: Some(v4("203.0.113.4")),
                        ports: Some(PortRange { lo: 1024, hi: 65535 }),
                    },
                    flags: NatFlags {
                        fully_random: true,
                        persistent: true,
                        ..NatFlags::default()
                    },
                })],
            ),
            "meta l4proto udp snat ip to 203.0.113.1-203.0.113.4:1024-65535 fully-random,persistent",
        ),
        (
            DNAT_PORT,
            rule(
                vec![tcp.clone()],
                vec![Stmt::Nat(NatStmt {
                    kind: NatKind::Dnat,
                    family: Ip::V4,
                    to: NatTo::Addr {
                        min: v4("198.51.100.10"),
                        max: None,
                        ports: Some(PortRange::one(80)),
                    },
                    flags: NatFlags::default(),
                })],
            ),
            "meta l4proto tcp dnat ip to 198.51.100.10:80",
        ),
        (
            LOOKUP_DNAT_MAP,
            rule(
                vec![
                    udp.clone(),
                    Match::InSet {
                        keys: fields(&[Field::Dport, Field::Saddr(Ip::V4)]),
                        set: "contacted".into(),
                    },
                ],
                vec![Stmt::Nat(NatStmt {
                    kind: NatKind::Dnat,
                    family: Ip::V4,
                    to: NatTo::Map {
                        key: vec![Field::Dport],
                        map: "fullcone".into(),
                    },
                    flags: NatFlags::default(),
                })],
            ),
            "udp dport . ip saddr @contacted dnat ip to udp dport map @fullcone",
        ),
        (
            DYNSET_UPDATE,
            rule(
                vec![udp.clone()],
                vec![Stmt::Update {
                    set: "fullcone".into(),
                    key: vec![Field::Sport],
                    data: fields(&[Field::CtOriginalSaddr(Ip::V4), Field::CtOriginalProtoSrc]),
                }],
            ),
            "update @fullcone { udp sport : ct original ip saddr . ct original proto-src }",
        ),
        (
            REJECT_TCP,
            rule(vec![tcp.clone()], vec![Stmt::Reject(Reject::TcpReset)]),
            "meta l4proto tcp reject with tcp reset",
        ),
        (REJECT, rule(vec![], vec![Stmt::Reject(Reject::PortUnreachable)]), "reject"),
        (
            LIMIT_OVER,
            rule(
                vec![],
                vec![
                    Stmt::Limit(Limit {
                        rate: 10,
                        unit_secs: 1,
                        burst: 7,
                        over: true,
                    }),
                    Stmt::Verdict(Verdict::Drop),
                ],
            ),
            "limit rate over 10/second burst 7 packets drop",
        ),
        (
            CT_STATE,
            rule(
                vec![Match::CtState(CtState::ESTABLISHED | CtState::RELATED)],
                vec![Stmt::Verdict(Verdict::Accept)],
            ),
            "ct state established,related accept",
        ),
        (
            PORT_RANGE,
            rule(
                vec![tcp, Match::Dport(PortRange { lo: 1000, hi: 2000 })],
                vec![Stmt::Verdict(Verdict::Accept)],
            ),
            "tcp dport 1000-2000 accept",
        ),
    ]
}

#[test]
#[cfg(target_endian = "little")]
fn nat_reject_limit_and_set_rules_are_the_bytes_nft_sends() {
    for (bytes, rule, text) in rules() {
        let got = encode_rule(Family::Inet, &rule, &ids).unwrap().into_bytes();
        assert_eq!(got, hex(bytes), "{text}");
    }
}

#[test]
#[cfg(target_endian = "little")]
fn rules_read_back_as_nft_prints_them() {
    for (bytes, rule, text) in rules() {
        let back =
            decode_rule(Family::Inet, &hex(bytes), &lens).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(back, rule, "{text}");
        assert_eq!(text::rule(&back), text);
    }
}

#[test]
#[cfg(target_endian = "little")]
fn sets_are_the_bytes_nft_sends() {
    let dynamic = |name: &str, key: Vec<DataType>, data: Vec<DataType>, size| SetDef {
        name: name.into(),
        key,
        data,
        dynamic: true,
        timeout: Some(Duration::from_secs(30)),
        size,
    };
    let mut b = Batch::new();
    b.add_set(
        Family::Inet,
        "t",
        &dynamic(
            "fullcone",
            vec![DataType::InetService],
            vec![DataType::Ipv4Addr, DataType::InetService],
            None,
        ),
    );
    b.add_set(
        Family::Inet,
        "t",
        &dynamic(
            "contacted",
            vec![DataType::InetService, DataType::Ipv4Addr],
            vec![],
            Some(65535),
        ),
    );
    assert_eq!(b.messages[0].body, hex(SET_FULLCONE));
    assert_eq!(b.messages[1].body, hex(SET_CONTACTED));
    assert_eq!(b.messages[0].op, "add map inet t fullcone");
    // Concatenations: types shifted in by 6 bits, members padded to 4 bytes.
    assert_eq!(concat_type(&[DataType::InetService]), (13, 2));
    assert_eq!(
        concat_type(&[DataType::Ipv4Addr, DataType::InetService]),
        ((7 << 6) | 13, 8)
    );
}

#[test]
fn what_the_kernel_adds_or_the_model_lacks_is_handled() {
    // The kernel reports the address flags of a NAT it was not sent.
    let mut rule = rules().remove(2).1;
    let mut list = encode_rule(Family::Inet, &rule, &ids).unwrap().into_bytes();
    // The nat expression's last attribute is NFTA_NAT_FLAGS (be32 2): set
    // MAP_IPS too, as a dump shows it.
    let n = list.len();
    list[n - 1] |= 1;
    assert_eq!(decode_rule(Family::Inet, &list, &lens), Some(rule.clone()));
    // A rule with a comment prints it last.
    rule.comment = Some("web".into());
    assert_eq!(
        text::rule(&rule),
        "meta l4proto tcp dnat ip to 198.51.100.10:80 comment \"web\""
    );
    // A set the decoder does not know: not in the model.
    let lookup = hex(LOOKUP_DNAT_MAP);
    assert_eq!(decode_rule(Family::Inet, &lookup, &|_| None), None);
}
