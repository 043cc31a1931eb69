//! Phase `scale`: generated labs from 10 to 1,000 nodes.
//!
//! For each shape and size: the build (from `Net::build` to its return),
//! the first end-to-end ping (between the two nodes farthest apart in
//! numbering), the teardown (the `Net`'s drop; the kernel finishes freeing
//! namespaces asynchronously after it), the process's RSS and open fds
//! while the lab is alive, and the build's cost per node.

use std::time::{Duration, Instant};

use netns_test::{Net, Topology};

/// One measured lab.
pub(crate) struct ScaleRow {
    pub(crate) shape: &'static str,
    pub(crate) nodes: usize,
    pub(crate) build: Duration,
    pub(crate) first_ping: Option<Duration>,
    pub(crate) teardown: Duration,
    pub(crate) rss_kib: u64,
    pub(crate) fds: usize,
}

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

/// The shapes, each at about `n` nodes.
fn shapes(n: usize) -> Vec<(&'static str, Topology)> {
    let side = (n as f64).sqrt().round() as usize;
    let depth = (n as f64).log2().floor() as usize - 1;
    let leaves = (n / 40).max(2);
    vec![
        ("chain", Topology::chain(n)),
        ("tree", Topology::tree(depth.max(1), 2)),
        ("torus", Topology::torus(side.max(3), side.max(3))),
        (
            "leaf-spine",
            Topology::leaf_spine(4, leaves, (n / leaves).saturating_sub(1).max(1)),
        ),
        ("bridge", Topology::star(n.min(250))),
    ]
}

pub(crate) fn run(sizes: &[usize]) -> Result<Vec<ScaleRow>, String> {
    let mut rows = Vec::new();
    for &n in sizes {
        for (shape, topo) in shapes(n) {
            eprintln!("scale: {shape} at about {n} nodes");
            let t = Instant::now();
            let net = Net::build(&topo).map_err(|e| format!("{shape}/{n}: {e}"))?;
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
                        .run()
                        .map_err(|e| e.to_string())?;
                    (r.received == 1).then(|| t.elapsed())
                }
                _ => None,
            };
            let (rss, fd) = (rss_kib(), fds());
            let t = Instant::now();
            drop(net);
            rows.push(ScaleRow {
                shape,
                nodes,
                build,
                first_ping,
                teardown: t.elapsed(),
                rss_kib: rss,
                fds: fd,
            });
            // Let the kernel finish freeing the namespaces before the next.
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(rows)
}

pub(crate) fn print(rows: &[ScaleRow]) {
    println!();
    println!("phase scale (one build each)");
    println!(
        "  {:<11} {:>6} {:>10} {:>9} {:>11} {:>10} {:>9} {:>6}",
        "shape", "nodes", "build", "per node", "first ping", "teardown", "RSS", "fds"
    );
    for r in rows {
        println!(
            "  {:<11} {:>6} {:>7.0} ms {:>6.2} ms {:>11} {:>7.1} ms {:>6} KiB {:>6}",
            r.shape,
            r.nodes,
            r.build.as_secs_f64() * 1e3,
            r.build.as_secs_f64() * 1e3 / r.nodes as f64,
            r.first_ping.map_or("lost".to_string(), |d| format!(
                "{:.2} ms",
                d.as_secs_f64() * 1e3
            )),
            r.teardown.as_secs_f64() * 1e3,
            r.rss_kib,
            r.fds
        );
    }
}
