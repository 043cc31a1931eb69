//! Rows `suite-parse-N` (phase `scale`): reading and validating a suite
//! file of N nodes, N = 10, 100, 1,000, without building anything.
//!
//! The file is a chain `n0 -- n1 -- ... -- n{N-1}`, each link its own
//! IPv6 /64 under 2001:db8::/32, every inner node forwarding with routes
//! both ways, and one scenario of four steps (ping, path, partition,
//! heal). One timed call is `netns_test::suite::load`: TOML parsing,
//! variable substitution, the topology's validation and the scenario's
//! checks.

use std::fmt::Write;
use std::time::{Duration, Instant};

use netns_test::suite::{self, LoadOptions};

use crate::stats::Summary;

/// A chain of `n` nodes as a suite file.
fn chain_file(n: usize) -> String {
    let mut t = String::from("seed = 1\n[vars]\nlast = \"n");
    let _ = writeln!(t, "{}\"\n\n[topology]", n - 1);
    t.push_str("forwarding = [");
    for i in 1..n - 1 {
        let _ = write!(t, "\"n{i}\", ");
    }
    t.push_str("]\nlinks = [\n");
    for i in 0..n - 1 {
        let _ = writeln!(
            t,
            "  {{ a = {{ node = \"n{i}\", iface = \"e1\", addr = \"2001:db8:{i:x}::1/64\" }}, \
             b = {{ node = \"n{}\", iface = \"e0\", addr = \"2001:db8:{i:x}::2/64\" }} }},",
            i + 1
        );
    }
    t.push_str("]\nroutes = [\n");
    for i in 0..n - 1 {
        // Towards the end through the next node, back through the previous.
        let _ = writeln!(
            t,
            "  {{ node = \"n{i}\", to = \"2001:db8:{:x}::/64\", via = \"2001:db8:{i:x}::2\" }},",
            n - 2
        );
        let _ = writeln!(
            t,
            "  {{ node = \"n{}\", to = \"2001:db8:0::/64\", via = \"2001:db8:{i:x}::1\" }},",
            i + 1
        );
    }
    t.push_str(
        "]\n\n[[scenario]]\nname = \"end_to_end\"\nsteps = [\n  \
         { do = \"ping\", from = \"n0\", to = \"${last}\" },\n  \
         { do = \"path\", from = \"n0\", to = \"${last}\", via = [] },\n  \
         { do = \"partition\", a = \"n0\", b = \"${last}\" },\n  \
         { do = \"heal\" },\n]\n",
    );
    t
}

pub(crate) struct ParseRow {
    nodes: usize,
    bytes: usize,
    times: Vec<Duration>,
}

/// Times `iters` loads of each size; checks the file is valid first.
pub(crate) fn run(sizes: &[usize], iters: usize) -> Result<Vec<ParseRow>, String> {
    let dir = std::env::temp_dir().join(format!("netns-bench-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for &n in sizes {
        let path = dir.join(format!("chain{n}.toml"));
        let text = chain_file(n);
        std::fs::write(&path, &text).map_err(|e| e.to_string())?;
        let check = suite::load(&[&path], &LoadOptions::default());
        match &check[0].result {
            Ok(f) if f.topology.node_names().len() == n => {}
            Ok(f) => {
                return Err(format!(
                    "{n} nodes: {} loaded",
                    f.topology.node_names().len()
                ))
            }
            Err(e) => return Err(format!("{n} nodes: {}", e[0])),
        }
        let mut times = Vec::with_capacity(iters);
        for _ in 0..iters {
            let t = Instant::now();
            let loaded = suite::load(&[&path], &LoadOptions::default());
            times.push(t.elapsed());
            std::hint::black_box(loaded);
        }
        rows.push(ParseRow {
            nodes: n,
            bytes: text.len(),
            times,
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rows)
}

pub(crate) fn print(rows: &[ParseRow]) {
    println!("\nsuite files: load = parse + substitute + validate + check (no lab built)");
    println!("| row | nodes | file | n | median | p90 | per node |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let Some(s) = Summary::of(&r.times) else {
            continue;
        };
        println!(
            "| suite-parse-{} | {} | {} KiB | {} | {:.2} ms | {:.2} ms | {:.1} µs |",
            r.nodes,
            r.nodes,
            r.bytes / 1024,
            s.n,
            s.median,
            s.p90,
            s.median * 1000.0 / r.nodes as f64
        );
    }
}

/// Phase `scale`'s suite rows, when the phase is asked for; false if broken.
pub(crate) fn run_phase(args: &crate::args::Args) -> bool {
    if !args.phases.iter().any(|p| p == "scale") {
        return true;
    }
    let (sizes, iters): (&[usize], usize) = if args.quick {
        (&[10, 1000], 3)
    } else {
        (&[10, 100, 1000], 30)
    };
    match run(sizes, iters) {
        Ok(rows) => {
            print(&rows);
            true
        }
        Err(e) => {
            println!("suite-parse rows failed: {e}");
            false
        }
    }
}
