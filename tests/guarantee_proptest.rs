//! Guarantee: random topologies, valid and invalid, never panic the builder.
//!
//! Each case is built for real: either it builds (and is then checked and
//! torn down) or it returns an error; a description `validate()` refuses
//! fails `Net::build` with that very error, before creating anything. Either
//! way this process holds the same namespaces afterwards, and the calling
//! thread is back in its namespace. 64 cases by default (each valid case
//! builds namespaces); `PROPTEST_CASES` overrides it.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use netns_test::{Endpoint, Error, Net, Route, Topology};
use proptest::prelude::*;
use proptest::sample::select;

/// Picks from `good` 24 times in 25, else from `bad`: a description has a
/// dozen fields, so about half the cases stay valid.
fn mostly<T: Clone + std::fmt::Debug + 'static>(
    good: &'static [T],
    bad: &'static [T],
) -> impl Strategy<Value = T> + Clone {
    prop_oneof![24 => select(good), 1 => select(bad)]
}

fn node() -> impl Strategy<Value = &'static str> + Clone {
    mostly(&["h1", "h2", "h3", "r1"], &["", "a b", "sw"])
}

fn ifname() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        24 => (0u8..12).prop_map(|i| format!("eth{i}")),
        1 => select(&["lo", "", "sixteen-bytes-xx", "x/y", "eth0"][..]).prop_map(str::to_string),
    ]
}

fn addr() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        10 => (1u8..=253).prop_map(|i| format!("198.51.100.{i}/24")),
        8 => (1u8..=253).prop_map(|i| format!("203.0.113.{i}/24")),
        6 => (1u16..=0xffff).prop_map(|i| format!("2001:db8::{i:x}/64")),
        /* bad */ 1 => select(&["198.51.100.1", "198.51.100.999/24", "2001:db8::1/129", "junk"][..])
            .prop_map(str::to_string),
    ]
}

const MTUS: &[Option<u32>] = &[None, None, None, Some(1500), Some(1280), Some(9000)];
const BAD_MTUS: &[Option<u32>] = &[Some(1000), Some(68), Some(67), Some(65536)];
const MACS: &[Option<&str>] = &[
    None,
    None,
    None,
    Some("02:00:00:00:00:01"),
    Some("02:00:00:00:00:02"),
];
const BAD_MACS: &[Option<&str>] = &[
    Some("01:00:5e:00:00:01"),
    Some("00:00:00:00:00:00"),
    Some("nope"),
];
const SYSCTLS: &[(&str, &str)] = &[
    ("net.ipv4.conf.all.rp_filter", "0"),
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv6.conf.all.forwarding", "1"),
];
const BAD_SYSCTLS: &[(&str, &str)] = &[
    ("kernel.panic", "1"),
    ("net.ipv4.no_such_sysctl", "1"),
    ("net.ipv4.conf.all.no_such_sysctl", "1"),
    ("net.netfilter.nf_hooks_lwtunnel", "1"),
    ("net.ipv4.ip_forward", "banana"),
    ("net..x", "1"),
];

/// An endpoint without its node: interface name, addresses, MTU, MAC.
type Parts = (String, Vec<String>, Option<u32>, Option<&'static str>);

fn parts() -> impl Strategy<Value = Parts> {
    (
        ifname(),
        prop::collection::vec(addr(), 0..3),
        mostly(MTUS, BAD_MTUS),
        mostly(MACS, BAD_MACS),
    )
}

fn endpoint(node: &str, (ifname, addrs, mtu, mac): Parts) -> Endpoint {
    let mut e = addrs
        .into_iter()
        .fold(Endpoint::new(node, ifname), Endpoint::addr);
    if let Some(m) = mtu {
        e = e.mtu(m);
    }
    if let Some(m) = mac {
        e = e.mac(m);
    }
    e
}

const HOSTS: &[&str] = &["h1", "h2", "h3", "r1"];

/// The other end of a link: another host, or (rarely) the same one.
fn peer(a: &str, offset: usize) -> &'static str {
    let i = HOSTS.iter().position(|h| *h == a).unwrap_or(0);
    HOSTS[(i + offset) % HOSTS.len()]
}

/// A reference to a node: one the description has (by index), or rarely a ghost.
fn node_ref() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![24 => (0usize..8).prop_map(Some), 1 => Just(None)]
}

fn pick(names: &[String], r: Option<usize>) -> String {
    match r {
        Some(i) if !names.is_empty() => names[i % names.len()].clone(),
        _ => "ghost".into(),
    }
}

fn route() -> impl Strategy<Value = Route> {
    let gw = mostly(
        &["198.51.100.254", "203.0.113.254", "2001:db8::1:fffe"],
        &["gw", "2001:db8:ffff::1"],
    );
    let dst = mostly(
        &[
            "203.0.113.0/24",
            "198.51.100.0/24",
            "2001:db8:9::/64",
            "default",
        ],
        &["0.0.0.0/0", "198.51.100.0/24x"],
    );
    (
        dst,
        prop::option::weighted(0.9, gw),
        prop::option::weighted(0.1, ifname()),
    )
        .prop_map(|(dst, via, dev): (_, _, Option<String>)| {
            let mut r = Route::to(dst);
            if let Some(v) = via {
                r = r.via(v);
            }
            if let Some(d) = dev {
                r = r.dev(d);
            }
            r
        })
}

fn topology() -> impl Strategy<Value = Topology> {
    (
        prop::collection::vec(node(), 0..2),
        prop::collection::vec(
            (node(), mostly(&[1usize, 2, 3], &[0]), parts(), parts()),
            0..4,
        ),
        prop::option::of((
            mostly(&["sw", "sw2"], &["h1"]),
            prop::collection::vec((node(), parts()), 1..4),
        )),
        prop::collection::vec((node_ref(), route()), 0..2),
        prop::collection::vec(node_ref(), 0..2),
        prop::collection::vec((node_ref(), mostly(SYSCTLS, BAD_SYSCTLS)), 0..2),
    )
        .prop_map(|(nodes, links, segment, routes, fwd, sysctls)| {
            let mut t = Topology::new();
            for n in nodes {
                t = t.node(n);
            }
            for (a, offset, pa, pb) in links {
                t = t.link(endpoint(a, pa), endpoint(peer(a, offset), pb));
            }
            if let Some((sw, members)) = segment {
                t = t.bridge(sw, members.into_iter().map(|(n, p)| endpoint(n, p)));
            }
            let names = t.node_names();
            for (n, r) in routes {
                t = t.route(pick(&names, n), r);
            }
            for n in fwd {
                t = t.forwarding(pick(&names, n));
            }
            for (n, (k, v)) in sysctls {
                t = t.sysctl(pick(&names, n), k, v);
            }
            t
        })
}

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

static OUTCOMES: std::sync::Mutex<[usize; 3]> = std::sync::Mutex::new([0; 3]);

fn tally(i: usize) {
    let mut o = OUTCOMES.lock().unwrap();
    o[i] += 1;
    eprintln!(
        "built {}, refused by validation {}, refused by the kernel {}",
        o[0], o[1], o[2]
    );
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn random_topologies_build_cleanly_or_fail_cleanly(t in topology()) {
        let host = common::my_netns();
        let before = common::process_netns();
        let validated = t.validate();
        let built = catch_unwind(AssertUnwindSafe(|| Net::build(&t)));
        let built = match built {
            Ok(b) => b,
            Err(_) => panic!("Net::build panicked on {t:?}"),
        };
        match (built, validated) {
            (Ok(net), Ok(())) => {
                let names = t.node_names();
                prop_assert_eq!(net.nodes().len(), names.len());
                let mut inodes: Vec<u64> =
                    net.nodes().iter().map(|n| n.netns().inode()).collect();
                inodes.sort();
                inodes.dedup();
                prop_assert_eq!(inodes.len(), names.len());
                // Every address of the description is on its node.
                for node in net.nodes() {
                    let have = node.addresses().unwrap();
                    for (_, a) in node.declared_addrs() {
                        prop_assert!(have.iter().any(|h| h.addr == *a), "{} lacks {}", node.name(), a);
                    }
                }
                drop(net);
                tally(0);
            }
            (Ok(_), Err(e)) => panic!("built a topology validate() refuses ({e}): {t:?}"),
            (Err(Error::Topology(e)), Err(v)) => {
                prop_assert_eq!(e, v);
                tally(1);
            }
            (Err(Error::Topology(e)), Ok(())) => {
                panic!("validate() accepts what build refuses ({e}): {t:?}")
            }
            (Err(e), Err(v)) => panic!("validate() says {v} but build says {e}"),
            // Valid, and refused by the kernel (an IPv6 address on a small
            // MTU, an unknown sysctl): a typed build error.
            (Err(e), Ok(())) => {
                prop_assert!(
                    matches!(e, Error::Netlink { .. } | Error::Sysctl { .. }),
                    "unexpected build error {:?}", e
                );
                tally(2);
            }
        }
        prop_assert_eq!(common::my_netns(), host);
        prop_assert!(
            common::eventually(Duration::from_secs(2), || common::process_netns() == before),
            "namespaces left behind by {:?}", t
        );
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary text anywhere in a description: `validate()` answers, it
    /// never panics (nothing is built here).
    #[test]
    fn validation_never_panics_on_any_text(
        node in ".{0,20}",
        ifname in ".{0,20}",
        addr in ".{0,40}",
        mac in ".{0,20}",
        mtu in any::<u32>(),
        dst in ".{0,40}",
        via in ".{0,40}",
        key in ".{0,40}",
    ) {
        let t = Topology::new()
            .link(
                Endpoint::new(node.clone(), ifname.clone()).addr(addr.clone()).mtu(mtu).mac(mac),
                (node.clone() + "2", ifname.clone(), addr.as_str()),
            )
            .route(node.clone(), Route::to(dst).via(via).dev(ifname))
            .sysctl(node, key, "1");
        let _ = catch_unwind(AssertUnwindSafe(|| t.validate()))
            .unwrap_or_else(|_| panic!("validate() panicked on {t:?}"));
    }
}
