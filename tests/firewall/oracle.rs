//! `nft`, where installed, as an oracle: inside a router, `nft list
//! ruleset` prints what the library reports, counters included; a mapping
//! timeout reaches the node's conntrack settings.

use std::time::Duration;

use netns_test::firewall::{CtState, Filter, Firewall, Nat, Proto, Rate, Reject};
use netns_test::Net;

use crate::common::{nft_installed, nft_list_ruleset};
use crate::{home, recv_within, udp, ARRIVES};

/// `nft`'s listing without the elements of sets (which the library does
/// not list): from `elements = {` to its closing brace.
fn without_elements(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.trim_start().starts_with("elements = {") {
            skipping = !line.trim_end().ends_with('}');
            continue;
        }
        if skipping {
            skipping = !line.trim_end().ends_with('}');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn nft_lists_exactly_what_the_library_reports() {
    if !nft_installed() {
        eprintln!("skipped: the `nft` binary is not installed (apt-get install nftables)");
        return;
    }
    let fw = Firewall::new()
        .forward(Filter::accept().state(CtState::ESTABLISHED | CtState::RELATED))
        .forward(
            Filter::reject()
                .tcp()
                .dports(1000..=2000)
                .from("203.0.113.0/24"),
        )
        .forward(
            Filter::reject_with(Reject::TcpReset)
                .tcp()
                .sport(25)
                .oif("eth0"),
        )
        .forward(Filter::drop().udp().dport(53).iif("eth1").comment("no dns"))
        .input(Filter::accept().icmp().limit(Rate::per_second(10)))
        .input(Filter::drop().ipv6())
        .output(Filter::accept().to("198.51.100.0/26"));
    let t = home(None)
        .nat(
            "r1",
            Nat::restricted_cone("eth1")
                .hairpin(true)
                .mapping_timeout(Duration::from_secs(45)),
        )
        .nat(
            "r1",
            Nat::port_forward("eth1", Proto::Tcp, 8080, "198.51.100.1:80"),
        )
        .nat("r1", Nat::dnat("eth1", "198.51.100.1"))
        .firewall("r1", fw);
    let net = Net::build(&t).unwrap();
    // Some traffic, so that counters and sets are not all empty.
    let (h1, srv) = (
        udp(&net, "h1", "0.0.0.0:4000"),
        udp(&net, "srv", "203.0.113.10:7"),
    );
    h1.send_to(b"hi", "203.0.113.10:7").unwrap();
    let (_, from) = recv_within(&srv, ARRIVES).expect("the server hears h1");
    srv.send_to(b"back", from).unwrap();
    assert!(recv_within(&h1, ARRIVES).is_some());

    let ours = net["r1"].ruleset().unwrap().to_string();
    let theirs = without_elements(&nft_list_ruleset(&net["r1"]));
    assert_eq!(ours, theirs, "ours:\n{ours}\nnft:\n{theirs}");
    // Every kind of statement is there, counted where it should be.
    for needle in [
        "dnat ip to udp dport map @nat_fullcone",
        "update @nat_fullcone { udp sport : ct original ip saddr . ct original proto-src }",
        "udp dport . ip saddr @nat_contacted",
        "ct state established,related counter packets ",
        "tcp dport 8080 dnat ip to 198.51.100.1:80",
        "timeout 45s",
    ] {
        assert!(ours.contains(needle), "{needle}\n{ours}");
    }
    // The mapping timeout is the node's conntrack UDP timeout.
    let timeout = net["r1"]
        .run(|| std::fs::read_to_string("/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream"))
        .unwrap()
        .unwrap();
    assert_eq!(timeout.trim(), "45");
}

#[test]
fn tables_of_other_families_are_listed_as_nft_lists_them() {
    if !nft_installed() {
        eprintln!("skipped: the `nft` binary is not installed (apt-get install nftables)");
        return;
    }
    let net = Net::build(&home(None)).unwrap();
    let nft = |args: &[&str]| crate::common::run_in(&net["r1"], "nft", args);
    nft(&["add", "table", "netdev", "t"]);
    nft(&[
        "add",
        "chain",
        "netdev",
        "t",
        "in0",
        "{ type filter hook ingress device eth0 priority -5; }",
    ]);
    nft(&["add", "table", "arp", "a"]);
    nft(&[
        "add",
        "chain",
        "arp",
        "a",
        "out",
        "{ type filter hook output priority 0; }",
    ]);
    nft(&[
        "add",
        "chain",
        "arp",
        "a",
        "in",
        "{ type filter hook input priority 20; }",
    ]);
    let ours = net["r1"].ruleset().unwrap().to_string();
    let theirs = without_elements(&nft_list_ruleset(&net["r1"]));
    assert_eq!(ours, theirs, "ours:\n{ours}\nnft:\n{theirs}");
    assert!(
        ours.contains("hook ingress device \"eth0\" priority filter - 5;"),
        "{ours}"
    );
}
