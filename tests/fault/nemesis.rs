//! Schedules of faults: seeded, logged, healed at the end.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use netns_test::fault::{Action, EventLog, FlapLink, IsolateOne, RandomHalves, Schedule};
use netns_test::{Net, Topology};

fn chain() -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("n1", "eth0", "198.51.100.1/24"),
                ("n2", "eth0", "198.51.100.2/24"),
            )
            .link(
                ("n2", "eth1", "203.0.113.2/24"),
                ("n3", "eth0", "203.0.113.3/24"),
            ),
    )
    .unwrap()
}

/// Runs a schedule of two link nemeses for `runs` periods' worth of body.
fn run(seed: u64) -> (usize, EventLog) {
    let net = chain();
    let schedule = Schedule::new(seed)
        .period(Duration::from_millis(10))
        .with(FlapLink::new("n1", "n2"))
        .with(FlapLink::new("n2", "n3"));
    let (max_active, log) = schedule.run(&net, || {
        let mut max = 0;
        let until = Instant::now() + Duration::from_millis(400);
        while Instant::now() < until {
            max = max.max(net.active_faults().len());
            std::thread::sleep(Duration::from_millis(2));
        }
        max
    });
    assert!(net.active_faults().is_empty(), "{:?}", net.active_faults());
    for (a, b) in [("n1", "n2"), ("n2", "n3")] {
        assert!(net.link(a, b).unwrap().is_up().unwrap());
    }
    (max_active, log)
}

#[test]
fn the_same_seed_makes_the_same_decisions() {
    let (active, first) = run(7);
    let (_, second) = run(7);
    assert_eq!(active, 1, "one fault at a time, seen during the body");
    let (a, b) = (first.decisions(), second.decisions());
    let n = a.len().min(b.len());
    assert!(n >= 6, "too few events: {first}");
    assert_eq!(a[..n], b[..n], "{first}\n{second}");
    // Starts and stops alternate, each stop undoing its start.
    for pair in a.chunks(2).filter(|p| p.len() == 2) {
        assert_eq!((pair[0].1, pair[1].1), (Action::Start, Action::Stop));
        assert_eq!(pair[0].0, pair[1].0);
    }
    // Another seed chooses otherwise.
    let (_, other) = run(8);
    let c = other.decisions();
    let m = n.min(c.len());
    assert_ne!(a[..m], c[..m], "{first}\n{other}");
    assert!(first.to_string().contains("NETNS_TEST_SEED=7"), "{first}");
}

#[test]
fn a_failing_body_heals_the_network_and_the_panic_goes_on() {
    let net = chain();
    let r = catch_unwind(AssertUnwindSafe(|| {
        Schedule::new(1)
            .period(Duration::from_millis(5))
            .with(FlapLink::new("n1", "n2"))
            .run(&net, || {
                std::thread::sleep(Duration::from_millis(50));
                panic!("the body fails under faults");
            })
    }));
    assert!(r.is_err());
    assert!(net.active_faults().is_empty());
    assert!(net.link("n1", "n2").unwrap().is_up().unwrap());
}

#[test]
fn partition_nemeses_split_and_isolate_then_heal() {
    let net = chain();
    let (seen, log) = Schedule::new(3)
        .period(Duration::from_millis(15))
        .with(RandomHalves::new())
        .with(IsolateOne::of(["n1", "n3"]))
        .run(&net, || {
            let mut seen = std::collections::BTreeSet::new();
            let until = Instant::now() + Duration::from_millis(500);
            while Instant::now() < until {
                for f in net.active_faults() {
                    seen.insert(f.description);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            seen
        });
    assert!(
        seen.iter().any(|d| d.starts_with("partition {")),
        "{seen:?}\n{log}"
    );
    let starts: Vec<_> = log
        .events
        .iter()
        .filter(|e| e.action == Action::Start)
        .collect();
    assert!(starts.len() >= 4, "{log}");
    for e in &starts {
        assert!(
            e.detail.contains(" | ") || e.detail == "n1 isolated" || e.detail == "n3 isolated",
            "{log}"
        );
    }
    assert!(net.active_faults().is_empty());
    // Healed: every node reaches the others again.
    for (a, b) in [("n1", "n2"), ("n2", "n3")] {
        net[a]
            .wait_reachable(b)
            .timeout(Duration::from_secs(5))
            .run()
            .unwrap();
    }
}
