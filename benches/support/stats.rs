//! Statistics and process measurements for the cycle benchmark.

use std::time::Duration;

/// The `q`-quantile (0..=1) of ascending `sorted` values, linearly
/// interpolated between closest ranks (numpy's default). `None` if empty.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let (first, last) = (*sorted.first()?, *sorted.last()?);
    let q = q.clamp(0.0, 1.0);
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let v = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64);
    Some(v.clamp(first, last))
}

/// Durations as ascending milliseconds.
pub(crate) fn sorted_ms(d: &[Duration]) -> Vec<f64> {
    let mut v: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Median, min, p90 and max of a set of cycle times, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Summary {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub p90: f64,
    pub max: f64,
}

impl Summary {
    pub(crate) fn of(samples: &[Duration]) -> Option<Summary> {
        let v = sorted_ms(samples);
        Some(Summary {
            n: v.len(),
            median: percentile(&v, 0.5)?,
            min: *v.first()?,
            p90: percentile(&v, 0.9)?,
            max: *v.last()?,
        })
    }
}

/// Counts cycles whose first echo was slow ("stalled") or never answered.
///
/// On a fresh veth pair the first ARP can be dropped, and the first echo
/// then waits for the 1 s ARP retry; this makes that visible.
#[derive(Clone, Debug)]
pub(crate) struct StallCounter {
    pub threshold: Duration,
    pub cycles: usize,
    /// Echo answered, but slower than `threshold`.
    pub slow: usize,
    /// Lab came up but the echo got no reply in time.
    pub unanswered: usize,
    pub worst: Option<Duration>,
}

impl StallCounter {
    pub(crate) fn new(threshold: Duration) -> Self {
        StallCounter {
            threshold,
            cycles: 0,
            slow: 0,
            unanswered: 0,
            worst: None,
        }
    }

    /// Record one cycle's first echo (`None`: no reply).
    pub(crate) fn record(&mut self, first_echo: Option<Duration>) {
        self.cycles += 1;
        match first_echo {
            Some(rtt) => {
                if rtt > self.threshold {
                    self.slow += 1;
                }
                self.worst = self.worst.max(Some(rtt));
            }
            None => self.unanswered += 1,
        }
    }

    /// Slow plus unanswered.
    pub(crate) fn stalls(&self) -> usize {
        self.slow + self.unanswered
    }

    /// Run `cycle` `n` times and count its stalls; `Err` stops at the first
    /// broken cycle. For a quick stand-alone check of one row.
    #[allow(dead_code)]
    pub(crate) fn over<F>(n: usize, threshold: Duration, mut cycle: F) -> Result<Self, String>
    where
        F: FnMut(usize) -> Result<Option<Duration>, String>,
    {
        let mut c = StallCounter::new(threshold);
        for i in 0..n {
            c.record(cycle(i)?);
        }
        Ok(c)
    }
}

/// A `VmHWM`/`VmRSS`-style field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Peak resident set size of this process so far (`VmHWM`), in KiB.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM")
}

/// Current resident set size (`VmRSS`), in KiB.
pub(crate) fn rss_kib() -> Option<u64> {
    status_kib("VmRSS")
}

/// Bytes of the process's heap in use: glibc's allocated chunks, small
/// and mmapped. Unlike the RSS, it falls again when a lab's memory is
/// freed, so the difference across a build is that lab's own.
pub(crate) fn heap_in_use() -> u64 {
    // SAFETY: mallinfo2 takes no argument and returns a plain struct; it
    // only reads the allocator's own counters under its locks.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as u64
}

/// A plain number field of /proc/self/status (`Threads`).
pub(crate) fn status_value(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().parse().ok()
    })
}

/// Least-squares line through `(x, y)` points: `(slope, intercept)`.
/// `None` with fewer than two distinct x.
pub(crate) fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if points.len() < 2 || sxx <= f64::EPSILON {
        return None;
    }
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}

/// Milliseconds with 3 decimals.
pub(crate) fn ms(v: f64) -> String {
    format!("{v:.3}")
}

/// `met` or `MISSED` as `target` holds for `v` itself, and `v` printed
/// with `decimals` decimals, or with more where the rounded figure would
/// say otherwise, so a verdict is never flattered by rounding nor
/// contradicted by its figure (0.8996 against ≥ 0.9 is `0.8996 MISSED`,
/// 1.1004 against ≤ 1.1 is `1.1004 MISSED`, 1.104 is `1.104 MISSED`).
pub(crate) fn judged(
    v: f64,
    decimals: usize,
    target: impl Fn(f64) -> bool,
) -> (String, &'static str) {
    let met = target(v);
    let mut d = decimals;
    let mut text = format!("{v:.d$}");
    while d < 12 && text.parse::<f64>().is_ok_and(|shown| target(shown) != met) {
        d += 1;
        text = format!("{v:.d$}");
    }
    (text, if met { "met" } else { "MISSED" })
}

/// A ratio like `18.2×`, or `–` when there is no reference.
pub(crate) fn ratio(v: f64, reference: Option<f64>) -> String {
    match reference {
        Some(r) if r > 0.0 => format!("{:.1}×", v / r),
        _ => "–".to_string(),
    }
}

/// The order the rows of interleaved iteration `iter` run in: a
/// permutation of `0..n` drawn from a fixed seed and `iter` (splitmix64,
/// Fisher-Yates), so no row keeps following the same row (whose namespaces
/// the kernel may still be freeing), and a rerun keeps the same orders.
pub(crate) fn run_order(iter: usize, n: usize) -> Vec<usize> {
    let mut state = 0x6e65_746e_735f_7465_u64 ^ (iter as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}
