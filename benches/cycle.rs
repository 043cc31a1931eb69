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
//! Phase `throughput`: 1,000 `#[netns_test(topology = two_hosts)]` tests
//! (build + 1 echo + teardown) on 1 and on all-cores threads, each test on a
//! fresh thread like libtest. Phase `memory`: peak RSS with 100 two-host labs
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

#[path = "support/floor.rs"]
mod floor;
#[path = "support/ipscript.rs"]
mod ipscript;
#[path = "support/labs.rs"]
mod labs;
#[path = "support/phases.rs"]
mod phases;
#[path = "support/stats.rs"]
mod stats;

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use netns_test::Topology;
use stats::{ms, ratio, StallCounter, Summary};

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

const PHASES: [&str; 4] = ["cycle", "throughput", "memory", "stalls"];

struct Args {
    quick: bool,
    phases: Vec<String>,
    iters: usize,
    warmup: usize,
    rows: Option<Vec<String>>,
    stall: Duration,
    tests: usize,
    threads: Vec<usize>,
    labs: usize,
    stall_cycles: usize,
}

const USAGE: &str = "usage: cycle [--quick] [--all] [--phases cycle,throughput,memory,stalls]
             [--rows a,b,...] [--iters N] [--warmup N] [--tests N] [--threads 1,2]
             [--labs N] [--stall-cycles N] [--stall-ms MS]
  rows:   netns-test, ip-script, ip-script-moved, raw-floor, router-chain, bridge-10,
          links (links-1,2,4,8), floor-links (floor-links-1,2,4,8), line (line-2,4,8),
          or one of those by name
  counts: --iters 200 (--quick 3), --tests 1000 (20), --labs 100 (5),
          --stall-cycles 2000 (10), --threads 1,<cores>
  env:    NETNS_BENCH_ITERS=N sets the default of --iters";

fn parse_args() -> Result<Args, String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let env_iters = std::env::var("NETNS_BENCH_ITERS").ok();
    // Like libtest: without `--bench` (cargo test --benches) just smoke-run.
    let mut quick = !argv.iter().any(|a| a == "--bench");
    let mut iters: Option<usize> = None;
    let mut warmup: Option<usize> = None;
    let mut tests: Option<usize> = None;
    let mut labs_n: Option<usize> = None;
    let mut stall_cycles: Option<usize> = None;
    let mut threads: Option<Vec<usize>> = None;
    let mut rows = None;
    let mut phases: Vec<String> = PHASES.iter().map(|s| s.to_string()).collect();
    let mut stall = Duration::from_millis(100);
    let mut it = argv.iter();
    let num = |v: Option<&String>, flag: &str| -> Result<usize, String> {
        v.ok_or_else(|| format!("{flag} needs a value"))?
            .parse()
            .map_err(|e| format!("{flag}: {e}"))
    };
    let list = |v: Option<&String>, flag: &str| -> Result<Vec<String>, String> {
        Ok(v.ok_or_else(|| format!("{flag} needs a value"))?
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect())
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" | "--all" => {}
            "--quick" => quick = true,
            "--iters" => iters = Some(num(it.next(), "--iters")?),
            "--warmup" => warmup = Some(num(it.next(), "--warmup")?),
            "--tests" => tests = Some(num(it.next(), "--tests")?),
            "--labs" => labs_n = Some(num(it.next(), "--labs")?),
            "--stall-cycles" => stall_cycles = Some(num(it.next(), "--stall-cycles")?),
            "--stall-ms" => stall = Duration::from_millis(num(it.next(), "--stall-ms")? as u64),
            "--threads" => {
                let v = list(it.next(), "--threads")?;
                threads = Some(
                    v.iter()
                        .map(|s| s.parse().map_err(|e| format!("--threads: {e}")))
                        .collect::<Result<_, String>>()?,
                );
            }
            "--rows" => rows = Some(list(it.next(), "--rows")?),
            "--phases" => {
                phases = list(it.next(), "--phases")?;
                if let Some(bad) = phases.iter().find(|p| !PHASES.contains(&p.as_str())) {
                    return Err(format!("unknown phase `{bad}`"));
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let iters = match (iters, quick, env_iters) {
        (Some(n), _, _) => n,
        (None, true, _) => 3,
        (None, false, Some(v)) => v.parse().map_err(|e| format!("NETNS_BENCH_ITERS: {e}"))?,
        (None, false, None) => 200,
    };
    let pick =
        |v: Option<usize>, full: usize, small: usize| v.unwrap_or(if quick { small } else { full });
    let labs_n = pick(labs_n, 100, 5);
    if labs_n == 0 {
        return Err("--labs must be at least 1".into());
    }
    let mut threads = threads.unwrap_or_else(|| vec![1, cores]);
    threads.dedup();
    Ok(Args {
        quick,
        phases,
        iters,
        warmup: pick(warmup, 5, 1),
        rows,
        stall,
        tests: pick(tests, 1000, 20),
        threads,
        labs: labs_n,
        stall_cycles: pick(stall_cycles, 2000, 10),
    })
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

/// What the final summary needs from the phases.
#[derive(Default)]
struct Findings {
    ours: Option<Summary>,
    floor: Option<Summary>,
    script: Option<Summary>,
    link_slope: Option<f64>,
    floor_link_slope: Option<f64>,
    throughput: Option<(usize, f64)>,
    stalls: Option<(usize, usize)>,
    per_lab_kib: Option<f64>,
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
        let floor_job = |i: usize| match floor::cycle(host_netns_ino, i as u16) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err("no echo reply".to_string()),
            Err(e) => Err(e),
        };
        let mut runs = Vec::new();
        for &t in &args.threads {
            for (name, job) in [
                (
                    OURS,
                    &phases::netns_test_job as &(dyn Fn(usize) -> _ + Sync),
                ),
                (FLOOR, &floor_job),
            ] {
                eprintln!("throughput: {} {name} jobs on {t} thread(s)", args.tests);
                runs.push(phases::throughput(name, args.tests, t, job));
            }
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

fn print_machine(args: &Args) {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                Some(
                    l.strip_prefix("model name")?
                        .split_once(':')?
                        .1
                        .trim()
                        .to_string(),
                )
            })
        })
        .unwrap_or_else(|| "?".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    println!(
        "machine: {cpus} CPUs ({model}), kernel {kernel}, load average {load} at start{}",
        if args.quick { "; --quick" } else { "" }
    );
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

    // Measurement, interleaved with a rotating starting row.
    let started = Instant::now();
    let n = rows.len();
    for i in 0..args.iters {
        for k in 0..n {
            let r = &mut rows[(i + k) % n];
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

fn report_cycles(rows: &[Row], args: &Args, wall: Duration, findings: &mut Findings) {
    let summary_of = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .and_then(|r| Summary::of(&r.times))
    };
    let floor = summary_of(FLOOR);
    findings.floor = floor;
    findings.ours = summary_of(OURS);
    findings.script = summary_of(SCRIPT);

    println!();
    println!(
        "Cycles: {} interleaved iterations (+{} warmup) of every row, {:.1} s. \
         Two-host rows: 2 namespaces + veth + addresses + links up + 1 ICMP echo + teardown; \
         the others: build + teardown, no echo.",
        args.iters,
        args.warmup,
        wall.as_secs_f64()
    );
    println!();
    println!(
        "| row | cycles | median ms | min ms | p90 ms | max ms | median / floor | p90 / floor \
         | first echo median µs | stalls (echo > {} ms or none) | failed |",
        args.stall.as_millis()
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let (echo_us, stalls) = if r.pings {
            (
                stats::percentile(&stats::sorted_ms(&r.echoes), 0.5)
                    .map_or("–".into(), |m| format!("{:.0}", m * 1e3)),
                r.stalls.stalls().to_string(),
            )
        } else {
            ("–".into(), "–".into())
        };
        match Summary::of(&r.times) {
            Some(s) => println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.name,
                s.n,
                ms(s.median),
                ms(s.min),
                ms(s.p90),
                ms(s.max),
                ratio(s.median, floor.map(|f| f.median)),
                ratio(s.p90, floor.map(|f| f.p90)),
                echo_us,
                stalls,
                r.failed
            ),
            None => println!(
                "| {} | 0 | – | – | – | – | – | – | – | – | {} |",
                r.name, r.failed
            ),
        }
    }
    println!();
    for r in rows {
        if let Some(w) = r.stalls.worst.filter(|w| *w > r.stalls.threshold) {
            println!(
                "{}: worst first echo {:.1} ms",
                r.name,
                w.as_secs_f64() * 1e3
            );
        }
        if let Some(e) = &r.first_error {
            println!("{}: {} failed cycles, first error: {e}", r.name, r.failed);
        }
    }
    // Stalls of several rows in the same iterations point at the machine
    // (or kernel) rather than at a row.
    for r in rows.iter().filter(|r| !r.stalled_at.is_empty()) {
        let shown: Vec<String> = r
            .stalled_at
            .iter()
            .take(20)
            .map(|i| i.to_string())
            .collect();
        println!(
            "{}: stalled in iterations {}{}",
            r.name,
            shown.join(", "),
            if r.stalled_at.len() > 20 { ", ..." } else { "" }
        );
    }
    if let (Some(ours), Some(script)) = (findings.ours, findings.script) {
        println!(
            "ip-script / netns-test: {:.1}× at the median, {:.1}× at p90",
            script.median / ours.median,
            script.p90 / ours.p90
        );
    }

    // Marginal costs: least squares over the rows of one family.
    let mut slopes = Vec::new();
    for (family, unit, x_name) in [
        ("links", "ms per extra veth link", "K links"),
        ("floor-links", "ms per extra veth link", "K links"),
        ("line", "ms per extra node + link", "N nodes"),
    ] {
        let fam: Vec<(f64, Summary)> = rows
            .iter()
            .filter(|r| r.family == family)
            .filter_map(|r| Some((r.param as f64, Summary::of(&r.times)?)))
            .collect();
        let fit = |f: fn(&Summary) -> f64| {
            stats::least_squares(&fam.iter().map(|(x, s)| (*x, f(s))).collect::<Vec<_>>())
        };
        if let (Some((med, med0)), Some((min, _))) = (fit(|s| s.median), fit(|s| s.min)) {
            slopes.push((family, unit, x_name, med, med0, min));
            match family {
                "links" => findings.link_slope = Some(med),
                "floor-links" => findings.floor_link_slope = Some(med),
                _ => {}
            }
        }
    }
    if !slopes.is_empty() {
        println!();
        println!(
            "Marginal cost (least-squares slope over the rows' medians, and over their minimums):"
        );
        println!();
        println!("| rows | slope of medians | intercept ms | slope of minimums |");
        println!("| --- | ---: | ---: | ---: |");
        for (family, unit, x_name, med, med0, min) in slopes {
            println!(
                "| {family}-* (x = {x_name}) | {med:.3} {unit} | {med0:.3} | {min:.3} {unit} |"
            );
        }
    }
}

fn print_targets(f: &Findings) {
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "–",
    };
    let mut lines: Vec<(String, String, &str, &str)> = Vec::new();
    let x = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}×"));
    let med_ratio = f.ours.zip(f.floor).map(|(o, fl)| o.median / fl.median);
    lines.push((
        "netns-test median / raw-floor median".into(),
        x(med_ratio),
        "≤ 1.3×",
        verdict(med_ratio.map(|r| r <= 1.3)),
    ));
    let p90_ratio = f.ours.zip(f.floor).map(|(o, fl)| o.p90 / fl.p90);
    lines.push((
        "netns-test p90 / raw-floor p90".into(),
        x(p90_ratio),
        "≤ 2×",
        verdict(p90_ratio.map(|r| r <= 2.0)),
    ));
    let speedup = f.ours.zip(f.script).map(|(o, s)| s.median / o.median);
    lines.push((
        "ip-script median / netns-test median".into(),
        x(speedup),
        "≥ 10×",
        verdict(speedup.map(|r| r >= 10.0)),
    ));
    lines.push((
        match f.stalls {
            Some((_, n)) => format!("netns-test stalls over {n} cycles"),
            None => "netns-test stalls".into(),
        },
        f.stalls.map_or("–".into(), |(s, _)| s.to_string()),
        "0",
        verdict(f.stalls.map(|(s, _)| s == 0)),
    ));
    lines.push((
        "extra veth link (slope of medians)".into(),
        match (f.link_slope, f.floor_link_slope) {
            (Some(s), Some(fl)) => format!("{s:.3} ms (raw floor: {fl:.3} ms)"),
            (Some(s), None) => format!("{s:.3} ms"),
            _ => "–".into(),
        },
        "≤ 0.5 ms",
        verdict(f.link_slope.map(|s| s <= 0.5)),
    ));
    lines.push((
        match f.throughput {
            Some((t, _)) => format!("throughput on {t} threads"),
            None => "throughput".into(),
        },
        f.throughput
            .map_or("–".into(), |(_, r)| format!("{r:.0} tests/s")),
        "≥ 300 tests/s",
        verdict(f.throughput.map(|(_, r)| r >= 300.0)),
    ));
    lines.push((
        "memory per live two-host lab (RSS)".into(),
        f.per_lab_kib.map_or("–".into(), |k| format!("{k:.1} KiB")),
        "–",
        "–",
    ));
    println!();
    println!("Targets (issue 7):");
    println!();
    println!("| figure | measured | target | |");
    println!("| --- | ---: | ---: | --- |");
    for (what, v, target, met) in lines {
        println!("| {what} | {v} | {target} | {met} |");
    }
}
