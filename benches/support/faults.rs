//! Phase `faults`: what a fault costs and how fast it bites.
//!
//! | row | what is timed |
//! | --- | --- |
//! | `partition-10` | `net.partition(half, half)` on a 10-node chain: the rules in every node, one transaction each |
//! | `heal-10` | dropping that partition: the rules (and our table) removed |
//! | `nft-binary-10` | the same partition as `nft -f -` run inside each node (the way `nft`-based tools do it), where `nft` is installed |
//! | `link-down` | `link.down()`: both ends of a veth down, acked by the kernel |
//! | `down-to-loss` | from the start of `down()` to n1's kernel refusing a UDP datagram to n2 sent right after it (`ENETUNREACH`: the subnet's route left with the link; checked every time) |
//! | `link-up` | the guard's drop: both ends up again |
//!
//! Then the NAT rows of `nat.rs`: a NAT router's ruleset installed and
//! removed, beside `nft -f`.

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::process::Stdio;
use std::time::{Duration, Instant};

use netns_test::{Net, Topology};

use crate::stats::Summary;

/// One row: its name and the times measured.
pub(crate) struct FaultRow {
    pub(crate) name: &'static str,
    pub(crate) nodes: usize,
    pub(crate) times: Vec<Duration>,
}

fn nft_binary() -> Option<&'static str> {
    ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// The same rules as `net.partition(a, b)`, as an `nft` script for one node
/// that drops what it receives from `from`: a set of its addresses per
/// family, and a rule per set.
fn script(from: &[std::net::IpAddr]) -> String {
    let mut s = String::from(
        "add table inet bench\nadd chain inet bench input { type filter hook input priority -10; }\n",
    );
    for (fam, tag, kind) in [("ip", 4, "ipv4_addr"), ("ip6", 6, "ipv6_addr")] {
        let addrs: Vec<String> = from
            .iter()
            .filter(|a| a.is_ipv4() == (tag == 4))
            .map(|a| a.to_string())
            .collect();
        if addrs.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "add set inet bench from{tag} {{ type {kind}; }}\n\
             add element inet bench from{tag} {{ {} }}\n\
             add rule inet bench input {fam} saddr @from{tag} counter drop\n",
            addrs.join(", ")
        ));
    }
    s
}

/// Runs `nft -f -` with `script` inside `node` (the way `nft`-based tools
/// load rules).
pub(crate) fn nft_file(node: &netns_test::Node, nft: &str, script: &str) -> Result<(), String> {
    run_nft(node, nft, &["-f", "-"], script)
}

/// Whether `nft` reads `script` (`nft -c -f -` inside `node`, which
/// changes nothing); its first complaint if not.
pub(crate) fn nft_reads(node: &netns_test::Node, nft: &str, script: &str) -> Result<(), String> {
    run_nft(node, nft, &["-c", "-f", "-"], script)
}

/// Runs `nft ARGS` inside `node` with `script` on its standard input.
fn run_nft(node: &netns_test::Node, nft: &str, args: &[&str], script: &str) -> Result<(), String> {
    let mut child = node
        .command(nft)
        .map_err(|e| e.to_string())?
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(script.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().find(|l| l.contains("Error")).unwrap_or("");
        return Err(format!(
            "nft {} failed in {}: {}: {first}",
            args.join(" "),
            node.name(),
            out.status
        ));
    }
    Ok(())
}

/// One `down-to-loss` figure: from `t` (the start of `down()`) to `probe`'s
/// datagram to `dst` being refused by its node's kernel with
/// `ENETUNREACH`, which a link taken down gives at once (its subnet's route
/// goes with it). A datagram sent, or refused for another reason, is an
/// error: the row counts only that loss.
pub(crate) fn lost_at(probe: &UdpSocket, dst: SocketAddr, t: Instant) -> Result<Duration, String> {
    match probe.send_to(&[0u8; 8], dst) {
        Err(e) if e.raw_os_error() == Some(libc::ENETUNREACH) => Ok(t.elapsed()),
        Err(e) => Err(format!(
            "the probe to {dst} failed, but not as unreachable: {e}"
        )),
        Ok(_) => Err(format!("the probe to {dst} was sent: the link is not down")),
    }
}

pub(crate) fn run(iters: usize) -> Result<Vec<FaultRow>, String> {
    let net = Net::build(&Topology::chain(10)).map_err(|e| e.to_string())?;
    let names: Vec<String> = net.nodes().iter().map(|n| n.name().to_string()).collect();
    let (a, b) = names.split_at(5);
    let (a, b) = (a.to_vec(), b.to_vec());
    let mut rows: Vec<FaultRow> = vec![
        FaultRow {
            name: "partition-10",
            nodes: 10,
            times: Vec::new(),
        },
        FaultRow {
            name: "heal-10",
            nodes: 10,
            times: Vec::new(),
        },
    ];
    for _ in 0..iters {
        let t = Instant::now();
        let p = net
            .partition(a.clone(), b.clone())
            .map_err(|e| e.to_string())?;
        rows[0].times.push(t.elapsed());
        let t = Instant::now();
        p.heal().map_err(|e| e.to_string())?;
        rows[1].times.push(t.elapsed());
    }
    if let Some(nft) = nft_binary() {
        let addrs = |set: &[String]| -> Vec<std::net::IpAddr> {
            set.iter()
                .flat_map(|n| {
                    net[n.as_str()]
                        .declared_addrs()
                        .iter()
                        .map(|(_, a)| a.addr())
                })
                .collect()
        };
        let (from_a, from_b) = (addrs(&a), addrs(&b));
        let mut row = FaultRow {
            name: "nft-binary-10",
            nodes: 10,
            times: Vec::new(),
        };
        for _ in 0..iters {
            let t = Instant::now();
            for (nodes, from) in [(&b, &from_a), (&a, &from_b)] {
                for n in nodes {
                    nft_file(&net[n.as_str()], nft, &script(from))?;
                }
            }
            row.times.push(t.elapsed());
            for n in &names {
                let _ = net[n.as_str()]
                    .command(nft)
                    .map_err(|e| e.to_string())?
                    .args(["delete", "table", "inet", "bench"])
                    .stderr(Stdio::null())
                    .status();
            }
        }
        rows.push(row);
    }
    drop(net);

    let pair = Net::build(&Topology::new().link(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    ))
    .map_err(|e| e.to_string())?;
    let link = pair.link("n1", "n2").map_err(|e| e.to_string())?;
    let probe = pair["n1"]
        .run(|| UdpSocket::bind("198.51.100.1:0"))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let n2: SocketAddr = "198.51.100.2:9".parse().expect("an address");
    let mut down = FaultRow {
        name: "link-down",
        nodes: 2,
        times: Vec::new(),
    };
    let mut loss = FaultRow {
        name: "down-to-loss",
        nodes: 2,
        times: Vec::new(),
    };
    let mut up = FaultRow {
        name: "link-up",
        nodes: 2,
        times: Vec::new(),
    };
    for _ in 0..iters {
        let t = Instant::now();
        let guard = link.down().map_err(|e| e.to_string())?;
        down.times.push(t.elapsed());
        loss.times.push(lost_at(&probe, n2, t)?);
        let t = Instant::now();
        drop(guard);
        up.times.push(t.elapsed());
    }
    rows.extend([down, loss, up]);
    drop(pair);
    rows.extend(crate::nat::run(iters, nft_binary())?);
    Ok(rows)
}

pub(crate) fn print(rows: &[FaultRow]) {
    println!();
    println!("phase faults (median, p90; per node where it applies)");
    println!(
        "  {:<14} {:>10} {:>10} {:>12}",
        "row", "median", "p90", "per node"
    );
    for r in rows {
        let Some(s) = Summary::of(&r.times) else {
            continue;
        };
        println!(
            "  {:<14} {:>7.3} ms {:>7.3} ms {:>9.3} ms",
            r.name,
            s.median,
            s.p90,
            s.median / r.nodes as f64
        );
    }
}
