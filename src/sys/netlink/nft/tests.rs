//! nftables in real namespaces: rules that drop pings and datagrams between
//! two nodes joined by a veth, read back with their counters, deleted; a
//! refused transaction; `nft list ruleset` as an oracle when installed.

use std::io;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use super::*;
use crate::ruleset::{BaseChain, ChainKind, Hook, Match, PortRange, Rule, Stmt, Verdict};
use crate::{Net, NetNs, Topology};

/// The table every test uses.
const T: &str = "netns_test";

/// a (198.51.100.1, 2001:db8::1) -- b (198.51.100.2, 2001:db8::2).
fn lab() -> Net {
    let t = Topology::new().link(
        ("a", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("b", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    );
    Net::build(&t).expect("build the lab (run the tests as root)")
}

/// A socket in `node`'s namespace.
fn open(net: &Net, node: &str) -> Nft {
    net[node].with(|| Nft::open_here(node)).unwrap().unwrap()
}

/// A filter base chain on `hook`, priority 0, policy accept.
fn filter(hook: Hook) -> Option<BaseChain> {
    Some(BaseChain {
        hook,
        priority: 0,
        kind: ChainKind::Filter,
        policy: Verdict::Accept,
    })
}

/// Table `T` of `family` with base chains `input` and `output`.
fn table(family: Family) -> Batch {
    let mut b = Batch::new();
    b.add_table(family, T);
    b.add_chain(family, T, "output", filter(Hook::Output));
    b.add_chain(family, T, "input", filter(Hook::Input));
    b
}

/// `MATCH counter drop comment "COMMENT"`.
fn counted_drop(m: Match, comment: &str) -> Rule {
    Rule::counted(vec![m], Verdict::Drop, comment)
}

/// Replies to one ping from `from` to `to` (waiting `wait` for it).
///
/// A drop in an output chain fails the send with EPERM, which the ping
/// probe takes for the EACCES of a broadcast destination (both are
/// `PermissionDenied`) unless broadcasts are allowed: so they are, and the
/// EPERM shows as a send error in the report instead.
fn replies(net: &Net, from: &str, to: &str, wait: Duration) -> u32 {
    net[from]
        .ping(to)
        .timeout(wait)
        .broadcast(true)
        .run()
        .unwrap()
        .received
}

/// Long enough for a reply on a veth; what a dropped ping waits.
const SHORT: Duration = Duration::from_millis(300);
/// What an expected reply may take (the first one waits for ARP or ND).
const LONG: Duration = Duration::from_secs(2);

/// Adds `rule` to a's output, checks that it blocks pings to `dst` and
/// counts them, deletes it by handle, checks that pings pass again, deletes
/// the table.
fn block_ping_then_unblock(family: Family, m: Match, dst: &str) {
    let net = lab();
    let mut nft = open(&net, "a");
    assert_eq!(replies(&net, "a", dst, LONG), 1, "before the rule");

    let mut b = table(family);
    b.add_rule(family, T, "output", &counted_drop(m, "netns-test: block b"));
    nft.apply(&b).unwrap();
    assert_eq!(replies(&net, "a", dst, SHORT), 0, "with the rule");

    let rules = nft.list_rules(family, T).unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let rule = &rules[0];
    assert_eq!(rule.chain, "output");
    assert_eq!(rule.comment.as_deref(), Some("netns-test: block b"));
    assert!(rule.packets.unwrap() >= 1, "{rule:?}");
    assert!(rule.bytes.unwrap() >= 84, "{rule:?}");

    let mut b = Batch::new();
    b.delete_rule(family, T, "output", rule.handle);
    nft.apply(&b).unwrap();
    assert_eq!(nft.list_rules(family, T).unwrap(), []);
    assert_eq!(replies(&net, "a", dst, LONG), 1, "after deleting the rule");

    assert!(nft.has_table(family, T).unwrap());
    let mut b = Batch::new();
    b.delete_table(family, T);
    nft.apply(&b).unwrap();
    assert!(!nft.has_table(family, T).unwrap());
}

#[test]
fn nft_ip_daddr_drops_pings_counts_them_and_deletes() {
    let m = Match::Daddr("198.51.100.2/32".parse().unwrap());
    block_ping_then_unblock(Family::Inet, m, "198.51.100.2");
}

#[test]
fn nft_ip6_daddr_drops_pings() {
    let m = Match::Daddr("2001:db8::2/128".parse().unwrap());
    block_ping_then_unblock(Family::Inet, m, "2001:db8::2");
}

#[test]
fn nft_prefixes_match_their_network_only() {
    // In an `ip` table (no nfproto dependency) and an `ip6` table.
    let m = Match::Daddr("198.51.100.0/24".parse().unwrap());
    block_ping_then_unblock(Family::Ip, m, "198.51.100.2");
    let m = Match::Daddr("2001:db8::/64".parse().unwrap());
    block_ping_then_unblock(Family::Ip6, m, "2001:db8::2");

    // A neighbouring network, same length: the mask keeps it apart.
    let net = lab();
    let mut nft = open(&net, "a");
    let mut b = table(Family::Inet);
    let other = Match::Daddr("198.51.101.0/24".parse().unwrap());
    b.add_rule(Family::Inet, T, "output", &counted_drop(other, "other"));
    let wider = Match::Daddr("2001:db8:0:1::/64".parse().unwrap());
    b.add_rule(Family::Inet, T, "output", &counted_drop(wider, "other6"));
    nft.apply(&b).unwrap();
    assert_eq!(replies(&net, "a", "198.51.100.2", LONG), 1);
    assert_eq!(replies(&net, "a", "2001:db8::2", LONG), 1);
    let rules = nft.list_rules(Family::Inet, T).unwrap();
    assert!(rules.iter().all(|r| r.packets == Some(0)), "{rules:?}");
}

/// Sends one datagram from `tx` to `rx` and returns whether it arrived.
fn datagram_arrives(tx: &UdpSocket, rx: &UdpSocket) -> bool {
    tx.send_to(b"ping", rx.local_addr().unwrap()).unwrap();
    let mut buf = [0u8; 16];
    match rx.recv_from(&mut buf) {
        Ok((n, from)) => {
            assert_eq!((&buf[..n], from), (&b"ping"[..], tx.local_addr().unwrap()));
            true
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            false
        }
        Err(e) => panic!("recv: {e}"),
    }
}

#[test]
fn nft_a_one_way_rule_in_input_drops_one_direction_only() {
    let net = lab();
    let bind = |node: &str, addr: &str| {
        let s = net[node].with(|| UdpSocket::bind(addr)).unwrap().unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        s
    };
    let a = bind("a", "198.51.100.1:5001");
    let b = bind("b", "198.51.100.2:5000");
    assert!(datagram_arrives(&a, &b), "a -> b before the rule");

    let mut nft = open(&net, "b");
    let mut batch = table(Family::Inet);
    let from_a = Match::Saddr("198.51.100.1/32".parse().unwrap());
    batch.add_rule(Family::Inet, T, "input", &counted_drop(from_a, "from a"));
    nft.apply(&batch).unwrap();

    assert!(!datagram_arrives(&a, &b), "a -> b with the rule");
    assert!(datagram_arrives(&b, &a), "b -> a with the rule");
    let rules = nft.list_rules(Family::Inet, T).unwrap();
    assert_eq!(
        (rules[0].chain.as_str(), rules[0].packets),
        ("input", Some(1))
    );
}

#[test]
fn nft_a_refused_change_names_itself_and_cancels_the_whole_batch() {
    let ns = NetNs::new("x").unwrap();
    let mut nft = ns.run(|| Nft::open_here("x")).unwrap().unwrap();
    assert!(!nft.has_table(Family::Inet, T).unwrap());

    // The table is created by the same batch: it must be gone with it.
    let mut b = Batch::new();
    b.add_table(Family::Inet, T);
    let r = counted_drop(Match::L4Proto(17), "nowhere");
    b.add_rule(Family::Inet, T, "missing", &r);
    let err = nft.apply(&b).unwrap_err();
    match &err {
        Error::Nftables { node, op, source } => {
            assert_eq!(node, "x");
            assert_eq!(
                op,
                "add rule inet netns_test missing (rule 1 added to the chain)"
            );
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT), "{err}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().starts_with(
        "nftables: add rule inet netns_test missing (rule 1 added to the chain) in node `x`: "
    ));
    assert!(!nft.has_table(Family::Inet, T).unwrap());

    // Reading a table that is not there is an error too, not an empty list.
    let err = nft.list_rules(Family::Inet, T).unwrap_err();
    assert!(matches!(&err, Error::Nftables { source, .. }
        if source.raw_os_error() == Some(libc::ENOENT)));

    // A rule that cannot be encoded is refused without a round trip.
    let mut b = Batch::new();
    b.add_rule(
        Family::Ip6,
        T,
        "input",
        &counted_drop(Match::Saddr("198.51.100.1/32".parse().unwrap()), "v4"),
    );
    let err = nft.apply(&b).unwrap_err();
    assert!(matches!(&err, Error::Nftables { source, .. }
        if source.kind() == io::ErrorKind::InvalidInput));

    // An empty batch sends nothing.
    nft.apply(&Batch::new()).unwrap();
}

#[test]
fn nft_one_transaction_with_a_table_three_chains_four_rules() {
    let ns = NetNs::new("x").unwrap();
    let mut nft = ns.run(|| Nft::open_here("x")).unwrap().unwrap();
    let f = Family::Inet;
    let mut b = table(f);
    b.add_chain(f, T, "forward", filter(Hook::Forward));
    let accept = |m: Match, c: &str| Rule::counted(vec![m], Verdict::Accept, c);
    b.add_rule(f, T, "input", &accept(Match::Iifname("lo".into()), "lo"));
    b.add_rule(
        f,
        T,
        "input",
        &accept(Match::Dport(PortRange::one(22)), "ssh"),
    );
    b.add_rule(
        f,
        T,
        "output",
        &accept(Match::Oifname("lo".into()), "lo out"),
    );
    let v6 = Match::Saddr("2001:db8::/32".parse().unwrap());
    b.add_rule(f, T, "forward", &counted_drop(v6, "doc"));
    let start = Instant::now();
    nft.apply(&b).unwrap();
    let took = start.elapsed();
    eprintln!("one transaction, a table, 3 chains, 4 rules: {took:?}");

    let rules = nft.list_rules(f, T).unwrap();
    let seen: Vec<_> = rules
        .iter()
        .map(|r| (r.chain.as_str(), r.comment.as_deref().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("output", "lo out"),
            ("input", "lo"),
            ("input", "ssh"),
            ("forward", "doc")
        ]
    );
    // Handles are distinct, counters present.
    let mut handles: Vec<_> = rules.iter().map(|r| r.handle).collect();
    handles.dedup();
    assert_eq!(handles.len(), 4);
    assert!(rules.iter().all(|r| r.packets.is_some()));

    // Applying the table and chains again changes nothing (NLM_F_CREATE).
    nft.apply(&table(f)).unwrap();
    assert_eq!(nft.list_rules(f, T).unwrap().len(), 4);
}

/// Whether the `nft` binary can run here.
fn nft_installed() -> bool {
    std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn nft_the_nft_binary_lists_our_rules_as_written() {
    if !nft_installed() {
        eprintln!("skipped: the `nft` binary is not installed (apt-get install nftables)");
        return;
    }
    let net = lab();
    let mut nft = open(&net, "a");
    let f = Family::Inet;
    let mut b = table(f);
    let daddr = Match::Daddr("198.51.100.2/32".parse().unwrap());
    b.add_rule(f, T, "output", &counted_drop(daddr, "block b"));
    b.add_rule(
        f,
        T,
        "output",
        &Rule::new(
            vec![
                Match::Oifname("eth0".into()),
                Match::Daddr("2001:db8::/64".parse().unwrap()),
                Match::L4Proto(17),
                Match::Sport(PortRange::one(5001)),
                Match::Dport(PortRange::one(5000)),
            ],
            vec![Stmt::Verdict(Verdict::Accept)],
        ),
    );
    b.add_rule(
        f,
        T,
        "input",
        &Rule {
            matches: vec![
                Match::Iifname("eth0".into()),
                Match::Saddr("198.51.100.0/24".parse().unwrap()),
            ],
            stmts: vec![Stmt::Verdict(Verdict::Accept)],
            comment: Some("from the lan".into()),
        },
    );
    // Every hook, and a nat chain.
    for (name, hook) in [
        ("pre", Hook::Prerouting),
        ("fwd", Hook::Forward),
        ("post", Hook::Postrouting),
    ] {
        b.add_chain(f, T, name, filter(hook));
    }
    let nat = BaseChain {
        hook: Hook::Postrouting,
        priority: 100,
        kind: ChainKind::Nat,
        policy: Verdict::Accept,
    };
    b.add_chain(f, T, "snat", Some(nat));
    b.add_chain(f, T, "regular", None);
    nft.apply(&b).unwrap();
    assert_eq!(replies(&net, "a", "198.51.100.2", SHORT), 0);

    let out = net["a"]
        .command("nft")
        .unwrap()
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let has = |want: &str| lines.contains(&want);
    assert!(has("table inet netns_test {"), "{text}");
    for hook in ["prerouting", "input", "forward", "output", "postrouting"] {
        let line = format!("type filter hook {hook} priority filter; policy accept;");
        assert!(has(&line), "{line}\n{text}");
    }
    assert!(
        has("type nat hook postrouting priority srcnat; policy accept;"),
        "{text}"
    );
    assert!(has("chain regular {"), "{text}");
    let counted = lines
        .iter()
        .find(|l| l.starts_with("ip daddr 198.51.100.2 counter packets "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(counted.ends_with(" drop comment \"block b\""), "{text}");
    let packets: u64 = counted.split(' ').nth(5).unwrap().parse().unwrap();
    assert!(packets >= 1, "{text}");
    // `nft` folds `meta l4proto udp` and the `th` ports into `udp`.
    assert!(
        has("oifname \"eth0\" ip6 daddr 2001:db8::/64 udp sport 5001 udp dport 5000 accept"),
        "{text}"
    );
    assert!(
        has("iifname \"eth0\" ip saddr 198.51.100.0/24 accept comment \"from the lan\""),
        "{text}"
    );
}

#[test]
fn nft_a_large_batch_is_one_transaction_too() {
    // Over 200 messages, only the last asks for an ack: errors must still
    // be caught, and found where they are.
    let ns = NetNs::new("x").unwrap();
    let mut nft = ns.run(|| Nft::open_here("x")).unwrap().unwrap();
    let f = Family::Inet;
    let port_rules = |chain_of: &dyn Fn(u16) -> &'static str| {
        let mut b = table(f);
        for port in 0..1000 {
            let r = counted_drop(Match::Dport(PortRange::one(port)), "many");
            b.add_rule(f, T, chain_of(port), &r);
        }
        b
    };
    let err = nft
        .apply(&port_rules(&|p| if p == 600 { "missing" } else { "input" }))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Nftables { op, source, .. }
            if op == "add rule inet netns_test missing (rule 1 added to the chain)"
                && source.raw_os_error() == Some(libc::ENOENT)),
        "{err}"
    );
    assert!(!nft.has_table(f, T).unwrap());

    let start = Instant::now();
    nft.apply(&port_rules(&|_| "input")).unwrap();
    let took = start.elapsed();
    let start = Instant::now();
    let rules = nft.list_rules(f, T).unwrap();
    eprintln!(
        "1000 rules: applied in {took:?}, listed in {:?}",
        start.elapsed()
    );
    assert_eq!(rules.len(), 1000);
}

extern "C" fn ignore_signal(_: libc::c_int) {}

/// Whether the thread `tid` of this process is asleep in a socket read
/// (`recv` is `recvfrom` or `recvmsg` in the kernel).
fn blocked_in_recv(tid: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")) else {
        return false;
    };
    let nr = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<libc::c_long>().ok());
    matches!(nr, Some(n) if n == libc::SYS_recvfrom || n == libc::SYS_recvmsg)
}

#[test]
fn a_read_interrupted_by_a_signal_handler_reads_again() {
    // A real-time signal nothing else in the process uses, with a handler
    // installed without SA_RESTART: a blocked read returns EINTR.
    let sig = libc::SIGRTMIN() + 7;
    // SAFETY: zeroed sigaction structs are valid; the handler does nothing
    // (async-signal-safe) and the previous action is put back below.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = ignore_signal as *const () as libc::sighandler_t;
    // SAFETY: both pointers are to live, initialised structs.
    assert_eq!(unsafe { libc::sigaction(sig, &action, &mut old) }, 0);

    let ns = NetNs::new("nft-eintr").expect("create a namespace (run the tests as root)");
    let nft = ns.run(|| Nft::open_here("nft-eintr")).unwrap().unwrap();
    // Nothing will arrive: each read ends when this runs out.
    let wait = Duration::from_millis(500);
    let timeout = nix::sys::time::TimeVal::new(0, wait.as_micros() as _);
    setsockopt(&nft.sock, sockopt::ReceiveTimeout, &timeout).unwrap();
    // The signal comes at least this long into the read.
    let signal_after = Duration::from_millis(100);
    let (kind, took) = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        let nft = &nft;
        let reader = s.spawn(move || {
            // SAFETY: pthread_self has no preconditions.
            let thread = unsafe { libc::pthread_self() };
            let start = Instant::now();
            tx.send((thread, crate::sys::process::gettid(), start))
                .unwrap();
            let kind = nft.recv(0).unwrap_err().kind();
            (kind, start.elapsed())
        });
        let (thread, tid, start) = rx.recv().unwrap();
        // Signalled before it reads, the thread would not be interrupted:
        // wait until it sleeps in the read.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(blocked_in_recv(tid) && start.elapsed() >= signal_after) {
            assert!(
                Instant::now() < deadline,
                "the reader never blocked in recv"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // SAFETY: the reader thread is alive until it is joined below.
        assert_eq!(unsafe { libc::pthread_kill(thread, sig) }, 0);
        reader.join().unwrap()
    });
    // SAFETY: `old` is the action sigaction returned above.
    unsafe { libc::sigaction(sig, &old, std::ptr::null_mut()) };
    // Read again after the signal, it waited its whole timeout once more.
    assert_eq!(kind, io::ErrorKind::WouldBlock);
    assert!(
        took >= signal_after + wait - Duration::from_millis(50),
        "{took:?}"
    );
}
