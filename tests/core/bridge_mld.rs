//! A segment's switch keeps its members' multicast listener reports off
//! the bridge, and forwards them when the topology says so; other
//! multicast crosses either way.

use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};
use std::time::Duration;

use netns_test::capture::{Capture, Filter};
use netns_test::{Family, Net, Topology};

use crate::common;

/// A group of link-local scope: it never leaves the segment.
const GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0xdb8, 1);
const PORT: u16 = 9000;
const WAIT: Duration = Duration::from_secs(5);
/// ICMPv6 type of an MLDv2 report.
const MLD2_REPORT: u8 = 143;

fn lan(forward_mld: bool) -> Net {
    let t = Topology::new().bridge(
        "sw",
        [
            ("h1", "eth0", "2001:db8:1::1/64"),
            ("h2", "eth0", "2001:db8:1::2/64"),
        ],
    );
    Net::build(&if forward_mld { t.forward_mld("sw") } else { t }).unwrap()
}

/// h1 joins `GROUP` (its kernel reports that at once, unasked) and sends a
/// datagram to it; the socket is returned so the membership lasts.
fn join_and_send(net: &Net) -> UdpSocket {
    let sock = net["h1"]
        .run(|| {
            let index = nix::net::if_::if_nametoindex("eth0").unwrap();
            let sock = UdpSocket::bind("[::]:0").unwrap();
            sock.join_multicast_v6(&GROUP, index).unwrap();
            sock
        })
        .unwrap();
    send(net);
    sock
}

/// A datagram from h1 to `GROUP`.
fn send(net: &Net) {
    net["h1"]
        .run(|| {
            let index = nix::net::if_::if_nametoindex("eth0").unwrap();
            let sock = UdpSocket::bind("[::]:0").unwrap();
            sock.send_to(b"to the group", SocketAddrV6::new(GROUP, PORT, 0, index))
                .unwrap();
        })
        .unwrap();
}

/// Waits until `done` holds, for at most `WAIT`.
fn until(done: impl FnMut() -> bool) -> bool {
    common::eventually(WAIT, done)
}

fn reports(cap: &Capture) -> usize {
    let f = Filter::new()
        .family(Family::V6)
        .icmpv6_type(MLD2_REPORT)
        .on("h2", "eth0")
        .incoming();
    cap.count(&f)
}

fn datagrams(cap: &Capture) -> usize {
    cap.count(&Filter::udp().dst_port(PORT).on("h2", "eth0").incoming())
}

/// The packets the switch's report rules dropped.
fn dropped_reports(net: &Net) -> u64 {
    let rules = net["sw"].ruleset().unwrap();
    rules
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .filter(|r| r.text.contains("icmpv6 type mld2-listener-report"))
        .filter_map(|r| r.packets)
        .sum()
}

#[test]
#[serial_test::serial]
fn a_switch_drops_listener_reports_but_floods_multicast_data() {
    let net = lan(false);
    let table = net["sw"].ruleset().unwrap().to_string();
    assert!(
        table.contains("table bridge netns_test_switch")
            && table.contains("type filter hook prerouting priority filter; policy accept;"),
        "{table}"
    );
    let cap = net["h2"].capture().unwrap();
    let before = dropped_reports(&net);
    let _member = join_and_send(&net);
    assert!(
        until(|| datagrams(&cap) >= 1),
        "the datagram to the group reached h2"
    );
    assert!(
        until(|| dropped_reports(&net) > before),
        "h1's report for the group reached the switch and was dropped:\n{}",
        net["sw"].ruleset().unwrap()
    );
    // A second datagram, sent after the report: once h2 has it, h2 has also
    // seen anything the bridge forwarded before it.
    send(&net);
    assert!(
        until(|| datagrams(&cap) >= 2),
        "the second datagram reached h2"
    );
    assert_eq!(reports(&cap), 0, "no listener report reached h2");
}

#[test]
#[serial_test::serial]
fn a_switch_told_to_forward_listener_reports_floods_them() {
    let net = lan(true);
    assert!(
        net["sw"].ruleset().unwrap().is_empty(),
        "the switch has no table"
    );
    let cap = net["h2"].capture().unwrap();
    let _member = join_and_send(&net);
    assert!(
        until(|| datagrams(&cap) >= 1),
        "the datagram to the group reached h2"
    );
    assert!(
        until(|| reports(&cap) >= 1),
        "h1's listener report reached h2"
    );
}

#[test]
#[serial_test::serial]
fn a_suite_file_sets_forward_mld_per_bridge() {
    let dir = tempfile::tempdir().unwrap();
    let lab = |forward: &str| {
        let path = dir.path().join(format!("lab_{forward}.toml"));
        let text = format!(
            "[[topology.bridges]]\nswitch = \"sw\"\nforward_mld = {forward}\nmembers = [\n  \
             {{ node = \"h1\", iface = \"eth0\", addr = \"2001:db8:1::1/64\" }},\n  \
             {{ node = \"h2\", iface = \"eth0\", addr = \"2001:db8:1::2/64\" }},\n]\n"
        );
        std::fs::write(&path, text).unwrap();
        let options = netns_test::suite::LoadOptions::default();
        let topo = netns_test::suite::topology_of(&path, &options).unwrap();
        Net::build(&topo).unwrap()
    };
    assert!(lab("true")["sw"].ruleset().unwrap().is_empty());
    assert!(!lab("false")["sw"].ruleset().unwrap().is_empty());
}

#[test]
#[serial_test::serial]
fn the_nft_binary_lists_the_switch_table_as_we_do() {
    if !common::nft_installed() {
        eprintln!("skipped: the `nft` binary is not installed (apt-get install nftables)");
        return;
    }
    let net = lan(false);
    let theirs = common::nft_list_ruleset(&net["sw"]);
    let ours = net["sw"].ruleset().unwrap().to_string();
    let lines = |t: &str| -> Vec<String> {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(without_counts)
            .collect()
    };
    assert_eq!(
        lines(&ours),
        lines(&theirs),
        "ours:\n{ours}\nnft:\n{theirs}"
    );
}

/// `line` with the numbers of its counter left out (`counter packets 2
/// bytes 152` becomes `counter`): they move between two listings.
fn without_counts(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    match words.iter().position(|w| *w == "counter") {
        Some(at) if words.get(at + 1) == Some(&"packets") => {
            let mut kept = words[..=at].to_vec();
            kept.extend_from_slice(words.get(at + 5..).unwrap_or_default());
            kept.join(" ")
        }
        _ => line.to_string(),
    }
}
