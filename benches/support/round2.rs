//! The phases of faults, capture, scale and the wire: each runs when asked for and
//! prints its own table.

use crate::args::Args;
use crate::{capture, faults, plot, scale, wire};

/// Runs the phases `faults`, `capture` and `scale` that `args` asks for;
/// false if one broke.
pub(crate) fn run(args: &Args, host_ino: u64) -> bool {
    let mut ok = true;
    if args.phases.iter().any(|p| p == "faults") {
        let iters = if args.quick { 3 } else { 50 };
        eprintln!("faults: {iters} rounds of partition/heal and link down/up");
        match faults::run(iters) {
            Ok(rows) => faults::print(&rows),
            Err(e) => {
                println!("faults phase failed: {e}");
                ok = false;
            }
        }
    }
    if args.phases.iter().any(|p| p == "capture") {
        let (iters, n) = if args.quick {
            (3, 1_000)
        } else {
            (100, 100_000)
        };
        match capture::run(iters, n) {
            Ok(rows) => capture::print(&rows),
            Err(e) => {
                println!("capture phase failed: {e}");
                ok = false;
            }
        }
    }
    if args.phases.iter().any(|p| p == "scale") {
        // Five runs of each 1,000-node lab (fifteen of a smaller one), so
        // two slow runs move no verdict.
        let (sizes, reps): (&[usize], usize) = if args.quick {
            (&[10], 1)
        } else {
            (&[10, 100, 1000], 5)
        };
        match scale::run(host_ino, sizes, reps) {
            Ok(rows) => {
                scale::print(&rows);
                scale::print_targets(&rows);
                // A full run renews the plot of docs/benchmarks.md; a quick
                // one only checks that plotting works.
                let path = if args.quick {
                    std::env::temp_dir().join("netns-test-scale.svg")
                } else {
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scale.svg")
                };
                match plot::per_node_svg(&rows, &path) {
                    Ok(()) => println!("  plot: {}", path.display()),
                    Err(e) => {
                        println!("scale plot failed: {e}");
                        ok = false;
                    }
                }
            }
            Err(e) => {
                println!("scale phase failed: {e}");
                ok = false;
            }
        }
    }
    if args.phases.iter().any(|p| p == "wire") {
        match wire::run(args.quick) {
            Ok(rows) => wire::print(&rows),
            Err(e) => {
                println!("wire phase failed: {e}");
                ok = false;
            }
        }
    }
    ok
}
