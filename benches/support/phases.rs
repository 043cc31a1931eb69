//! The phases that are not interleaved cycles: throughput of
//! `#[netns_test]`-style tests on a thread pool, memory with many labs alive,
//! and first-echo stalls over many cycles.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use netns_test::__private::{execute, Ctx, Failure, Inject, Outcome, TestSpec};
use netns_test::harness::TestReturn;
use netns_test::Net;

use crate::floor::thread_cpu;
use crate::labs;
use crate::stats::{self, ms, Summary};

// ---------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------

/// The test each throughput job runs, as a user writes it:
///
/// ```text
/// #[netns_test(topology = two_hosts)]
/// fn pings_peer(net: &Net) {
///     let report = net["a"].ping("198.51.100.2").timeout(2s).run().unwrap();
///     assert_eq!(report.received, 1);
/// }
/// ```
///
/// `#[netns_test]` expands to a `#[test]`, which a `harness = false` bench
/// does not compile, so [`run_one_test`] spells out the macro's expansion:
/// the same `TestSpec` and body closure, through the same runner entry
/// (`execute` is what the macro's `run` calls, minus turning failures into
/// panics).
fn pings_peer(net: &Net) {
    let report = net["a"]
        .ping("198.51.100.2")
        .timeout(labs::PING_TIMEOUT)
        .run()
        .unwrap();
    if report.received != 1 {
        // What each side saw, for the failure line of the throughput table.
        let seen = |n: &str| {
            net[n]
                .report()
                .map_or_else(|e| e.to_string(), |r| r.to_string())
        };
        panic!(
            "no echo reply within {:?}\n--- a ---\n{}\n--- b ---\n{}",
            labs::PING_TIMEOUT,
            seen("a"),
            seen("b")
        );
    }
}

/// One test, as the macro's expansion runs it.
fn run_one_test() -> Outcome {
    execute(
        TestSpec::new(concat!(module_path!(), "::pings_peer"))
            .topology("two_hosts", labs::two_hosts),
        |ctx: &Ctx| -> Result<(), Failure> {
            let arg0 = <&Net as Inject<'_>>::inject(ctx, "net")?;
            pings_peer(arg0);
            TestReturn::into_outcome(())
        },
    )
}

/// One `#[netns_test]` test on a fresh thread named after it, as libtest
/// runs it: the CPU time the thread spent in it (as the floor's rows
/// measure theirs), or `Err` with the outcome unless it passed.
pub(crate) fn netns_test_job(_i: usize) -> Result<Duration, String> {
    let (outcome, cpu) = std::thread::Builder::new()
        .name("phases::pings_peer".into())
        .spawn(|| {
            let before = thread_cpu();
            let outcome = run_one_test();
            (outcome, thread_cpu().saturating_sub(before))
        })
        .map_err(|e| format!("spawn: {e}"))?
        .join()
        .map_err(|_| "runner panicked".to_string())?;
    match outcome {
        Outcome::Passed => Ok(cpu),
        other => Err(format!("{other:?}")),
    }
}

/// Result of one throughput run.
pub(crate) struct Throughput {
    pub name: &'static str,
    pub threads: usize,
    pub jobs: usize,
    pub passed: usize,
    pub wall: Duration,
    pub per_job: Option<Summary>,
    /// CPU time of the thread each passed job ran on.
    pub cpu: Option<Summary>,
    pub first_failure: Option<String>,
}

impl Throughput {
    pub(crate) fn per_second(&self) -> f64 {
        self.passed as f64 / self.wall.as_secs_f64()
    }
}

/// A throughput row: its name and the job it runs, which returns the CPU
/// time of the thread it ran on.
pub(crate) type Row<'a> = (
    &'static str,
    &'a (dyn Fn(usize) -> Result<Duration, String> + Sync),
);

/// Jobs in each slice: the rows take turns slice by slice, so that they
/// meet the same machine (its other load, and the kernel's backlog of
/// namespaces still being destroyed, which each slice leaves to the next
/// whichever row it is). Slices of 100 measured the library about 5 %
/// lower against the floor than slices of 200 or more did (its first tests
/// after a floor slice were sometimes slower; the cause is not known); a
/// suite runs its own tests back to back.
const SLICE_JOBS: usize = 200;

/// Runs `jobs` jobs of each row on `threads` workers, at most `threads` at
/// a time, the rows taking turns in slices of [`SLICE_JOBS`] (at least
/// two slices), in reverse order every other slice.
pub(crate) fn throughput(rows: &[Row<'_>], jobs: usize, threads: usize) -> Vec<Throughput> {
    let slices = (jobs / SLICE_JOBS).max(2).clamp(1, jobs.max(1));
    let mut out: Vec<(Slice, Duration)> = rows
        .iter()
        .map(|_| (Slice::default(), Duration::ZERO))
        .collect();
    for s in 0..slices {
        let (from, to) = (jobs * s / slices, jobs * (s + 1) / slices);
        // Every other slice the rows go in reverse order, so that no row
        // always follows the same one.
        let mut turn: Vec<_> = rows.iter().zip(out.iter_mut()).collect();
        if s % 2 == 1 {
            turn.reverse();
        }
        for ((_, job), (acc, wall)) in turn {
            let started = Instant::now();
            let slice = run_slice(from..to, threads, *job);
            *wall += started.elapsed();
            acc.times.extend(slice.times);
            acc.cpu.extend(slice.cpu);
            if acc.first_failure.is_none() {
                acc.first_failure = slice.first_failure;
            }
        }
    }
    rows.iter()
        .zip(out)
        .map(|((name, _), (acc, wall))| Throughput {
            name,
            threads,
            jobs,
            passed: acc.times.len(),
            wall,
            per_job: Summary::of(&acc.times),
            cpu: Summary::of(&acc.cpu),
            first_failure: acc.first_failure,
        })
        .collect()
}

/// What one slice of a row gave.
#[derive(Default)]
struct Slice {
    times: Vec<Duration>,
    cpu: Vec<Duration>,
    first_failure: Option<String>,
}

/// Jobs `range` on `threads` workers.
fn run_slice(
    range: std::ops::Range<usize>,
    threads: usize,
    job: &(dyn Fn(usize) -> Result<Duration, String> + Sync),
) -> Slice {
    let next = AtomicUsize::new(range.start);
    let times = Mutex::new(Vec::with_capacity(range.len()));
    let cpu = Mutex::new(Vec::with_capacity(range.len()));
    let failures = Mutex::new(None::<String>);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= range.end {
                    break;
                }
                let t0 = Instant::now();
                let res = job(i);
                let dt = t0.elapsed();
                match res {
                    Ok(used) => {
                        times.lock().unwrap().push(dt);
                        cpu.lock().unwrap().push(used);
                    }
                    Err(e) => {
                        failures.lock().unwrap().get_or_insert(e);
                    }
                }
            });
        }
    });
    Slice {
        times: times.into_inner().unwrap(),
        cpu: cpu.into_inner().unwrap(),
        first_failure: failures.into_inner().unwrap(),
    }
}

pub(crate) fn print_throughput(runs: &[Throughput]) {
    println!();
    println!(
        "Throughput: `netns-test` = #[netns_test(topology = two_hosts)] tests (build + 1 ping + \
         teardown), each on a fresh thread like libtest; `raw-floor` = floor cycles, for the \
         kernel's own limit. At most `threads` at a time; the rows take turns in slices of 200 (in reverse order every other slice), \
         `wall s` is the sum of a row's slices; `CPU µs` is the median CPU time (user and system) \
         of the thread a job ran on, without the thread's start and exit."
    );
    println!();
    println!("| row | threads | jobs | passed | wall s | per second | per job median ms | p90 ms | max ms | CPU µs |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in runs {
        let (med, p90, max) = r.per_job.map_or(("–".into(), "–".into(), "–".into()), |s| {
            (ms(s.median), ms(s.p90), ms(s.max))
        });
        let cpu = r
            .cpu
            .map_or("–".into(), |c| format!("{:.0}", c.median * 1000.0));
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.0} | {med} | {p90} | {max} | {cpu} |",
            r.name,
            r.threads,
            r.jobs,
            r.passed,
            r.wall.as_secs_f64(),
            r.per_second()
        );
    }
    // Issue 16's target: on each thread count, the first row's rate over
    // the second's (ours over the floor's) at least 0.9.
    for pair in runs.chunks(2) {
        if let [ours, floor] = pair {
            if floor.passed == 0 {
                continue;
            }
            let (ratio, verdict) = over_floor(ours.per_second(), floor.per_second());
            println!(
                "{} / {} on {} thread(s): {ratio}× (target ≥ 0.9×: {verdict})",
                ours.name, floor.name, ours.threads,
            );
            if let (Some(a), Some(b)) = (ours.cpu, floor.cpu) {
                println!(
                    "CPU per test on {} thread(s), median: {} {:.0} µs, {} {:.0} µs ({:.3}×)",
                    ours.threads,
                    ours.name,
                    a.median * 1000.0,
                    floor.name,
                    b.median * 1000.0,
                    a.median / b.median
                );
            }
        }
    }
    for r in runs {
        if let Some(e) = &r.first_failure {
            println!(
                "throughput {} ({} threads): {} failed, first: {e}",
                r.name,
                r.threads,
                r.jobs - r.passed
            );
        }
    }
}

/// Our rate over the floor's, with three decimals, and whether that figure
/// is at least 0.9.
pub(crate) fn over_floor(ours: f64, floor: f64) -> (String, &'static str) {
    stats::judged(ours / floor, 3, |r| r >= 0.9)
}

// ---------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------

/// Flag that makes the benchmark binary run the memory phase's child.
pub(crate) const MEMORY_CHILD_FLAG: &str = "--memory-child";

/// Figures of the memory phase, measured in a fresh child process so that
/// its peak RSS is not the earlier phases'.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    pub labs: usize,
    pub base_rss: u64,
    pub base_hwm: u64,
    pub rss: u64,
    pub hwm: u64,
    pub base_fds: u64,
    pub fds: u64,
    pub threads: u64,
    pub slab_delta: Option<i64>,
    pub build_ms: f64,
    pub drop_ms: f64,
}

impl Memory {
    pub(crate) fn per_lab_kib(&self) -> f64 {
        self.rss.saturating_sub(self.base_rss) as f64 / self.labs.max(1) as f64
    }
}

fn fd_count() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// `Slab:` of /proc/meminfo in KiB (system-wide).
fn slab_kib() -> Option<u64> {
    let m = std::fs::read_to_string("/proc/meminfo").ok()?;
    m.lines().find_map(|l| {
        l.strip_prefix("Slab:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

/// The child: one warm-up lab, baseline, `n` two-host labs alive at once,
/// measure, drop them. Prints one `key=value` line.
pub(crate) fn memory_child(n: usize) -> Result<(), String> {
    labs::cycle(&labs::two_hosts(), Some(("a", "198.51.100.2")))?; // warm every path
    let base_rss = stats::rss_kib().unwrap_or(0);
    let base_hwm = stats::peak_rss_kib().unwrap_or(0);
    let base_fds = fd_count();
    let slab0 = slab_kib();
    let t0 = Instant::now();
    let mut alive = Vec::with_capacity(n);
    for _ in 0..n {
        alive.push(Net::build(&labs::two_hosts()).map_err(|e| e.to_string())?);
    }
    let build_ms = t0.elapsed().as_secs_f64() * 1e3;
    // Each lab must be usable, not just allocated.
    if let Some(last) = alive.last() {
        let r = last
            .node("a")
            .map_err(|e| e.to_string())?
            .ping("198.51.100.2")
            .timeout(labs::PING_TIMEOUT)
            .run()
            .map_err(|e| e.to_string())?;
        if r.received != 1 {
            return Err("last lab: no echo reply".into());
        }
    }
    let rss = stats::rss_kib().unwrap_or(0);
    let hwm = stats::peak_rss_kib().unwrap_or(0);
    let fds = fd_count();
    let threads = stats::status_value("Threads").unwrap_or(0);
    let slab1 = slab_kib();
    let t1 = Instant::now();
    drop(alive);
    let drop_ms = t1.elapsed().as_secs_f64() * 1e3;
    let slab_delta = match (slab0, slab1) {
        (Some(a), Some(b)) => (b as i64 - a as i64).to_string(),
        _ => "?".into(),
    };
    println!(
        "MEMORY labs={n} base_rss={base_rss} base_hwm={base_hwm} rss={rss} hwm={hwm} \
         base_fds={base_fds} fds={fds} threads={threads} slab_delta={slab_delta} \
         build_ms={build_ms:.3} drop_ms={drop_ms:.3}"
    );
    Ok(())
}

/// Runs [`memory_child`] in a fresh process of this binary and parses its line.
pub(crate) fn memory(n: usize) -> Result<Memory, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = Command::new(exe)
        .args([MEMORY_CHILD_FLAG, &n.to_string()])
        .output()
        .map_err(|e| format!("spawn memory child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "memory child failed ({}): {}{}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("MEMORY "))
        .ok_or_else(|| format!("no MEMORY line in: {stdout}"))?;
    let mut m = Memory::default();
    for kv in line.split_whitespace() {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let u = || v.parse::<u64>().unwrap_or(0);
        match k {
            "labs" => m.labs = u() as usize,
            "base_rss" => m.base_rss = u(),
            "base_hwm" => m.base_hwm = u(),
            "rss" => m.rss = u(),
            "hwm" => m.hwm = u(),
            "base_fds" => m.base_fds = u(),
            "fds" => m.fds = u(),
            "threads" => m.threads = u(),
            "slab_delta" => m.slab_delta = v.parse().ok(),
            "build_ms" => m.build_ms = v.parse().unwrap_or(0.0),
            "drop_ms" => m.drop_ms = v.parse().unwrap_or(0.0),
            _ => {}
        }
    }
    Ok(m)
}

pub(crate) fn print_memory(m: &Memory) {
    println!();
    println!(
        "Memory: {} two-host labs alive at once, in a fresh process (after one warm-up lab).",
        m.labs
    );
    println!();
    println!(
        "| labs | RSS before MiB | RSS with labs MiB | peak RSS (VmHWM) MiB | per lab KiB \
         | fds per lab | threads alive | build all ms | drop all ms | kernel slab Δ MiB (system-wide) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mib = |k: u64| format!("{:.1}", k as f64 / 1024.0);
    println!(
        "| {} | {} | {} | {} | {:.1} | {:.1} | {} | {:.1} | {:.3} | {} |",
        m.labs,
        mib(m.base_rss),
        mib(m.rss),
        mib(m.hwm),
        m.per_lab_kib(),
        m.fds.saturating_sub(m.base_fds) as f64 / m.labs.max(1) as f64,
        m.threads,
        m.build_ms,
        m.drop_ms,
        m.slab_delta
            .map_or("?".into(), |d| format!("{:.1}", d as f64 / 1024.0)),
    );
}

// ---------------------------------------------------------------------------
// Stalls
// ---------------------------------------------------------------------------

/// First-echo statistics of one row over many cycles.
pub(crate) struct Stalls {
    pub name: &'static str,
    pub counter: stats::StallCounter,
    pub echoes: Vec<Duration>,
    pub failed: usize,
    pub first_error: Option<String>,
}

/// A named cycle for [`stalls`]: iteration number -> first echo.
pub(crate) type StallRow<'a> = (
    &'static str,
    &'a dyn Fn(usize) -> Result<Option<Duration>, String>,
);

/// `cycles` cycles of each row, alternating, counting first echoes slower
/// than `threshold` or lost.
pub(crate) fn stalls(rows: &[StallRow<'_>], cycles: usize, threshold: Duration) -> Vec<Stalls> {
    let mut out: Vec<Stalls> = rows
        .iter()
        .map(|(name, _)| Stalls {
            name,
            counter: stats::StallCounter::new(threshold),
            echoes: Vec::with_capacity(cycles),
            failed: 0,
            first_error: None,
        })
        .collect();
    for i in 0..cycles {
        for (k, (_, run)) in rows.iter().enumerate() {
            let s = &mut out[k];
            match run(i) {
                Ok(echo) => {
                    s.counter.record(echo);
                    s.echoes.extend(echo);
                }
                Err(e) => {
                    s.failed += 1;
                    s.first_error.get_or_insert(e);
                }
            }
        }
    }
    out
}

pub(crate) fn print_stalls(rows: &[Stalls]) {
    let Some(first) = rows.first() else { return };
    println!();
    println!(
        "Stalls: two-host cycles, rows alternating; a stall is a first echo slower than {} ms \
         or unanswered within {} s.",
        first.counter.threshold.as_millis(),
        labs::PING_TIMEOUT.as_secs()
    );
    println!();
    println!(
        "| row | cycles | stalls | slow | lost | first echo median µs | p99 µs | worst ms | failed |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for s in rows {
        let v = stats::sorted_ms(&s.echoes);
        let us = |q| stats::percentile(&v, q).map_or("–".into(), |m| format!("{:.0}", m * 1e3));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            s.counter.cycles,
            s.counter.stalls(),
            s.counter.slow,
            s.counter.unanswered,
            us(0.5),
            us(0.99),
            s.counter
                .worst
                .map_or("–".into(), |w| format!("{:.3}", w.as_secs_f64() * 1e3)),
            s.failed
        );
    }
    for s in rows {
        if let Some(e) = &s.first_error {
            println!("{}: {} failed cycles, first error: {e}", s.name, s.failed);
        }
    }
}
