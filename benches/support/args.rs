//! The benchmark's command line.

use std::time::Duration;

pub(crate) const PHASES: [&str; 8] = [
    "cycle",
    "throughput",
    "memory",
    "stalls",
    "faults",
    "scale",
    "capture",
    "wire",
];

pub(crate) struct Args {
    pub(crate) quick: bool,
    pub(crate) phases: Vec<String>,
    pub(crate) iters: usize,
    pub(crate) warmup: usize,
    pub(crate) rows: Option<Vec<String>>,
    pub(crate) stall: Duration,
    pub(crate) tests: usize,
    pub(crate) threads: Vec<usize>,
    pub(crate) labs: usize,
    pub(crate) stall_cycles: usize,
}

pub(crate) const USAGE: &str =
    "usage: cycle [--quick] [--all] [--phases cycle,throughput,memory,stalls,faults,scale,capture,wire]
             [--rows a,b,...] [--iters N] [--warmup N] [--tests N] [--threads 1,2]
             [--labs N] [--stall-cycles N] [--stall-ms MS]
  rows:   netns-test, ip-script, ip-script-moved, raw-floor, router-chain, bridge-10,
          links (links-1,2,4,8), floor-links (floor-links-1,2,4,8), line (line-2,4,8),
          or one of those by name
  counts: --iters 200 (--quick 3), --tests 2000 (20), --labs 100 (5),
          --stall-cycles 2000 (10), --threads 1,<cores>
  env:    NETNS_BENCH_ITERS=N sets the default of --iters";

pub(crate) fn parse_args() -> Result<Args, String> {
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
        tests: pick(tests, 2000, 20),
        threads,
        labs: labs_n,
        stall_cycles: pick(stall_cycles, 2000, 10),
    })
}
