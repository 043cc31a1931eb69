//! What each NAT kind installs, on one router: kept in `docs/nat.md`,
//! checked here against that page so the page stays true.

use std::time::Duration;

use ipnet::IpNet;

use super::firewall::{compile, IfaceView, NodeView};
use crate::ruleset::{Filter, Firewall, Nat, Proto, RulesetConfig};
use crate::topology::TopologyError;

/// The page, as the tests read it.
const PAGE: &str = include_str!("../../../docs/nat.md");

/// Router r1: eth0 inside (198.51.100.62/26), eth1 outside (203.0.113.1/24).
fn compiled(nats: Vec<Nat>, firewall: Option<Firewall>) -> Result<String, TopologyError> {
    let inside: [IpNet; 1] = ["198.51.100.62/26".parse().unwrap()];
    let outside: [IpNet; 1] = ["203.0.113.1/24".parse().unwrap()];
    let view = NodeView {
        name: "r1",
        ifaces: vec![
            IfaceView {
                name: "eth0",
                addrs: &inside,
            },
            IfaceView {
                name: "eth1",
                addrs: &outside,
            },
        ],
        forwarding: Some(true),
        switch: false,
    };
    compile(&view, &RulesetConfig { nats, firewall }).map(|r| r.text())
}

/// Every kind the page documents, under the name of its section.
fn kinds() -> Vec<(&'static str, Vec<Nat>)> {
    vec![
        ("Nat::masquerade", vec![Nat::masquerade("eth1")]),
        (
            "Nat::snat_range",
            vec![Nat::snat_range("eth1", "203.0.113.2", "203.0.113.3")
                .ports(20000..=20999)
                .persistent()],
        ),
        (
            "Nat::port_forward",
            vec![Nat::port_forward("eth1", Proto::Tcp, 8080, "198.51.100.1:80").hairpin(true)],
        ),
        ("Nat::dnat", vec![Nat::dnat("eth1", "198.51.100.1")]),
        ("Nat::full_cone", vec![Nat::full_cone("eth1")]),
        ("Nat::restricted_cone", vec![Nat::restricted_cone("eth1")]),
        (
            "Nat::port_restricted_cone",
            vec![Nat::port_restricted_cone("eth1")],
        ),
        ("Nat::symmetric", vec![Nat::symmetric("eth1")]),
        (
            "Nat::carrier_grade",
            vec![Nat::carrier_grade("eth1").mapping_timeout(Duration::from_secs(300))],
        ),
    ]
}

#[test]
fn docs_nat_md_shows_what_each_kind_installs() {
    let mut missing = Vec::new();
    for (name, nats) in kinds() {
        let text = compiled(nats, None).unwrap();
        let section = format!("### `{name}`");
        let Some(start) = PAGE.find(&section) else {
            missing.push(format!("{section}\n\n```text\n{text}```\n"));
            continue;
        };
        let rest = &PAGE[start..];
        let end = rest[section.len()..]
            .find("\n### ")
            .map_or(rest.len(), |e| e + section.len());
        if !rest[..end].contains(&format!("```text\n{text}```")) {
            missing.push(format!("{section}\n\n```text\n{text}```\n"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/nat.md is out of date:\n\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_firewall_compiles_into_three_chains_with_counters() {
    let fw = Firewall::new().forward(Filter::accept().tcp().dport(22));
    let text = compiled(vec![], Some(fw)).unwrap();
    assert!(
        text.contains(
            "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}"
        ),
        "{text}"
    );
    assert!(
        text.contains("tcp dport 22 counter packets 0 bytes 0 accept"),
        "{text}"
    );
    // Two presets share the tracking sets: refused.
    let two = compiled(vec![Nat::full_cone("eth1"), Nat::symmetric("eth1")], None);
    assert!(
        matches!(two, Err(TopologyError::InvalidNat { .. })),
        "{two:?}"
    );
    // Two timeouts that disagree: refused.
    let t = |s| Nat::full_cone("eth1").mapping_timeout(Duration::from_secs(s));
    let pf = |s| {
        Nat::port_forward("eth1", Proto::Udp, 53, "198.51.100.1")
            .mapping_timeout(Duration::from_secs(s))
    };
    assert!(compiled(vec![t(30), pf(30)], None).is_ok());
    assert!(compiled(vec![t(30), pf(60)], None).is_err());
}

#[test]
fn a_reversed_range_or_a_timeout_past_the_kernels_limit_is_refused() {
    let range = compiled(
        vec![Nat::snat_range("eth1", "203.0.113.9", "203.0.113.1")],
        None,
    );
    assert!(
        matches!(&range, Err(TopologyError::InvalidNat { reason, .. }) if reason.contains("203.0.113.9-203.0.113.1")),
        "{range:?}"
    );
    let days = |d: u64| Duration::from_secs(d * 86_400);
    assert!(compiled(vec![Nat::full_cone("eth1").mapping_timeout(days(24))], None).is_ok());
    let long = compiled(vec![Nat::full_cone("eth1").mapping_timeout(days(30))], None);
    assert!(
        matches!(&long, Err(TopologyError::InvalidNat { reason, .. }) if reason.contains("2147483")),
        "{long:?}"
    );
}
