//! Phase `scale`: generated labs of about 10, 100 and 1,000 nodes, and the
//! raw floor scaled the same way.
//!
//! For each shape and size: the build (from `Net::build` to its return),
//! the first end-to-end ping (between the two addressed nodes farthest
//! apart in numbering, TTL 255), the process's RSS and open fds while the
//! lab is alive, the teardown (the `Net`'s drop; the kernel goes on freeing
//! the namespaces asynchronously after it), and the build of a two-host lab
//! started right after that drop (what the kernel's destruction backlog
//! costs the next test). The raw floor (`floor_scale.rs`) builds a binary
//! tree of the same size as the tree row, and a torus of the same size as
//! the torus row, with bare syscalls. Each 1,000-node lab is measured
//! five times, each smaller one fifteen times (`--quick` builds only the
//! 10-node labs, three times each), all interleaved (see [`run`]), and its
//! row is the run with the median build, with the range of the builds
//! beside it.

use std::time::{Duration, Instant};

use netns_test::{Endpoint, Net, Route, Topology};

use crate::floor_scale;
use crate::stats::{heap_in_use, judged, run_order};

/// One measured lab.
pub(crate) struct ScaleRow {
    pub(crate) shape: &'static str,
    pub(crate) nodes: usize,
    /// The median build of the runs; the row's other figures are that
    /// run's.
    pub(crate) build: Duration,
    /// The fastest and slowest build of the runs.
    pub(crate) build_range: (Duration, Duration),
    pub(crate) first_ping: Option<Duration>,
    pub(crate) teardown: Duration,
    /// A two-host build right after the teardown.
    pub(crate) next_build: Duration,
    /// RSS and fds while the lab is alive (not measured for the floor).
    /// The RSS is the process's: after an earlier, bigger lab it keeps
    /// the pages that lab freed.
    pub(crate) rss_kib: Option<u64>,
    /// The heap the lab's `Net` and its build left in use while it is
    /// alive: heap in use then, less heap in use before the build.
    pub(crate) heap_kib: Option<u64>,
    pub(crate) fds: Option<usize>,
}

impl ScaleRow {
    pub(crate) fn per_node(&self) -> Duration {
        self.build / self.nodes as u32
    }
}

/// The raw floor's rows: a binary tree the size of the tree row, and a
/// torus the size of the torus row.
pub(crate) const FLOOR: &str = "raw floor tree";
pub(crate) const FLOOR_TORUS: &str = "raw floor torus";

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Depth of the binary tree closest to `n` nodes (2^(depth+1) - 1).
fn tree_depth(n: usize) -> usize {
    ((n as f64 + 1.0).log2().round() as usize)
        .saturating_sub(1)
        .max(1)
}

/// The side of the square torus closest to `n` nodes.
fn torus_side(n: usize) -> usize {
    ((n as f64).sqrt().round() as usize).max(3)
}

/// The shapes, each at about `n` nodes.
fn shapes(n: usize) -> Vec<(&'static str, Topology)> {
    let side = torus_side(n);
    let leaves = (n / 40).max(2);
    vec![
        ("tree", Topology::tree(tree_depth(n), 2)),
        ("torus", Topology::torus(side, side)),
        (
            "leaf-spine",
            Topology::leaf_spine(4, leaves, (n / leaves).saturating_sub(1).max(1)),
        ),
        ("bridge", Topology::star(n)),
        ("routed bridges", routed_bridges(n)),
    ]
}

/// About `n` hosts on bridges of at most 100 hosts each, one IPv6 /64 per
/// bridge, all joined by one router `r` that is a member of every bridge:
/// the layout that keeps a bridge's flooding (quadratic in its ports)
/// small.
fn routed_bridges(n: usize) -> Topology {
    let segments = n.div_ceil(100).max(1);
    let per = n / segments;
    let mut t = Topology::new();
    for k in 0..segments {
        let router = Endpoint::new("r", format!("eth{k}")).addr(format!("2001:db8:{k:x}::1/64"));
        let hosts = (0..per).map(|h| {
            Endpoint::new(format!("h{k}_{h}"), "eth0")
                .addr(format!("2001:db8:{k:x}::{:x}/64", h + 2))
        });
        t = t.bridge(format!("sw{k}"), std::iter::once(router).chain(hosts));
        for h in 0..per {
            t = t.route(
                format!("h{k}_{h}"),
                Route::default_via(format!("2001:db8:{k:x}::1")),
            );
        }
    }
    t.forwarding("r")
}

/// Builds a two-host lab and drops it; the build's time.
fn two_host_build() -> Result<Duration, String> {
    let t = Instant::now();
    let net = Net::build(&Topology::chain(2)).map_err(|e| format!("two-host: {e}"))?;
    let took = t.elapsed();
    drop(net);
    Ok(took)
}

/// Lets the kernel finish freeing the namespaces before the next row.
fn settle(nodes: usize) {
    std::thread::sleep(Duration::from_millis(200 + 3 * nodes as u64));
}

fn measure(shape: &'static str, topo: &Topology) -> Result<ScaleRow, String> {
    let heap_before = heap_in_use();
    let t = Instant::now();
    let net = Net::build(topo).map_err(|e| format!("{shape}: {e}"))?;
    let build = t.elapsed();
    let nodes = net.nodes().len();
    let with_addr: Vec<_> = net
        .nodes()
        .iter()
        .filter(|n| !n.declared_addrs().is_empty())
        .collect();
    let first_ping = match (with_addr.first(), with_addr.last()) {
        (Some(a), Some(b)) if with_addr.len() > 1 => {
            let t = Instant::now();
            let r = a
                .ping(b.declared_addrs()[0].1.addr())
                .ttl(255)
                .run()
                .map_err(|e| e.to_string())?;
            (r.received == 1).then(|| t.elapsed())
        }
        _ => None,
    };
    let (rss, fd) = (rss_kib(), fds());
    let heap = heap_in_use().saturating_sub(heap_before) / 1024;
    let t = Instant::now();
    drop(net);
    let teardown = t.elapsed();
    let next_build = two_host_build()?;
    Ok(ScaleRow {
        shape,
        nodes,
        build,
        first_ping,
        teardown,
        next_build,
        rss_kib: Some(rss),
        heap_kib: Some(heap),
        fds: Some(fd),
        build_range: (build, build),
    })
}

/// The run with the median build of `runs`, with the range of all builds.
fn median_row(mut runs: Vec<ScaleRow>) -> ScaleRow {
    runs.sort_by_key(|r| r.build);
    let range = (runs[0].build, runs[runs.len() - 1].build);
    let mut row = runs.swap_remove(runs.len() / 2);
    row.build_range = range;
    row
}

/// How many times a lab of about `n` nodes is built when a 1,000-node
/// lab is built `reps` times: three times as often below 1,000 nodes,
/// where a build takes 5-150 ms and one busy moment of the machine moves
/// its cost per node by a third.
fn reps_at(n: usize, reps: usize) -> usize {
    if n < 1000 {
        reps * 3
    } else {
        reps
    }
}

/// One row to measure: a generated lab, or the raw floor's tree or torus.
enum Lab {
    Generated(Box<Topology>),
    Floor(Vec<(usize, usize)>),
}

struct Spec {
    shape: &'static str,
    nodes: usize,
    reps: usize,
    lab: Lab,
    runs: Vec<ScaleRow>,
}

impl Spec {
    fn once(&self, host_ino: u64) -> Result<ScaleRow, String> {
        match &self.lab {
            Lab::Generated(topo) => measure(self.shape, topo),
            Lab::Floor(edges) => {
                let f = floor_scale::lab(host_ino, self.nodes, edges.clone())?;
                Ok(ScaleRow {
                    shape: self.shape,
                    nodes: self.nodes,
                    build: f.build,
                    build_range: (f.build, f.build),
                    first_ping: None,
                    teardown: f.teardown,
                    next_build: two_host_build()?,
                    rss_kib: None,
                    heap_kib: None,
                    fds: None,
                })
            }
        }
    }
}

/// Every shape and floor at each of `sizes`.
fn specs(sizes: &[usize], reps: usize) -> Vec<Spec> {
    let mut specs = Vec::new();
    for &n in sizes {
        let reps = reps_at(n, reps);
        let mut add = |shape, nodes, lab| {
            specs.push(Spec {
                shape,
                nodes,
                reps,
                lab,
                runs: Vec::new(),
            })
        };
        for (shape, topo) in shapes(n) {
            add(
                shape,
                topo.node_names().len(),
                Lab::Generated(Box::new(topo)),
            );
        }
        let tree = (1 << (tree_depth(n) + 1)) - 1;
        let side = torus_side(n);
        add(FLOOR, tree, Lab::Floor(floor_scale::tree_edges(tree)));
        let torus = floor_scale::torus_edges(side);
        add(FLOOR_TORUS, side * side, Lab::Floor(torus));
    }
    specs
}

/// Measures every shape and floor at each of `sizes`, each
/// [`reps_at`] times, letting the kernel settle after each build. The
/// builds are interleaved: round after round, each row still owed a run
/// gets one, in a seeded shuffled order, and a row owed fewer runs than
/// there are rounds gets them spread evenly over the rounds. So a slow
/// stretch of the machine falls on every size and shape alike rather than
/// on the rows measured at that time, and the ratio of one size's cost per
/// node to another's compares runs made side by side. Each row is the run
/// with the median build, with the range of the builds beside it.
pub(crate) fn run(host_ino: u64, sizes: &[usize], reps: usize) -> Result<Vec<ScaleRow>, String> {
    // The process's first build pays one-time costs (runtime, fd limit).
    two_host_build()?;
    let mut specs = specs(sizes, reps);
    let rounds = specs.iter().map(|s| s.reps).max().unwrap_or(1).max(1);
    for round in 0..rounds {
        for i in run_order(round, specs.len()) {
            let spec = &mut specs[i];
            // Row `i` runs in `spec.reps` of the `rounds` rounds, evenly apart.
            let due = (round + 1) * spec.reps / rounds > round * spec.reps / rounds;
            if !due {
                continue;
            }
            eprintln!(
                "scale: round {}/{rounds}: {} of {} nodes",
                round + 1,
                spec.shape,
                spec.nodes
            );
            let row = spec.once(host_ino)?;
            settle(row.nodes);
            spec.runs.push(row);
        }
    }
    Ok(specs.into_iter().map(|s| median_row(s.runs)).collect())
}

/// `k` KiB in KiB below 10 MiB, else in MiB.
fn kib_text(k: u64) -> String {
    if k < 10 * 1024 {
        format!("{k} KiB")
    } else {
        format!("{} MiB", k / 1024)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn print(rows: &[ScaleRow]) {
    println!();
    println!(
        "phase scale (build: the median of the runs, and their range; the other \
         figures are the median run's; `next build`: a two-host build right after the drop)"
    );
    println!(
        "| {:<16} | {:>5} | {:>8} | {:>15} | {:>8} | {:>10} | {:>8} | {:>10} | {:>9} | {:>9} | {:>5} |",
        "lab",
        "nodes",
        "build",
        "range",
        "per node",
        "first ping",
        "teardown",
        "next build",
        "RSS",
        "lab heap",
        "fds"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        println!(
            "| {:<16} | {:>5} | {:>5.0} ms | {:>6.0}-{:.0} ms | {:>5.2} ms | {:>10} | {:>5.1} ms | {:>7.1} ms | {:>9} | {:>9} | {:>5} |",
            r.shape,
            r.nodes,
            ms(r.build),
            ms(r.build_range.0),
            ms(r.build_range.1),
            ms(r.per_node()),
            r.first_ping
                .map_or("–".to_string(), |d| format!("{:.2} ms", ms(d))),
            ms(r.teardown),
            ms(r.next_build),
            r.rss_kib.map_or("–".into(), |k| format!("{} MiB", k / 1024)),
            r.heap_kib.map_or("–".into(), kib_text),
            r.fds.map_or("–".into(), |f| f.to_string()),
        );
    }
}

/// Issue 16's targets: each shape's largest lab built in under a second,
/// and its cost per node at the largest size over that at about 100 nodes
/// (flat: at most 1.1), both from the median builds.
pub(crate) fn print_targets(rows: &[ScaleRow]) {
    let mut shapes: Vec<&str> = Vec::new();
    for r in rows {
        if !shapes.contains(&r.shape) {
            shapes.push(r.shape);
        }
    }
    println!();
    println!("Targets (issue 16), for the labs of about 1,000 nodes:");
    println!();
    println!(
        "| lab | largest | build | under 1 s | per node at largest / at ~100 | flat (≤ 1.1) |"
    );
    println!("| --- | ---: | ---: | --- | ---: | --- |");
    for shape in shapes {
        let of_shape: Vec<&ScaleRow> = rows.iter().filter(|r| r.shape == shape).collect();
        let Some(largest) = of_shape.iter().max_by_key(|r| r.nodes) else {
            continue;
        };
        let hundred = of_shape
            .iter()
            .find(|r| (64..=256).contains(&r.nodes) && r.nodes < largest.nodes);
        let ratio = hundred.map(|h| largest.per_node().as_secs_f64() / h.per_node().as_secs_f64());
        let (build, under) = under_a_second(largest.nodes, largest.build);
        let (ratio, flat) = flat(ratio);
        println!(
            "| {shape} | {} | {build} ms | {under} | {ratio} | {flat} |",
            largest.nodes
        );
    }
}

/// The build of the largest lab in milliseconds, with one decimal, and
/// whether that figure is under a second (`–` under 1,000 nodes).
pub(crate) fn under_a_second(nodes: usize, build: Duration) -> (String, &'static str) {
    let (text, verdict) = judged(ms(build), 1, |ms| ms < 1000.0);
    (text, if nodes >= 1000 { verdict } else { "–" })
}

/// The cost per node at the largest size over that at about 100 nodes,
/// with three decimals, and whether that figure is at most 1.1.
pub(crate) fn flat(ratio: Option<f64>) -> (String, &'static str) {
    ratio.map_or(("–".into(), "–"), |r| judged(r, 3, |r| r <= 1.1))
}
