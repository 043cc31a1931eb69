//! The benchmark's summaries: the machine, the cycle table, the targets.

use crate::args::Args;
use crate::stats::{judged, ms, ratio, Summary};
use crate::*;
use std::time::Duration;

/// What the final summary needs from the phases.
#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) ours: Option<Summary>,
    pub(crate) floor: Option<Summary>,
    pub(crate) script: Option<Summary>,
    pub(crate) link_slope: Option<f64>,
    pub(crate) floor_link_slope: Option<f64>,
    pub(crate) throughput: Option<(usize, f64)>,
    pub(crate) stalls: Option<(usize, usize)>,
    pub(crate) per_lab_kib: Option<f64>,
}

pub(crate) fn print_machine(args: &Args) {
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

pub(crate) fn report_cycles(rows: &[Row], args: &Args, wall: Duration, findings: &mut Findings) {
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

pub(crate) fn print_targets(f: &Findings) {
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "–",
    };
    // A figure with its verdict taken on the figure as printed.
    let x = |v: Option<f64>, decimals: usize, unit: &str, target: fn(f64) -> bool| {
        v.map_or(("–".to_string(), "–"), |v| {
            let (text, met) = judged(v, decimals, target);
            (format!("{text}{unit}"), met)
        })
    };
    let mut lines: Vec<(String, String, &str, &str)> = Vec::new();
    let med_ratio = f.ours.zip(f.floor).map(|(o, fl)| o.median / fl.median);
    let (shown, met) = x(med_ratio, 3, "×", |r| r <= 1.3);
    lines.push((
        "netns-test median / raw-floor median".into(),
        shown,
        "≤ 1.3×",
        met,
    ));
    let p90_ratio = f.ours.zip(f.floor).map(|(o, fl)| o.p90 / fl.p90);
    let (shown, met) = x(p90_ratio, 3, "×", |r| r <= 2.0);
    lines.push(("netns-test p90 / raw-floor p90".into(), shown, "≤ 2×", met));
    let speedup = f.ours.zip(f.script).map(|(o, s)| s.median / o.median);
    let (shown, met) = x(speedup, 3, "×", |r| r >= 10.0);
    lines.push((
        "ip-script median / netns-test median".into(),
        shown,
        "≥ 10×",
        met,
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
    let (slope, met) = x(f.link_slope, 3, " ms", |s| s <= 0.5);
    lines.push((
        "extra veth link (slope of medians)".into(),
        match f.floor_link_slope {
            Some(fl) if f.link_slope.is_some() => format!("{slope} (raw floor: {fl:.3} ms)"),
            _ => slope,
        },
        "≤ 0.5 ms",
        met,
    ));
    let (shown, met) = x(f.throughput.map(|(_, r)| r), 1, " tests/s", |r| r >= 300.0);
    lines.push((
        match f.throughput {
            Some((t, _)) => format!("throughput on {t} threads"),
            None => "throughput".into(),
        },
        shown,
        "≥ 300 tests/s",
        met,
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
