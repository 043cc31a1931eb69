//! A link's IPv6 addresses are usable again when its way up returns.
//!
//! The kernel finishes an interface's IPv6 addresses on a workqueue after
//! it comes up, and only then routes them as local again: a neighbour
//! advertisement to one before that is dropped, and the first IPv6 packet
//! across the link waits a second for the next solicitation. So each way
//! up below is checked at once by reading the routes the kernel lists.

use netns_test::Net;

use super::links::pair;

/// The IPv6 addresses of n1 and n2, as `ipv6_route` of `/proc/thread-self/net`
/// (the calling thread's namespace; `/proc/net` is the process's) writes a
/// route's destination: `2001:db8::1` and `2001:db8::2`.
const ADDRESSES: [(&str, &str); 2] = [
    ("n1", "20010db8000000000000000000000001"),
    ("n2", "20010db8000000000000000000000002"),
];

/// The nodes of `ADDRESSES` without a route to their own address (/128,
/// `80` in hex) now: those that would drop a packet sent to it.
fn not_local(net: &Net) -> Vec<&'static str> {
    ADDRESSES
        .into_iter()
        .filter(|(node, addr)| {
            let listed = net[*node]
                .run(|| std::fs::read_to_string("/proc/thread-self/net/ipv6_route"))
                .unwrap()
                .unwrap();
            !listed.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.first() == Some(addr) && f.get(1) == Some(&"80")
            })
        })
        .map(|(node, _)| node)
        .collect()
}

#[test]
fn up_returns_once_the_ipv6_addresses_are_usable() {
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    assert!(not_local(&net).is_empty(), "local after the build");
    // The way up and the read race in each round: 300 rounds give a way up
    // that returned early many chances to be caught.
    for round in 0..300 {
        link.down().unwrap().restore().unwrap();
        assert_eq!(not_local(&net), Vec::<&str>::new(), "round {round}, guard");
        let down = link.down().unwrap();
        link.up().unwrap();
        assert_eq!(not_local(&net), Vec::<&str>::new(), "round {round}, up");
        drop(down);
    }
}

#[test]
fn an_address_added_while_down_is_usable_once_up() {
    if !crate::common::ip_installed() {
        eprintln!("skipped: `ip` is not installed");
        return;
    }
    let net = pair();
    let link = net.link("n1", "n2").unwrap();
    let down = link.down().unwrap();
    crate::common::run_in(
        &net["n1"],
        "ip",
        &["-6", "addr", "add", "2001:db8::11/64", "dev", "eth0"],
    );
    down.restore().unwrap();
    assert_eq!(not_local(&net), Vec::<&str>::new());
    let r = net["n2"].ping("2001:db8::11").count(1).run().unwrap();
    assert_eq!(r.received, 1, "{r}");
}
