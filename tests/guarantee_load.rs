//! Guarantee: many labs at once, and thousands in a row, without growth.
//!
//! - 500 two-host labs alive at once in one process (override with
//!   `NETNS_TEST_LOAD_ALIVE`), each checked by a ping, then all dropped: the
//!   fds and the namespaces this process holds return to what they were.
//! - 2,000 build-ping-teardown cycles in a row (override with
//!   `NETNS_TEST_LOAD_CYCLES`): the same number of open fds before and
//!   after, and resident memory after the last cycle within 8 MiB of what it
//!   was after cycle 200 (a leak check, not a timing assertion).
//!
//! A node holds one namespace fd (its child-pid pipe is made only when a
//! command is spawned), so a two-host lab costs 2 fds; the test raises the
//! soft `RLIMIT_NOFILE` to the hard limit first anyway.

mod common;

use std::time::{Duration, Instant};

use common::{open_fds, process_netns, raise_nofile_limit, status_kib};
use netns_test::{Net, Topology};
use serial_test::serial;

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    )
}

#[test]
#[serial]
fn five_hundred_labs_alive_at_once() {
    let want = env_count("NETNS_TEST_LOAD_ALIVE", 500);
    let (soft, _) = raise_nofile_limit();
    // Warm up lazily made process-wide state before counting fds.
    drop(Net::build(&two_hosts()).unwrap());
    let fds_before = open_fds().len();
    let ns_before = process_netns();
    let per_lab = {
        let net = Net::build(&two_hosts()).unwrap();
        let n = open_fds().len() - fds_before;
        drop(net);
        n
    };
    assert!(
        fds_before + want * per_lab + 64 <= soft as usize,
        "RLIMIT_NOFILE {soft} is too low for {want} labs of {per_lab} fds"
    );
    let started = Instant::now();
    let mut labs = Vec::with_capacity(want);
    for i in 0..want {
        match Net::build(&two_hosts()) {
            Ok(net) => labs.push(net),
            Err(e) => panic!("lab {i} of {want} failed to build: {e}"),
        }
    }
    let built = started.elapsed();
    let mut inodes: Vec<u64> = labs
        .iter()
        .flat_map(|n| n.nodes().iter().map(|x| x.netns().inode()))
        .collect();
    inodes.sort();
    inodes.dedup();
    assert_eq!(inodes.len(), 2 * want, "every namespace is distinct");
    let fds_alive = open_fds().len();
    // Every lab is configured and isolated (each has the same addresses):
    // every n1 answers a ping to its own address, which needs no neighbour
    // entry. Every tenth lab pings across its veth: the kernel's neighbour
    // table is shared by all namespaces and holds at most
    // net.ipv4.neigh.default.gc_thresh3 (1024) fresh entries, so the 513th
    // two-host lab to ping at once would find it full (docs/guarantees.md).
    let pinged = Instant::now();
    for (i, net) in labs.iter().enumerate() {
        let r = net["n1"].ping("198.51.100.1").run().unwrap();
        assert_eq!(r.received, 1, "lab {i}: n1 does not answer itself");
        if i % 10 == 0 || i == want - 1 {
            let r = net["n1"].ping("198.51.100.2").run().unwrap();
            assert_eq!(r.received, 1, "lab {i}: n2 does not answer\n{r}");
        }
    }
    let pinged = pinged.elapsed();
    let torn = Instant::now();
    drop(labs);
    let torn = torn.elapsed();
    println!(
        "{want} labs ({} namespaces) alive at once: built in {built:.2?}, checked by ping in \
         {pinged:.2?}, torn down in {torn:.2?}; {per_lab} fds per lab, {fds_alive} fds open \
         (soft limit {soft})",
        2 * want
    );
    assert_eq!(open_fds().len(), fds_before, "fds after dropping every lab");
    assert!(
        common::eventually(Duration::from_secs(2), || process_netns() == ns_before),
        "this process still holds namespaces of the labs"
    );
}

#[test]
#[serial]
fn two_thousand_cycles_without_growth() {
    let cycles = env_count("NETNS_TEST_LOAD_CYCLES", 2000);
    let checkpoint = cycles / 10;
    let topo = two_hosts();
    // Warm up lazily made state (runtimes, thread-locals) before counting.
    drop(Net::build(&topo).unwrap());
    let fds_before = open_fds();
    let mut rss_at_checkpoint = 0;
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 1..=cycles {
        let t = Instant::now();
        let net = Net::build(&topo).unwrap();
        // A probe socket every cycle; across the veth every tenth cycle
        // only, to go easy on the kernel-wide neighbour table that tests
        // running in parallel share.
        let dst = if i % 10 == 0 {
            "198.51.100.2"
        } else {
            "198.51.100.1"
        };
        assert_eq!(net["n1"].ping(dst).run().unwrap().received, 1);
        drop(net);
        slowest = slowest.max(t.elapsed());
        if i == checkpoint {
            rss_at_checkpoint = status_kib("VmRSS");
        }
    }
    let elapsed = started.elapsed();
    let rss_end = status_kib("VmRSS");
    let fds_after = open_fds();
    println!(
        "{cycles} build+ping+teardown cycles in {elapsed:.2?} ({:.2} ms each, slowest {slowest:.2?}); \
         fds {} -> {}; VmRSS {rss_at_checkpoint} kB after cycle {checkpoint}, {rss_end} kB after \
         cycle {cycles}, peak {} kB",
        elapsed.as_secs_f64() * 1000.0 / cycles as f64,
        fds_before.len(),
        fds_after.len(),
        status_kib("VmHWM"),
    );
    assert_eq!(fds_after, fds_before, "open fds grew");
    assert!(
        rss_end <= rss_at_checkpoint + 8 * 1024,
        "VmRSS grew by {} kB between cycle {checkpoint} and cycle {cycles}",
        rss_end - rss_at_checkpoint
    );
}
