//! Guarantee: a lab too big for the open-file limit is a typed error that
//! names a node and says what to change, found before anything is made;
//! a soft limit below what the lab needs is raised up to the hard one.
//!
//! Each case lowers the limit, so it runs in a child process: the outer
//! test re-runs this binary on the ignored inner test with the limits in
//! its environment and reads what it printed.

use netns_test::{Error, Net, Topology};

#[path = "common/mod.rs"]
mod common;

const LIMITS_ENV: &str = "NETNS_TEST_FD_LIMITS";

/// `n` two-host pairs: 2n nodes.
fn pairs(n: usize) -> Topology {
    (0..n).fold(Topology::new(), |t, i| {
        t.link(
            (format!("a{i}"), "eth0", "198.51.100.1/24"),
            (format!("b{i}"), "eth0", "198.51.100.2/24"),
        )
    })
}

/// `n` wired pairs: 2n nodes, n wires through the relay.
fn wired_pairs(n: usize) -> Topology {
    (0..n).fold(Topology::new(), |t, i| {
        t.wire(
            (format!("a{i}"), "eth0", "198.51.100.1/24"),
            (format!("b{i}"), "eth0", "198.51.100.2/24"),
        )
    })
}

/// Runs inside the child: sets the limits, builds, prints the outcome.
/// With `parallel`, two threads build the same lab at once and each prints
/// its outcome.
#[test]
#[ignore = "run by the tests below, in a child process"]
fn inner_build_under_limits() {
    let Ok(spec) = std::env::var(LIMITS_ENV) else {
        return;
    };
    let v: Vec<&str> = spec.split(',').collect();
    let num = |i: usize| -> u64 { v[i].parse().unwrap() };
    let (soft, hard, pairs_n) = (num(0), num(1), num(2) as usize);
    let topology = match v.get(3) {
        Some(&"wired") => wired_pairs(pairs_n),
        _ => pairs(pairs_n),
    };
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, soft, hard).unwrap();
    if v.get(3) == Some(&"parallel") {
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let builds: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        build_and_print(&topology)
                    })
                })
                .collect();
            // Both labs stay up until both builds are done.
            let nets: Vec<Option<Net>> = builds.into_iter().map(|b| b.join().unwrap()).collect();
            drop(nets);
        });
        return;
    }
    build_and_print(&topology);
}

/// Builds `topology` and prints the outcome; the lab, if it was built.
fn build_and_print(topology: &Topology) -> Option<Net> {
    let before = std::fs::read_dir("/proc/self/fd").unwrap().count();
    match Net::build(topology) {
        Ok(net) => {
            let (s, _) =
                nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
            println!("BUILT {} soft={s}", net.nodes().len());
            let out = net.nodes()[0]
                .command("sh")
                .unwrap()
                .args(["-c", "ulimit -n"])
                .output()
                .unwrap();
            let program = String::from_utf8_lossy(&out.stdout);
            println!("PROGRAM soft={}", program.trim());
            Some(net)
        }
        Err(e @ Error::TooManyFiles { .. }) => {
            let after = std::fs::read_dir("/proc/self/fd").unwrap().count();
            println!("REFUSED fds_before={before} fds_after={after} {e}");
            None
        }
        Err(e) => {
            println!("OTHER {e}");
            None
        }
    }
}

fn run(soft: u64, hard: u64, pairs_n: usize) -> String {
    run_spec(&format!("{soft},{hard},{pairs_n}"))
}

/// Runs the inner test in a child with `spec`:
/// `soft,hard,pairs[,wired|parallel]`.
fn run_spec(spec: &str) -> String {
    common::run_ignored_in_child("inner_build_under_limits", (LIMITS_ENV, spec), None)
}

#[test]
fn a_tiny_hard_limit_is_a_typed_error_naming_a_node() {
    let text = run(12, 12, 1);
    assert!(text.contains("REFUSED"), "{text}");
    assert!(
        text.contains("node `a0` would be the first past it"),
        "{text}"
    );
    assert!(text.contains("raise the hard limit"), "{text}");
    // Nothing was made: the fd count did not change.
    let line = text.lines().find(|l| l.starts_with("REFUSED")).unwrap();
    let count = |key: &str| -> String {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap()
            .to_string()
    };
    assert_eq!(count("fds_before="), count("fds_after="), "{line}");
}

#[test]
fn a_big_lab_under_the_default_limit_names_the_first_node_past_it() {
    // 5,000 nodes under a hard limit of 1,024: refused before anything is
    // built, naming a node in the middle of the lab.
    let text = run(1024, 1024, 2500);
    assert!(text.contains("REFUSED"), "{text}");
    assert!(text.contains("a lab of 5000 nodes"), "{text}");
    let node = text
        .split("node `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap();
    assert!(node.starts_with('a') || node.starts_with('b'), "{text}");
}

#[test]
fn a_low_soft_limit_is_raised_to_fit() {
    // 300 nodes need about 600 fds: a soft limit of 64 is raised to the
    // hard one (4096), and the lab is built.
    let text = run(64, 4096, 150);
    let line = text.lines().find(|l| l.starts_with("BUILT")).expect(&text);
    assert_eq!(line, "BUILT 300 soft=4096", "{text}");
    // A program started in a node gets the limit the process started with.
    assert!(text.contains("PROGRAM soft=64\n"), "{text}");
}

#[test]
fn wires_count_against_the_limit() {
    // 10 wired pairs: 20 nodes, and for each wire two relay ports, with the
    // hub and the relay's own fds besides. Under a hard limit of 64 that
    // cannot fit: refused before anything is made, not a failure halfway.
    let text = run_spec("64,64,10,wired");
    assert!(text.contains("REFUSED"), "{text}");
    assert!(text.contains("a lab of 20 nodes"), "{text}");
    assert!(text.contains("(hard limit 64)"), "{text}");
    // Under a hard limit that fits, the soft limit is raised and the same
    // lab is built.
    let text = run_spec("64,4096,10,wired");
    let line = text.lines().find(|l| l.starts_with("BUILT")).expect(&text);
    assert!(line.starts_with("BUILT 20 "), "{line}");
}

#[test]
fn parallel_builds_share_the_limit() {
    // Two threads build 150 pairs (300 nodes, about 620 fds at the peak)
    // at once under a hard limit of 1,024: both cannot fit together. Each
    // build either fits or is refused with the typed error, never a
    // netlink error halfway; at least one is built.
    let text = run_spec("1024,1024,150,parallel");
    let outcomes: Vec<&str> = text
        .lines()
        .filter(|l| {
            ["BUILT", "REFUSED", "OTHER"]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .collect();
    assert_eq!(outcomes.len(), 2, "{text}");
    assert!(!outcomes.iter().any(|l| l.starts_with("OTHER")), "{text}");
    assert!(outcomes.iter().any(|l| l.starts_with("BUILT")), "{text}");
}
