//! Cycle benchmark: build a two-host lab (two network namespaces joined by a
//! veth pair, 198.51.100.1/24 and .2/24), send one ICMP echo, tear down.
//!
//! Rows, measured interleaved in one run (each iteration runs every row once,
//! starting at a rotating row, so machine drift and the kernel's asynchronous
//! namespace cleanup hit all rows alike):
//!
//! | row | what |
//! | --- | --- |
//! | `netns-test` | this library (wired by the lead; skipped until then) |
//! | `ip-script` | one bash script of `ip` commands, veth created in place |
//! | `ip-script-moved` | the same, peer moved with `ip link set ... netns` |
//! | `raw-floor` | bare syscalls + hand-encoded rtnetlink, no abstraction |
//!
//! Usage (needs root, or CAP_SYS_ADMIN + CAP_NET_ADMIN + CAP_NET_RAW):
//!
//! ```text
//! cargo bench --bench cycle -- [--iters N] [--warmup N] [--quick]
//!                              [--rows a,b] [--stall-ms MS]
//! ```
//!
//! `NETNS_BENCH_ITERS` sets the default iteration count. Without cargo
//! bench's `--bench` flag (e.g. `cargo test --benches`) it runs `--quick`.
//! The peak RSS printed at the end is the whole process's; run one row alone
//! with `--rows` to attribute it.
//!
//! Network safety: every interface lives in a namespace this benchmark made;
//! only 198.51.100.0/24 is used; the run checks that the host gained no
//! interface and no named namespace.

#[path = "support/floor.rs"]
mod floor;
#[path = "support/ipscript.rs"]
mod ipscript;
#[path = "support/stats.rs"]
mod stats;

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use stats::{ms, ratio, StallCounter, Summary};

/// What a cycle gets to know about its place in the run.
pub struct Ctx {
    /// Iteration number (warmup iterations count too); unique within a run.
    pub iter: usize,
    /// Inode of the host network namespace (`/proc/self/ns/net`).
    pub host_netns_ino: u64,
}

/// One full cycle. `Ok(Some(rtt))`: first echo answered after `rtt`;
/// `Ok(None)`: lab built and torn down but the echo got no reply;
/// `Err`: the cycle broke.
type CycleFn = fn(&Ctx) -> Result<Option<Duration>, String>;

// ===========================================================================
// Row "netns-test": this library's cycle. Wired by the lead: fill in the
// body with the library API (build the two-host lab, one ICMP echo from the
// first host to 198.51.100.2, drop the lab), return the first echo's RTT,
// then set `OURS` to `Some(ours_cycle)` and remove the `allow`. With the API
// as it stands while this is written, the body would be about:
//
//     use netns_test::{topology::Topology, Net};
//     let topo = Topology::new().link(
//         ("a", "veth0", "198.51.100.1/24"),
//         ("b", "veth0", "198.51.100.2/24"),
//     );
//     let net = Net::build(&topo).map_err(|e| e.to_string())?;
//     let report = net["a"]
//         .ping("198.51.100.2")
//         .timeout(Duration::from_secs(2)) // same as the floor's
//         .run()
//         .map_err(|e| e.to_string())?;
//     drop(net); // teardown is part of the cycle
//     Ok(report.replies.first().map(|r| r.rtt)) // None counts as a stall
// ===========================================================================

fn ours_cycle(_ctx: &Ctx) -> Result<Option<Duration>, String> {
    use netns_test::{Net, Topology};
    let topo = Topology::new().link(
        ("a", "veth0", "198.51.100.1/24"),
        ("b", "veth0", "198.51.100.2/24"),
    );
    let net = Net::build(&topo).map_err(|e| e.to_string())?;
    let report = net["a"]
        .ping("198.51.100.2")
        .timeout(Duration::from_secs(2)) // same as the floor's
        .run()
        .map_err(|e| e.to_string())?;
    drop(net); // teardown is part of the cycle
    Ok(report.replies.first().map(|r| r.rtt)) // None counts as a stall
}

const OURS: Option<CycleFn> = Some(ours_cycle);

// ===========================================================================

fn floor_cycle(ctx: &Ctx) -> Result<Option<Duration>, String> {
    floor::cycle(ctx.host_netns_ino, ctx.iter as u16)
}

fn ip_script_cycle(ctx: &Ctx) -> Result<Option<Duration>, String> {
    ip_script(ipscript::Variant::InPlace, ctx)
}

fn ip_script_moved_cycle(ctx: &Ctx) -> Result<Option<Duration>, String> {
    ip_script(ipscript::Variant::Moved, ctx)
}

fn ip_script(variant: ipscript::Variant, ctx: &Ctx) -> Result<Option<Duration>, String> {
    let tag = format!("{}-{}", std::process::id(), ctx.iter);
    ipscript::cycle(&variant.script(), &tag)
}

struct RowDef {
    name: &'static str,
    run: Option<CycleFn>,
    /// Why the row cannot run on this machine, checked before the run.
    precheck: fn() -> Result<(), String>,
}

const FLOOR: &str = "raw-floor";

fn row_defs() -> Vec<RowDef> {
    fn always() -> Result<(), String> {
        Ok(())
    }
    vec![
        RowDef {
            name: "netns-test",
            run: OURS,
            precheck: always,
        },
        RowDef {
            name: "ip-script",
            run: Some(ip_script_cycle),
            precheck: ipscript::available,
        },
        RowDef {
            name: "ip-script-moved",
            run: Some(ip_script_moved_cycle),
            precheck: ipscript::available,
        },
        RowDef {
            name: FLOOR,
            run: Some(floor_cycle),
            precheck: always,
        },
    ]
}

struct Row {
    name: &'static str,
    run: CycleFn,
    times: Vec<Duration>,
    echoes: Vec<Duration>,
    stalls: StallCounter,
    failed: usize,
    first_error: Option<String>,
}

struct Args {
    iters: usize,
    warmup: usize,
    rows: Option<Vec<String>>,
    stall: Duration,
}

const USAGE: &str =
    "usage: cycle [--iters N] [--warmup N] [--quick] [--rows a,b,...] [--stall-ms MS]
  rows: netns-test, ip-script, ip-script-moved, raw-floor
  env:  NETNS_BENCH_ITERS=N (default 200; --quick = 5)";

fn parse_args() -> Result<Args, String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let env_iters = std::env::var("NETNS_BENCH_ITERS").ok();
    // Like libtest: without `--bench` (cargo test --benches) just smoke-run.
    let mut quick = !argv.iter().any(|a| a == "--bench");
    let mut iters: Option<usize> = None;
    let mut warmup: Option<usize> = None;
    let mut rows = None;
    let mut stall = Duration::from_millis(100);
    let mut it = argv.iter();
    let num = |v: Option<&String>, flag: &str| -> Result<usize, String> {
        v.ok_or_else(|| format!("{flag} needs a value"))?
            .parse()
            .map_err(|e| format!("{flag}: {e}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => {}
            "--quick" => quick = true,
            "--iters" => {
                iters = Some(num(it.next(), "--iters")?);
                quick = false;
            }
            "--warmup" => warmup = Some(num(it.next(), "--warmup")?),
            "--stall-ms" => stall = Duration::from_millis(num(it.next(), "--stall-ms")? as u64),
            "--rows" => {
                let v = it.next().ok_or("--rows needs a value")?;
                rows = Some(v.split(',').map(|s| s.trim().to_string()).collect());
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let iters = match (iters, quick, env_iters) {
        (Some(n), _, _) => n,
        (None, true, _) => 5,
        (None, false, Some(v)) => v.parse().map_err(|e| format!("NETNS_BENCH_ITERS: {e}"))?,
        (None, false, None) => 200,
    };
    let warmup = warmup.unwrap_or(if quick { 1 } else { 5 });
    Ok(Args {
        iters,
        warmup,
        rows,
        stall,
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

fn main() -> ExitCode {
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
    let links_before = host_links();
    if ipscript::available().is_ok() {
        ipscript::remove_stale();
    }

    // Select and check rows.
    let defs = row_defs();
    if let Some(want) = &args.rows {
        for w in want {
            if !defs.iter().any(|d| d.name == w) {
                eprintln!("error: unknown row `{w}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let mut rows = Vec::new();
    for d in defs {
        if args
            .rows
            .as_ref()
            .is_some_and(|w| !w.iter().any(|w| w == d.name))
        {
            continue;
        }
        let Some(run) = d.run else {
            println!(
                "note: row `{}` skipped: not wired to the library yet",
                d.name
            );
            continue;
        };
        if let Err(why) = (d.precheck)() {
            println!("note: row `{}` skipped: {why}", d.name);
            continue;
        }
        rows.push(Row {
            name: d.name,
            run,
            times: Vec::with_capacity(args.iters),
            echoes: Vec::with_capacity(args.iters),
            stalls: StallCounter::new(args.stall),
            failed: 0,
            first_error: None,
        });
    }

    // Warmup: not recorded; a row whose warmup breaks is dropped with a note
    // (typically: no privileges for unshare/netlink).
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
                    println!("note: row `{}` skipped: warmup cycle failed: {e}", r.name);
                    false
                }
            }
        });
        iter += 1;
    }

    if rows.is_empty() {
        println!("no row to run");
    } else {
        let names: Vec<&str> = rows.iter().map(|r| r.name).collect();
        eprintln!(
            "running {} interleaved iterations of: {}",
            args.iters,
            names.join(", ")
        );
    }

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
                    r.echoes.extend(echo);
                    r.stalls.record(echo);
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

    report(&rows, &args, wall);

    // Safety check: the host must not have gained anything.
    let mut ok = true;
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
    let broken = rows.iter().any(|r| r.failed > 0);
    if ok && !broken {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn report(rows: &[Row], args: &Args, wall: Duration) {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let floor = rows
        .iter()
        .find(|r| r.name == FLOOR)
        .and_then(|r| Summary::of(&r.times));

    println!();
    println!(
        "Cycle = 2 namespaces + veth + addresses + links up + 1 ICMP echo + teardown. \
         {} interleaved iterations (+{} warmup), kernel {kernel}, {cpus} CPUs, {:.1} s.",
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
        let echo_us = stats::percentile(&stats::sorted_ms(&r.echoes), 0.5)
            .map_or("–".into(), |m| format!("{:.0}", m * 1e3));
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
                r.stalls.stalls(),
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
    if let Some(kib) = stats::peak_rss_kib() {
        println!(
            "peak RSS of the benchmark process (VmHWM): {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
