//! Sysctls: the keys a node may set are its own namespace's, and they reach
//! the node (interfaces with a dot in their name included).

use std::fs;
use std::path::Path;

use netns_test::{Error, Net, NetNs, Route, Topology, TopologyError};
use serial_test::serial;

fn read(path: &str) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim_end()
        .to_string()
}

#[test]
#[serial]
fn allowed_sysctls_reach_the_node_and_only_it() {
    let host_forward = read("/proc/sys/net/ipv4/ip_forward");
    let net = Net::build(
        &Topology::new()
            .link(
                ("a", "e.1", "198.51.100.1/24"),
                ("b", "eth0", "198.51.100.2/24"),
            )
            .sysctl("a", "net.ipv4.ip_forward", "1")
            .sysctl("a", "net.ipv4.conf.e/1.rp_filter", "2")
            .sysctl("a", "net.ipv6.conf.e/1.forwarding", "1")
            .sysctl("b", "net.ipv4.conf.default.rp_filter", "1")
            .sysctl("b", "net.core.somaxconn", "1234")
            .sysctl("b", "net.ipv4.tcp_syncookies", "0"),
    )
    .unwrap();
    let a = net["a"]
        .with(|| {
            [
                "/proc/sys/net/ipv4/ip_forward",
                "/proc/sys/net/ipv4/conf/e.1/rp_filter",
                "/proc/sys/net/ipv6/conf/e.1/forwarding",
            ]
            .map(read)
        })
        .unwrap();
    assert_eq!(a, ["1", "2", "1"]);
    let b = net["b"]
        .with(|| {
            [
                "/proc/sys/net/ipv4/conf/default/rp_filter",
                // Made after the default was set: it follows it.
                "/proc/sys/net/ipv4/conf/eth0/rp_filter",
                "/proc/sys/net/core/somaxconn",
                "/proc/sys/net/ipv4/tcp_syncookies",
                "/proc/sys/net/ipv4/ip_forward",
            ]
            .map(read)
        })
        .unwrap();
    assert_eq!(b, ["1", "1", "1234", "0", "0"]);
    assert_eq!(read("/proc/sys/net/ipv4/ip_forward"), host_forward);
}

#[test]
#[serial]
fn a_value_the_kernel_refuses_is_quoted_short() {
    let long = "9".repeat(4096);
    let err = Net::build(&Topology::new().node("a").sysctl(
        "a",
        "net.ipv4.ip_forward",
        long.as_str(),
    ))
    .expect_err("the kernel refuses the value");
    let Error::Sysctl {
        node, key, value, ..
    } = &err
    else {
        panic!("expected a sysctl error, got {err:?}");
    };
    assert_eq!((node.as_str(), key.as_str()), ("a", "net.ipv4.ip_forward"));
    assert_eq!(value, &long, "the error holds the whole value");
    let msg = err.to_string();
    assert!(msg.contains("… (4096 bytes)") && msg.len() < 250, "{msg}");
}

/// Every file under `/proc/sys/net` of a fresh namespace, as a sysctl(8)
/// key with its value (`None` where it cannot be read).
fn keys_of_a_fresh_namespace() -> Vec<(String, Option<String>)> {
    fn walk(dir: &Path, out: &mut Vec<(String, Option<String>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
                continue;
            }
            let rel = path.strip_prefix("/proc/sys").unwrap().to_str().unwrap();
            let key = rel
                .chars()
                .map(|c| match c {
                    '/' => '.',
                    '.' => '/',
                    c => c,
                })
                .collect();
            let value = fs::read_to_string(&path)
                .ok()
                .map(|v| v.trim_end_matches('\n').to_string());
            out.push((key, value));
        }
    }
    let ns = NetNs::new("fresh").unwrap();
    ns.with(|| {
        let mut out = Vec::new();
        walk(Path::new("/proc/sys/net"), &mut out);
        out
    })
    .unwrap()
}

/// The families of per-namespace sysctls a node may set.
fn in_allowed_family(key: &str) -> bool {
    let w: Vec<&str> = key.split('.').collect();
    match w.as_slice() {
        ["net", "ipv4" | "ipv6", "conf", _, _] => true,
        ["net", "ipv4" | "ipv6", "neigh", dev, _] => *dev != "default",
        ["net", "ipv4", "route", _] | ["net", "ipv6", "route" | "icmp", _] => true,
        ["net", "ipv4", k] => {
            ["icmp_", "tcp_", "udp_", "fib_"]
                .iter()
                .any(|p| k.starts_with(p))
                || [
                    "ip_forward",
                    "ip_default_ttl",
                    "ip_local_port_range",
                    "ping_group_range",
                ]
                .contains(k)
        }
        ["net", "netfilter", k] => k.starts_with("nf_conntrack_"),
        ["net", "core", "somaxconn"] | ["net", "unix", "max_dgram_qlen"] => true,
        _ => false,
    }
}

#[test]
#[serial]
fn every_key_a_node_may_set_is_its_own_and_writable_there() {
    let keys = keys_of_a_fresh_namespace();
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    for (key, value) in &keys {
        match Topology::new().node("a").sysctl("a", key, "1").validate() {
            Ok(()) => allowed.push((key.clone(), value.clone())),
            Err(TopologyError::SysctlNotPerNamespace { .. }) => refused.push(key.clone()),
            Err(e) => panic!("{key}: {e}"),
        }
    }
    for (key, _) in &allowed {
        assert!(in_allowed_family(key), "{key} is allowed");
    }
    // Shown in every node, and kernel-global all the same.
    for key in [
        "net.netfilter.nf_hooks_lwtunnel",
        "net.core.rmem_max",
        "net.ipv4.tcp_congestion_control",
    ] {
        let shown = keys.iter().any(|(k, _)| k == key);
        assert!(!shown || refused.contains(&key.to_string()), "{key}");
    }
    assert!(allowed.len() > 100, "only {} keys allowed", allowed.len());
    // Every allowed key a node shows can be written there: set each to the
    // value it has. Left out: what cannot be read back (`route.flush`, an
    // unset `stable_secret`), the multicast routing daemon's read-only flag
    // `mc_forwarding`, and `ping_group_range`, whose group ids read through
    // a user namespace (rootless) can be the overflow id, which no write
    // takes.
    let mut t = Topology::new().node("a");
    let mut written = 0;
    for (key, value) in allowed {
        let Some(value) = value else { continue };
        if key.ends_with(".mc_forwarding") || key == "net.ipv4.ping_group_range" {
            continue;
        }
        t = t.sysctl("a", key, value);
        written += 1;
    }
    Net::build(&t).unwrap_or_else(|e| panic!("{written} sysctls: {e}"));
}

/// Forwarding and ICMP rate-limit settings of `node`: IPv4's, then IPv6's.
fn forwarding_of(net: &Net, node: &str) -> [String; 4] {
    net[node]
        .with(|| {
            [
                "/proc/sys/net/ipv4/ip_forward",
                "/proc/sys/net/ipv4/icmp_ratelimit",
                "/proc/sys/net/ipv6/conf/all/forwarding",
                "/proc/sys/net/ipv6/icmp/ratelimit",
            ]
            .map(read)
        })
        .unwrap()
}

/// h1 - r - h2 with `first` (h1's, r's) and `second` (r's, h2's) as the
/// two subnets' addresses, r forwarding, each host's default route via r.
fn routed(first: [&str; 2], second: [&str; 2]) -> Net {
    let ip = |cidr: &str| cidr.split('/').next().unwrap().to_string();
    Net::build(
        &Topology::new()
            .link(("h1", "eth0", first[0]), ("r", "eth0", first[1]))
            .link(("r", "eth1", second[0]), ("h2", "eth0", second[1]))
            .forwarding("r")
            .route("h1", Route::default_via(ip(first[1])))
            .route("h2", Route::default_via(ip(second[0]))),
    )
    .unwrap()
}

#[test]
#[serial]
fn a_router_gets_ipv4_forwarding_settings_unless_its_lab_is_ipv6_only() {
    // Dual stack, and IPv4 only: both families' settings.
    let dual = Net::build(
        &Topology::new()
            .link(
                ("h1", "eth0", "198.51.100.1/24"),
                ("r", "eth0", "198.51.100.2/24"),
            )
            .link(
                ("r", "eth1", "2001:db8:2::1/64"),
                ("h2", "eth0", "2001:db8:2::2/64"),
            )
            .forwarding("r"),
    )
    .unwrap();
    assert_eq!(forwarding_of(&dual, "r"), ["1", "0", "1", "0"]);
    drop(dual);
    let v4 = routed(
        ["198.51.100.1/24", "198.51.100.2/24"],
        ["203.0.113.1/24", "203.0.113.2/24"],
    );
    assert_eq!(forwarding_of(&v4, "r"), ["1", "0", "1", "0"]);
    drop(v4);

    // IPv6 only: IPv6's; IPv4's stay as a new namespace has them, which a
    // node that does not forward shows.
    let v6 = routed(
        ["2001:db8:1::1/64", "2001:db8:1::2/64"],
        ["2001:db8:2::1/64", "2001:db8:2::2/64"],
    );
    let (r, h) = (forwarding_of(&v6, "r"), forwarding_of(&v6, "h1"));
    assert_eq!(r[2..], ["1", "0"]);
    assert_eq!(r[..2], h[..2]);
    // And the router forwards IPv6 from one host to the other.
    let far = v6["h2"].declared_addrs()[0].1.addr();
    assert_eq!(v6["h1"].ping(far).run().unwrap().received, 1);
}
