//! The netns-test benchmark: every figure of issue 7 from one command.
//!
//! ```text
//! cargo bench --bench cycle            # everything (needs root); ~2 min on 2 cores
//! cargo bench --bench cycle -- --quick # every phase with tiny counts (CI smoke run)
//! ```
//!
//! Phase `cycle`: rows measured interleaved (each iteration runs every row
//! once, starting at a rotating row, so machine drift and the kernel's
//! asynchronous namespace cleanup hit all rows alike):
//!
//! | row | what one cycle is |
//! | --- | --- |
//! | `netns-test` | this library: two-host lab (2 namespaces + veth + addresses) + 1 ICMP echo + teardown |
//! | `ip-script` | the same as one bash script of `ip` commands, veth created in place |
//! | `ip-script-moved` | the same, peer moved with `ip link set ... netns` |
//! | `raw-floor` | the same as bare syscalls + hand-encoded rtnetlink, no abstraction |
//! | `router-chain` | library: h1 -- r1 -- h2, forwarding on r1, default routes; build + teardown (no echo) |
//! | `bridge-10` | library: 10 hosts on one bridge (11 namespaces); build + teardown (no echo) |
//! | `links-K` | library: 2 namespaces joined by K parallel veth pairs, K = 1, 2, 4, 8; build + teardown |
//! | `floor-links-K` | raw floor of `links-K`: the kernel's own cost of K veth pairs |
//! | `line-N` | library: N namespaces in a line, N = 2, 4, 8; build + teardown |
//!
//! The slope of `links-K` over K (least squares) is the cost of one extra
//! veth link (`floor-links-K`: the same for bare syscalls); of `line-N` over N, the cost of one extra node with its link.
//! Rows without an echo are checked once, before the warmup, by a build
//! with one echo across them (not timed).
//!
//! Phase `faults` (see `support/faults.rs`): partition and heal of a
//! 10-node lab, beside the same rules made by the `nft` binary; a link's
//! down and up, and the time from `down()` to the kernel refusing a probe; a NAT
//! router's ruleset installed and removed (`support/nat.rs`).
//!
//! Phase `capture` (see `support/capture.rs`): the two-host cycle with
//! capture off and on, and the packet rate a capture keeps up with.
//!
//! Phase `scale` (see `support/scale.rs`): generated labs and the raw
//! floor at 10, 100 and 1,000 nodes, three runs each; a full run writes
//! `docs/scale.svg`.
//!
//! Phase `throughput`: 2,000 `#[netns_test(topology = two_hosts)]` tests
//! (build + 1 echo + teardown) and as many floor cycles, on 1 and on
//! all-cores threads, each on a fresh thread like libtest, the rows taking
//! turns in slices of 200. Phase `memory`: peak RSS with 100 two-host labs
//! alive, in a fresh child process. Phase `stalls`: 2,000 cycles each of
//! `netns-test` and `raw-floor`, alternating; first echoes over 100 ms or lost.
//!
//! ```text
//! cycle [--quick] [--phases cycle,throughput,memory,stalls] [--rows a,b]
//!       [--iters N] [--warmup N] [--tests N] [--threads 1,2] [--labs N]
//!       [--stall-cycles N] [--stall-ms MS]
//! ```
//!
//! `NETNS_BENCH_ITERS` sets the default iteration count of phase `cycle`.
//! Without cargo bench's `--bench` flag (`cargo test --benches`) it runs
//! `--quick`. Without the privileges to create namespaces every phase is
//! skipped with a note.
//!
//! Network safety: every interface lives in a namespace this benchmark made;
//! only 198.51.100.0/24 and 203.0.113.0/24 are used; the run checks that the
//! host gained no interface and no named namespace.

#[path = "support/args.rs"]
mod args;
#[path = "support/capture.rs"]
mod capture;
#[path = "support/faults.rs"]
mod faults;
#[path = "support/floor.rs"]
mod floor;
#[path = "support/floor_scale.rs"]
mod floor_scale;
#[path = "support/ipscript.rs"]
mod ipscript;
#[path = "support/labs.rs"]
mod labs;
#[path = "support/nat.rs"]
mod nat;
#[path = "support/phases.rs"]
mod phases;
#[path = "support/plot.rs"]
mod plot;
#[path = "support/report.rs"]
mod report;
#[path = "support/round2.rs"]
mod round2;
#[path = "support/scale.rs"]
mod scale;
#[path = "support/stats.rs"]
mod stats;
#[path = "support/suite_parse.rs"]
mod suite_parse;
#[path = "support/wire.rs"]
mod wire;

use args::{parse_args, Args, USAGE};
use report::{print_machine, print_targets, report_cycles, Findings};

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use netns_test::Topology;
use stats::StallCounter;

/// What a cycle gets to know about its place in the run.
#[derive(Debug)]
pub struct Ctx {
    /// Iteration number (warmup iterations count too); unique within a run.
    pub iter: usize,
    /// Inode of the host network namespace (`/proc/self/ns/net`).
    pub host_netns_ino: u64,
}

/// One full cycle. `Ok(Some(rtt))`: first echo answered after `rtt`;
/// `Ok(None)`: lab built and torn down but no echo reply (or, for a row
/// that sends none, just built and torn down); `Err`: the cycle broke.
type Cycle = Box<dyn Fn(&Ctx) -> Result<Option<Duration>, String>>;

/// Row 1: this library's two-host cycle.
fn ours_cycle(_ctx: &Ctx) -> Result<Option<Duration>, String> {
    use netns_test::{Net, Topology};
    let topo = Topology::new().link(
        ("a", "veth0", "198.51.100.1/24"),
        ("b", "veth0", "198.51.100.2/24"),
    );
    let net = Net::build(&topo).map_err(|e| e.to_string())?;
    let report = net["a"]
        .ping("198.51.100.2")
        .timeout(labs::PING_TIMEOUT) // same as the floor's
        .run()
        .map_err(|e| e.to_string())?;
    drop(net); // teardown is part of the cycle
    Ok(report.replies.first().map(|r| r.rtt)) // None counts as a stall
}

fn floor_cycle(ctx: &Ctx) -> Result<Option<Duration>, String> {
    floor::cycle(ctx.host_netns_ino, ctx.iter as u16)
}

fn ip_script(variant: ipscript::Variant, ctx: &Ctx) -> Result<Option<Duration>, String> {
    let tag = format!("{}-{}", std::process::id(), ctx.iter);
    ipscript::cycle(&variant.script(), &tag)
}

/// Who provides a row: decides what a failing warmup means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// This library: with privileges, a failure fails the run.
    Ours,
    /// The floor: its failure means no privileges.
    Floor,
    /// External tools: a failure skips the row with a note.
    External,
}

struct RowDef {
    name: String,
    /// `links`, `line` or the row's name: `--rows` accepts either.
    family: &'static str,
    /// K or N of a `links-K`/`line-N` row.
    param: usize,
    /// Whether a cycle sends an echo (echo and stall columns).
    pings: bool,
    kind: Kind,
    run: Cycle,
    /// Why the row cannot run on this machine, checked before the run.
    precheck: fn() -> Result<(), String>,
    /// Once before the warmup: the lab works (one echo across it).
    verify: Option<Box<dyn Fn() -> Result<(), String>>>,
}

const FLOOR: &str = "raw-floor";
const OURS: &str = "netns-test";
const SCRIPT: &str = "ip-script";
const LINKS: [usize; 4] = [1, 2, 4, 8];
const LINE: [usize; 3] = [2, 4, 8];

fn always() -> Result<(), String> {
    Ok(())
}

/// A library row that builds `topo()` and tears it down, verified by one
/// echo `from` a node `to` an address.
fn lab_row(
    name: String,
    family: &'static str,
    param: usize,
    topo: impl Fn() -> Topology + Clone + 'static,
    from: &'static str,
    to: String,
) -> RowDef {
    let t = topo.clone();
    RowDef {
        name,
        family,
        param,
        pings: false,
        kind: Kind::Ours,
        run: Box::new(move |_| labs::cycle(&t(), None)),
        precheck: always,
        verify: Some(Box::new(move || labs::verify(&topo(), from, &to))),
    }
}

fn row_defs() -> Vec<RowDef> {
    let mut rows = vec![
        RowDef {
            name: OURS.into(),
            family: OURS,
            param: 0,
            pings: true,
            kind: Kind::Ours,
            run: Box::new(ours_cycle),
            precheck: always,
            verify: None,
        },
        RowDef {
            name: SCRIPT.into(),
            family: SCRIPT,
            param: 0,
            pings: true,
            kind: Kind::External,
            run: Box::new(|c| ip_script(ipscript::Variant::InPlace, c)),
            precheck: ipscript::available,
            verify: None,
        },
        RowDef {
            name: "ip-script-moved".into(),
            family: "ip-script-moved",
            param: 0,
            pings: true,
            kind: Kind::External,
            run: Box::new(|c| ip_script(ipscript::Variant::Moved, c)),
            precheck: ipscript::available,
            verify: None,
        },
        RowDef {
            name: FLOOR.into(),
            family: FLOOR,
            param: 0,
            pings: true,
            kind: Kind::Floor,
            run: Box::new(floor_cycle),
            precheck: always,
            verify: None,
        },
        lab_row(
            "router-chain".into(),
            "router-chain",
            0,
            labs::router_chain,
            "h1",
            "203.0.113.1".into(),
        ),
        lab_row(
            "bridge-10".into(),
            "bridge-10",
            10,
            || labs::bridge(10),
            "h1",
            "198.51.100.10".into(),
        ),
    ];
    for k in LINKS {
        rows.push(lab_row(
            format!("links-{k}"),
            "links",
            k,
            move || labs::parallel_links(k),
            "a",
            // b's end of the last link
            format!("198.51.100.{}", 4 * (k - 1) + 2),
        ));
    }
    for k in LINKS {
        rows.push(RowDef {
            name: format!("floor-links-{k}"),
            family: "floor-links",
            param: k,
            pings: false,
            kind: Kind::Floor,
            run: Box::new(move |c| floor::links_cycle(c.host_netns_ino, k)),
            precheck: always,
            verify: None,
        });
    }
    for n in LINE {
        rows.push(lab_row(
            format!("line-{n}"),
            "line",
            n,
            move || labs::line(n),
            // the last node's left neighbour pings it
            ["n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"][n - 2],
            format!("198.51.100.{}", 4 * (n - 2) + 2),
        ));
    }
    rows
}

struct Row {
    name: String,
    family: &'static str,
    param: usize,
    pings: bool,
    kind: Kind,
    run: Cycle,
    times: Vec<Duration>,
    echoes: Vec<Duration>,
    stalls: StallCounter,
    /// Measured iterations (0-based) whose first echo stalled.
    stalled_at: Vec<usize>,
    failed: usize,
    first_error: Option<String>,
}

/// Interface names in the host namespace (this process's main thread).
fn host_links() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn main() -> ExitCode {
    // The memory phase's child: a fresh process, so its peak RSS is its own.
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(phases::MEMORY_CHILD_FLAG) {
        let n = argv.get(2).and_then(|v| v.parse().ok()).unwrap_or(100);
        return match phases::memory_child(n) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("memory child: {e}");
                ExitCode::FAILURE
            }
        };
    }

    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let host_netns_ino = match floor::host_netns_inode() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cannot read /proc/self/ns/net: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Privileges: the floor is the simplest thing that needs them.
    if let Err(e) = floor::cycle(host_netns_ino, 0) {
        println!("note: every phase skipped: cannot build even the raw floor's lab: {e}");
        println!("(run as root, or with CAP_SYS_ADMIN + CAP_NET_ADMIN + CAP_NET_RAW)");
        return ExitCode::SUCCESS;
    }
    let links_before = host_links();
    let run_netns_before = ipscript::run_netns_now();
    if ipscript::available().is_ok() {
        ipscript::remove_stale();
    }
    print_machine(&args);

    let mut ok = true;
    let mut findings = Findings::default();
    let started = Instant::now();
    if args.phases.iter().any(|p| p == "cycle") {
        ok &= cycle_phase(&args, host_netns_ino, &mut findings);
    }
    if args.phases.iter().any(|p| p == "throughput") {
        let floor_job = |i: usize| match floor::cycle_on_fresh_thread(host_netns_ino, i as u16) {
            Ok((Some(_), cpu)) => Ok(cpu),
            Ok((None, _)) => Err("no echo reply".to_string()),
            Err(e) => Err(e),
        };
        let mut runs = Vec::new();
        for &t in &args.threads {
            let rows: [phases::Row<'_>; 2] = [(OURS, &phases::netns_test_job), (FLOOR, &floor_job)];
            eprintln!(
                "throughput: {} jobs of each row on {t} thread(s)",
                args.tests
            );
            runs.extend(phases::throughput(&rows, args.tests, t));
        }
        phases::print_throughput(&runs);
        ok &= runs.iter().all(|r| r.passed == r.jobs);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let ours: Vec<_> = runs.iter().filter(|r| r.name == OURS).collect();
        findings.throughput = ours
            .iter()
            .find(|r| r.threads == cores)
            .or_else(|| ours.iter().max_by_key(|r| r.threads))
            .map(|r| (r.threads, r.per_second()));
    }
    if args.phases.iter().any(|p| p == "memory") {
        eprintln!("memory: {} labs alive in a child process", args.labs);
        match phases::memory(args.labs) {
            Ok(m) => {
                phases::print_memory(&m);
                findings.per_lab_kib = Some(m.per_lab_kib());
            }
            Err(e) => {
                println!("memory phase failed: {e}");
                ok = false;
            }
        }
    }
    if args.phases.iter().any(|p| p == "stalls") {
        eprintln!(
            "stalls: {} cycles each of {OURS} and {FLOOR}",
            args.stall_cycles
        );
        let ours = |_i: usize| {
            ours_cycle(&Ctx {
                iter: 0,
                host_netns_ino,
            })
        };
        let floor = |i: usize| floor::cycle(host_netns_ino, i as u16);
        let rows = phases::stalls(
            &[(OURS, &ours), (FLOOR, &floor)],
            args.stall_cycles,
            args.stall,
        );
        phases::print_stalls(&rows);
        ok &= rows.iter().all(|r| r.failed == 0);
        findings.stalls = rows
            .iter()
            .find(|r| r.name == OURS)
            .map(|r| (r.counter.stalls(), r.counter.cycles));
    }
    ok &= round2::run(&args, host_netns_ino);
    ok &= suite_parse::run_phase(&args);
    print_targets(&findings);
    println!();
    println!(
        "total {:.1} s{}",
        started.elapsed().as_secs_f64(),
        if args.quick {
            " (--quick: counts too small for the figures to mean anything)"
        } else {
            ""
        }
    );

    // `ip netns add` (the shell baseline) mounts /run/netns on a machine
    // where nothing did yet: take that back.
    ipscript::restore_run_netns(run_netns_before);
    // Safety check: the host must not have gained anything.
    let new_links: Vec<String> = host_links().difference(&links_before).cloned().collect();
    if !new_links.is_empty() {
        eprintln!("SAFETY: new interfaces in the host namespace: {new_links:?}");
        ok = false;
    }
    let left = ipscript::leftovers();
    let mine = format!("{}{}-", ipscript::NAME_PREFIX, std::process::id());
    let mine: Vec<&String> = left.iter().filter(|n| n.starts_with(&mine)).collect();
    if !mine.is_empty() {
        eprintln!("SAFETY: named namespaces left behind: {mine:?}");
        ok = false;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Phase `cycle`: the interleaved rows. Returns false if a row broke.
fn cycle_phase(args: &Args, host_netns_ino: u64, findings: &mut Findings) -> bool {
    let defs = row_defs();
    if let Some(want) = &args.rows {
        for w in want {
            if !defs.iter().any(|d| d.name == *w || d.family == w) {
                eprintln!("error: unknown row `{w}`\n{USAGE}");
                return false;
            }
        }
    }
    let mut ok = true;
    let mut rows = Vec::new();
    for d in defs {
        if args
            .rows
            .as_ref()
            .is_some_and(|w| !w.iter().any(|w| *w == d.name || w == d.family))
        {
            continue;
        }
        if let Err(why) = (d.precheck)() {
            println!("note: row `{}` skipped: {why}", d.name);
            continue;
        }
        if let Some(verify) = &d.verify {
            if let Err(e) = verify() {
                println!("row `{}`: verification failed: {e}", d.name);
                ok = false;
                continue;
            }
        }
        rows.push(Row {
            name: d.name,
            family: d.family,
            param: d.param,
            pings: d.pings,
            kind: d.kind,
            run: d.run,
            times: Vec::with_capacity(args.iters),
            echoes: Vec::with_capacity(args.iters),
            stalls: StallCounter::new(args.stall),
            stalled_at: Vec::new(),
            failed: 0,
            first_error: None,
        });
    }

    // Warmup: not recorded. An external row whose warmup breaks is dropped
    // with a note; a library row's failure fails the run.
    let mut iter = 0usize;
    for _ in 0..args.warmup {
        rows.retain(|r| {
            let ctx = Ctx {
                iter,
                host_netns_ino,
            };
            match (r.run)(&ctx) {
                Ok(_) => true,
                Err(e) => {
                    if r.kind == Kind::External {
                        println!("note: row `{}` skipped: warmup cycle failed: {e}", r.name);
                    } else {
                        println!("row `{}`: warmup cycle failed: {e}", r.name);
                        ok = false;
                    }
                    false
                }
            }
        });
        iter += 1;
    }
    if rows.is_empty() {
        println!("no row to run");
        return ok;
    }
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    eprintln!(
        "cycle: {} interleaved iterations of: {}",
        args.iters,
        names.join(", ")
    );

    // Measurement, interleaved in a fresh seeded order each iteration.
    let started = Instant::now();
    let n = rows.len();
    for i in 0..args.iters {
        for k in stats::run_order(i, n) {
            let r = &mut rows[k];
            let ctx = Ctx {
                iter,
                host_netns_ino,
            };
            let t0 = Instant::now();
            let res = (r.run)(&ctx);
            let dt = t0.elapsed();
            match res {
                Ok(echo) => {
                    r.times.push(dt);
                    if r.pings {
                        r.echoes.extend(echo);
                        r.stalls.record(echo);
                        if echo.is_none_or(|e| e > args.stall) {
                            r.stalled_at.push(i);
                        }
                    }
                }
                Err(e) => {
                    r.failed += 1;
                    r.first_error.get_or_insert(e);
                }
            }
        }
        iter += 1;
    }
    let wall = started.elapsed();
    report_cycles(&rows, args, wall, findings);
    ok && rows.iter().all(|r| r.failed == 0)
}
