//! The encoding without a kernel: messages checked byte for byte against
//! hand-computed bytes, rules read back by the dump parser, constants
//! checked against the `libc` crate's copies of the kernel headers.

use super::consts::{NFTA_EXPR_NAME, NFTA_LIST_ELEM, NFTA_RULE_HANDLE};
use super::expr::{decode_comment, encode_comment, encode_rule};
use super::list::parse_rule;
use super::msg::{self, attr_str, attrs, put_message, replies, Attrs, Reply};
use super::*;
use crate::ruleset::{Match, PortRange, Rule, Stmt, Verdict};

/// A rule with the given matches, a counter or not, `drop`, no comment.
fn rule(matches: Vec<Match>, counter: bool) -> Rule {
    let mut stmts = Vec::new();
    if counter {
        stmts.push(Stmt::counter());
    }
    stmts.push(Stmt::Verdict(Verdict::Drop));
    Rule::new(matches, stmts)
}

/// No set made in the same batch.
fn no_sets(_: &str) -> Option<u32> {
    None
}

/// The names of the expressions in an encoded list, in order.
fn names(list: &[u8]) -> Vec<String> {
    attrs(list)
        .filter(|&(ty, _)| ty == NFTA_LIST_ELEM)
        .filter_map(|(_, elem)| {
            attrs(elem)
                .find(|&(ty, _)| ty == NFTA_EXPR_NAME)
                .map(|(_, v)| attr_str(v))
        })
        .collect()
}

/// The values of the `NFTA_DATA_VALUE`s in an encoded list (cmp data,
/// bitwise mask and xor), in order.
fn values(list: &[u8]) -> Vec<Vec<u8>> {
    // Depth 0: the list's elements; 1: an expression's name and data; 2:
    // the expression's attributes, of which the longer than 4 bytes are
    // nested data; 3: inside those, NFTA_DATA_VALUE (type 1).
    fn walk(buf: &[u8], depth: usize, out: &mut Vec<Vec<u8>>) {
        for (ty, v) in attrs(buf) {
            match depth {
                0 if ty == NFTA_LIST_ELEM => walk(v, 1, out),
                1 if ty == 2 => walk(v, 2, out),
                2 if v.len() > 4 => walk(v, 3, out),
                3 if ty == 1 => out.push(v.to_vec()),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(list, 0, &mut out);
    out
}

#[test]
#[cfg(target_endian = "little")]
fn a_new_table_message_byte_for_byte() {
    let mut batch = Batch::new();
    batch.add_table(Family::Inet, "t");
    let m = &batch.messages[0];
    let mut out = Vec::new();
    let flags = msg::NLM_F_REQUEST | msg::NLM_F_ACK | m.flags;
    put_message(&mut out, m.ty, flags, 7, m.family, 0, &m.body);
    #[rustfmt::skip]
    let expected = [
        28, 0, 0, 0,        // nlmsg_len: 16 + 4 + 8
        0x00, 0x0a,         // nlmsg_type: NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE
        0x05, 0x04,         // flags: REQUEST | ACK | CREATE
        7, 0, 0, 0,         // seq
        0, 0, 0, 0,         // port id
        1, 0, 0, 0,         // nfgenmsg: NFPROTO_INET, version 0, res_id 0
        6, 0, 1, 0,         // NFTA_TABLE_NAME, 2 bytes of value
        b't', 0, 0, 0,      // "t\0", padded
    ];
    assert_eq!(out, expected);
    assert_eq!(m.op, "add table inet t");
}

#[test]
fn ip_daddr_drop_expressions_byte_for_byte() {
    let r = rule(
        vec![Match::Daddr("198.51.100.2/32".parse().unwrap())],
        false,
    );
    let got = encode_rule(Family::Ip, &r, &no_sets).unwrap().into_bytes();
    // Attribute headers are host order; values network order.
    let h = |len: u16, ty: u16| {
        let mut v = len.to_ne_bytes().to_vec();
        v.extend_from_slice(&ty.to_ne_bytes());
        v
    };
    let u32be = |ty: u16, x: u32| [h(8, ty), x.to_be_bytes().to_vec()].concat();
    let nested = 0x8000;
    let expected = [
        // [ payload load 4b @ network header + 16 => reg 1 ]
        h(52, nested | 1),
        h(12, 1),
        b"payload\0".to_vec(),
        h(36, nested | 2),
        u32be(1, 1),  // dreg 1
        u32be(2, 1),  // base: network header
        u32be(3, 16), // offset
        u32be(4, 4),  // length
        // [ cmp eq reg 1 0x026433c6 ]
        h(44, nested | 1),
        h(8, 1),
        b"cmp\0".to_vec(),
        h(32, nested | 2),
        u32be(1, 1), // sreg 1
        u32be(2, 0), // NFT_CMP_EQ
        h(12, nested | 3),
        h(8, 1),
        vec![198, 51, 100, 2],
        // [ immediate reg 0 drop ]
        h(48, nested | 1),
        h(14, 1),
        b"immediate\0\0\0".to_vec(),
        h(28, nested | 2),
        u32be(1, 0), // dreg: the verdict register
        h(16, nested | 2),
        h(12, nested | 2),
        u32be(1, 0), // NF_DROP
    ]
    .concat();
    assert_eq!(got, expected);
}

#[test]
fn a_prefix_is_masked_then_compared_and_inet_checks_the_family_first() {
    let r = rule(vec![Match::Saddr("198.51.100.7/24".parse().unwrap())], true);
    let list = encode_rule(Family::Inet, &r, &no_sets)
        .unwrap()
        .into_bytes();
    assert_eq!(
        names(&list),
        [
            "meta",
            "cmp",
            "payload",
            "bitwise",
            "cmp",
            "counter",
            "immediate"
        ]
    );
    assert_eq!(
        values(&list),
        [
            vec![2],                // meta nfproto ipv4
            vec![255, 255, 255, 0], // the mask
            vec![0, 0, 0, 0],       // the xor
            vec![198, 51, 100, 0],  // the network, host bits cleared
        ]
    );
    // In an ip6 table: the family is the table's, so no dependency.
    let v6 = rule(vec![Match::Daddr("2001:db8::/64".parse().unwrap())], false);
    let list = encode_rule(Family::Ip6, &v6, &no_sets)
        .unwrap()
        .into_bytes();
    assert_eq!(names(&list), ["payload", "bitwise", "cmp", "immediate"]);
    let mask = &values(&list)[0];
    assert_eq!(mask[..8], [255; 8]);
    assert_eq!(mask[8..], [0; 8]);
}

#[test]
fn interfaces_protocols_and_ports() {
    let r = rule(
        vec![
            Match::Iifname("eth0".into()),
            Match::Oifname("veth-a".into()),
            Match::L4Proto(17),
            Match::Sport(PortRange::one(5001)),
            Match::Dport(PortRange::one(5000)),
        ],
        false,
    );
    let list = encode_rule(Family::Inet, &r, &no_sets)
        .unwrap()
        .into_bytes();
    let mut eth0 = b"eth0".to_vec();
    eth0.resize(16, 0);
    let mut veth = b"veth-a".to_vec();
    veth.resize(16, 0);
    assert_eq!(
        values(&list),
        [
            eth0,
            veth,
            vec![17],
            5001u16.to_be_bytes().to_vec(),
            5000u16.to_be_bytes().to_vec()
        ]
    );
}

/// `icmpv6 type mld2-listener-report drop` as `nft --debug=netlink` shows
/// it: a bridge table checks `ether type ip6` first, an inet table `meta
/// nfproto ipv6`, an ip6 table nothing; then `meta l4proto ipv6-icmp` and
/// the type. Each reads back as the one match.
#[test]
fn icmpv6_type_has_the_dependencies_nft_gives_it_in_each_family() {
    let r = rule(vec![Match::Icmpv6Type(143)], false);
    // (family, expression names, compared values)
    type Case = (Family, &'static [&'static str], &'static [&'static [u8]]);
    let cases: [Case; 3] = [
        (
            Family::Bridge,
            &[
                "payload",
                "cmp",
                "meta",
                "cmp",
                "payload",
                "cmp",
                "immediate",
            ],
            &[&[0x86, 0xdd], &[58], &[143]],
        ),
        (
            Family::Inet,
            &["meta", "cmp", "meta", "cmp", "payload", "cmp", "immediate"],
            &[&[10], &[58], &[143]],
        ),
        (
            Family::Ip6,
            &["meta", "cmp", "payload", "cmp", "immediate"],
            &[&[58], &[143]],
        ),
    ];
    for (family, want_names, want_values) in cases {
        let list = encode_rule(family, &r, &no_sets).unwrap().into_bytes();
        assert_eq!(names(&list), want_names, "{family}");
        // The verdict's value is nested deeper; the comparisons' come first.
        assert_eq!(&values(&list)[..want_values.len()], want_values, "{family}");
        let back = super::decode::decode_rule(family, &list, &|_| None);
        assert_eq!(back.as_ref(), Some(&r), "{family}");
        assert_eq!(
            crate::ruleset::text::rule(&r),
            "icmpv6 type mld2-listener-report drop"
        );
    }
    assert!(encode_rule(Family::Ip, &r, &no_sets).is_err());
}

#[test]
fn what_cannot_be_encoded_is_refused_before_sending() {
    let mut batch = Batch::new();
    let v6 = rule(
        vec![Match::Saddr("2001:db8::1/128".parse().unwrap())],
        false,
    );
    let v4 = rule(
        vec![Match::Saddr("198.51.100.1/32".parse().unwrap())],
        false,
    );
    batch.add_rule(Family::Ip, "t", "output", &v4);
    batch.add_rule(Family::Ip, "t", "input", &v4);
    batch.add_rule(Family::Ip, "t", "input", &v6);
    assert!(!batch.is_empty());
    let (op, reason) = batch.invalid.clone().unwrap();
    // The second rule the batch adds to `input`: the one refused.
    assert_eq!(op, "add rule ip t input (rule 2 added to the chain)");
    assert!(reason.contains("ip6 saddr 2001:db8::1/128"), "{reason}");

    let long = rule(vec![Match::Iifname("sixteen-chars-xx".into())], false);
    assert!(encode_rule(Family::Inet, &long, &no_sets).is_err());
    assert!(encode_comment(&"x".repeat(129)).is_err());
    assert!(encode_comment(&"x".repeat(128)).is_ok());
}

#[test]
fn a_rule_reads_back_with_its_comment_handle_and_counter() {
    let mut batch = Batch::new();
    let mut r = rule(vec![Match::Dport(PortRange::one(53))], true);
    r.comment = Some("dns".into());
    batch.add_rule(Family::Inet, "t", "output", &r);
    // What the kernel sends back: the same attributes and a handle.
    let mut reply = Attrs::new();
    reply
        .raw(&batch.messages[0].body)
        .u64_be(NFTA_RULE_HANDLE, 42);
    let info = parse_rule(&reply.into_bytes()).unwrap();
    assert_eq!(
        info,
        RuleInfo {
            chain: "output".into(),
            handle: 42,
            comment: Some("dns".into()),
            packets: Some(0),
            bytes: Some(0),
        }
    );
}

#[test]
fn counter_values_and_comments_as_nft_writes_them() {
    // A counter as the kernel dumps it: bytes, packets, big-endian.
    let mut list = Attrs::new();
    list.nested(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "counter");
        e.nested(2, |d| {
            d.u64_be(1, 252).u64_be(2, 3);
        });
    });
    let mut body = Attrs::new();
    body.str(2, "input")
        .u64_be(NFTA_RULE_HANDLE, 5)
        .bytes(4 | 0x8000, &list.into_bytes())
        // libnftnl's TLV: type 0 (comment), length 6, "hello\0".
        .bytes(7, b"\x00\x06hello\x00");
    let info = parse_rule(&body.into_bytes()).unwrap();
    assert_eq!((info.packets, info.bytes), (Some(3), Some(252)));
    assert_eq!(info.comment.as_deref(), Some("hello"));
    // Other TLVs before the comment are skipped; a rule without is None.
    assert_eq!(
        decode_comment(b"\x05\x01\x00\x00\x03ab\x00").as_deref(),
        Some("ab")
    );
    assert_eq!(decode_comment(b"\x05\x01\x00"), None);
    assert_eq!(encode_comment("ab").unwrap(), b"\x00\x03ab\x00");
}

#[test]
fn acks_errors_and_dump_ends_parse() {
    let mut buf = Vec::new();
    // NLMSG_ERROR with -ENOENT and the capped header of the request.
    buf.extend_from_slice(&36u32.to_ne_bytes());
    buf.extend_from_slice(&2u16.to_ne_bytes());
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&9u32.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&(-libc::ENOENT).to_ne_bytes());
    buf.extend_from_slice(&[0; 16]);
    // NLMSG_DONE with its 4-byte payload.
    buf.extend_from_slice(&20u32.to_ne_bytes());
    buf.extend_from_slice(&3u16.to_ne_bytes());
    buf.extend_from_slice(&2u16.to_ne_bytes());
    buf.extend_from_slice(&10u32.to_ne_bytes());
    buf.extend_from_slice(&[0; 8]);
    assert_eq!(
        replies(&buf).unwrap(),
        [
            Reply::Ack {
                seq: 9,
                errno: libc::ENOENT
            },
            Reply::Done { seq: 10 }
        ]
    );
    assert!(replies(&buf[..30]).is_err());
}

#[test]
fn constants_match_the_kernel_headers_in_libc() {
    use super::msg::*;
    assert_eq!(NFNL_SUBSYS_NFTABLES as i32, libc::NFNL_SUBSYS_NFTABLES);
    assert_eq!(NFNL_MSG_BATCH_BEGIN as i32, libc::NFNL_MSG_BATCH_BEGIN);
    assert_eq!(NFNL_MSG_BATCH_END as i32, libc::NFNL_MSG_BATCH_END);
    assert_eq!(NFT_MSG_NEWTABLE as i32, libc::NFT_MSG_NEWTABLE);
    assert_eq!(NFT_MSG_GETTABLE as i32, libc::NFT_MSG_GETTABLE);
    assert_eq!(NFT_MSG_DELTABLE as i32, libc::NFT_MSG_DELTABLE);
    assert_eq!(NFT_MSG_NEWCHAIN as i32, libc::NFT_MSG_NEWCHAIN);
    assert_eq!(NFT_MSG_NEWRULE as i32, libc::NFT_MSG_NEWRULE);
    assert_eq!(NFT_MSG_GETRULE as i32, libc::NFT_MSG_GETRULE);
    assert_eq!(NFT_MSG_DELRULE as i32, libc::NFT_MSG_DELRULE);
    assert_eq!(NLM_F_REQUEST as i32, libc::NLM_F_REQUEST);
    assert_eq!(NLM_F_ACK as i32, libc::NLM_F_ACK);
    assert_eq!(NLM_F_DUMP as i32, libc::NLM_F_DUMP);
    assert_eq!(NLM_F_CREATE as i32, libc::NLM_F_CREATE);
    assert_eq!(NLM_F_APPEND as i32, libc::NLM_F_APPEND);
    use super::consts::*;
    assert_eq!(NFT_META_IIFNAME as i32, libc::NFT_META_IIFNAME);
    assert_eq!(NFT_META_OIFNAME as i32, libc::NFT_META_OIFNAME);
    assert_eq!(NFT_META_NFPROTO as i32, libc::NFT_META_NFPROTO);
    assert_eq!(NFT_META_L4PROTO as i32, libc::NFT_META_L4PROTO);
    assert_eq!(
        NFT_PAYLOAD_NETWORK_HEADER as i32,
        libc::NFT_PAYLOAD_NETWORK_HEADER
    );
    assert_eq!(
        NFT_PAYLOAD_TRANSPORT_HEADER as i32,
        libc::NFT_PAYLOAD_TRANSPORT_HEADER
    );
    assert_eq!(NFT_CMP_EQ as i32, libc::NFT_CMP_EQ);
    assert_eq!(NFT_REG_VERDICT as i32, libc::NFT_REG_VERDICT);
    assert_eq!(NFT_REG_1 as i32, libc::NFT_REG_1);
    assert_eq!(Verdict::Drop.code() as i32, libc::NF_DROP);
    assert_eq!(Verdict::Accept.code() as i32, libc::NF_ACCEPT);
    assert_eq!(i32::from(Family::Inet.nfproto()), libc::NFPROTO_INET);
    assert_eq!(i32::from(Family::Ip.nfproto()), libc::NFPROTO_IPV4);
    assert_eq!(i32::from(Family::Ip6.nfproto()), libc::NFPROTO_IPV6);
    assert_eq!(i32::from(Family::Bridge.nfproto()), libc::NFPROTO_BRIDGE);
    assert_eq!(NFT_PAYLOAD_LL_HEADER as i32, libc::NFT_PAYLOAD_LL_HEADER);
}

#[test]
fn only_a_prefix_mask_says_a_network() {
    use crate::vocab::Family as Ip;
    let net = |mask: [u8; 4]| super::decode::prefix(Ip::V4, &[10, 0, 1, 0], Some(&mask));
    assert_eq!(
        net([255, 255, 255, 0]),
        Some("10.0.1.0/24".parse().unwrap())
    );
    assert_eq!(net([255, 255, 254, 0]).map(|n| n.prefix_len()), Some(23));
    assert_eq!(net([255, 0, 255, 0]), None);
    assert_eq!(net([0, 255, 255, 255]), None);
}
