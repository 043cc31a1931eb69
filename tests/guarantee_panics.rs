//! Guarantee: a panic or an error anywhere leaves nothing behind.
//!
//! A panic in the body, in a thread spawned in a node, in an async task, in
//! a `with` closure, during teardown, and a build the kernel refuses halfway
//! each leave: no namespace of theirs held by any process, every thread of
//! this process back in its original namespace, this process holding the
//! same namespaces as before, no child process alive, and the host snapshot
//! (links, addresses, routes, rules, qdiscs, permanent neighbours,
//! `/run/netns`, net sysctls, mounts) unchanged.
//!
//! Every test here is `#[serial]`: they observe process-wide state.

mod common;

#[path = "support/host_snapshot.rs"]
#[allow(dead_code)]
mod host_snapshot;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use common::{assert_all_threads_back_in, assert_namespaces_gone, my_netns, process_netns};
use netns_test::{Endpoint, Error, Net, Topology};
use serial_test::serial;

fn lab() -> Topology {
    common::veth_and_bridge_lab()
}

/// What a test records before it provokes a failure.
struct Before {
    host: u64,
    snap: host_snapshot::Snapshot,
    process_ns: Vec<u64>,
}

fn before() -> Before {
    Before {
        host: my_netns(),
        snap: host_snapshot::snapshot(),
        process_ns: process_netns(),
    }
}

/// Checks that nothing is left: `inodes` (the lab's namespaces) are held by
/// no process, `pids` are gone, threads are home, the host is unchanged.
fn nothing_left(b: &Before, inodes: &[u64], pids: &[u32]) {
    assert_namespaces_gone(inodes);
    assert_all_threads_back_in(b.host);
    assert!(
        common::eventually(Duration::from_secs(2), || relay_threads() == 0),
        "a wire relay thread outlived its lab"
    );
    assert!(
        common::eventually(Duration::from_secs(2), || process_netns() == b.process_ns),
        "this process holds other namespaces than before: {:?} -> {:?}",
        b.process_ns,
        process_netns()
    );
    for p in pids {
        assert!(
            !Path::new(&format!("/proc/{p}")).exists(),
            "child {p} survived (not even a zombie may be left)"
        );
    }
    assert_same_snapshot(&b.snap, &host_snapshot::snapshot());
}

/// Compares two host snapshots section by section, naming the lines that
/// differ.
pub fn assert_same_snapshot(a: &host_snapshot::Snapshot, b: &host_snapshot::Snapshot) {
    for (section, lines) in a {
        let other = b.get(section).cloned().unwrap_or_default();
        if *lines != other {
            let gone: Vec<_> = lines.iter().filter(|l| !other.contains(l)).collect();
            let new: Vec<_> = other.iter().filter(|l| !lines.contains(l)).collect();
            panic!("host section `{section}` changed:\n  before only: {gone:#?}\n  after only: {new:#?}");
        }
    }
    assert_eq!(a.len(), b.len());
}

/// Threads of this process named as the wire relay.
fn relay_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|c| c.trim() == "netns-wire")
        .count()
}

fn inodes(net: &Net) -> Vec<u64> {
    net.nodes().iter().map(|n| n.netns().inode()).collect()
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

fn sleep_in(net: &Net, node: &str) -> u32 {
    net[node]
        .command("sleep")
        .unwrap()
        .arg("600")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
        .id()
}

#[test]
#[serial]
fn a_panic_in_the_body_with_children_running() {
    let b = before();
    let (mut ns, mut pids) = (Vec::new(), Vec::new());
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let net = Net::build(&lab()).unwrap();
        ns = inodes(&net);
        pids.push(sleep_in(&net, "n1"));
        pids.push(sleep_in(&net, "n3"));
        net["n1"].run(|| panic!("the body failed")).unwrap();
    }));
    assert_eq!(panic_text(&*caught.unwrap_err()), "the body failed");
    assert_eq!(ns.len(), 4);
    nothing_left(&b, &ns, &pids);
}

#[test]
#[serial]
fn a_panic_in_a_thread_spawned_in_a_node() {
    let b = before();
    let net = Net::build(&lab()).unwrap();
    let ns = inodes(&net);
    // A thread that panics at once, joined: the panic comes back with its payload.
    let t = net["n2"]
        .spawn(|_stop| -> () { panic!("worker failed") })
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| t.join()));
    assert_eq!(panic_text(&*caught.unwrap_err()), "worker failed");
    // One that panics and is never joined.
    let t = net["n3"]
        .spawn(|_stop| -> () { panic!("unjoined worker failed") })
        .unwrap();
    assert!(common::eventually(Duration::from_secs(2), || t.is_finished()));
    drop(t);
    // One that panics *during* teardown, when it sees the stop token.
    let late = net["n1"]
        .spawn(|stop| {
            while !stop.is_stopped() {
                std::thread::sleep(Duration::from_millis(1));
            }
            panic!("panic during teardown")
        })
        .unwrap();
    let started = std::time::Instant::now();
    drop(net);
    // Teardown saw the thread finish (it did not wait out its 2 s grace).
    assert!(started.elapsed() < Duration::from_millis(1900));
    // (Teardown waits for the thread's closure to end; the thread itself
    // exits a moment later.)
    assert!(common::eventually(Duration::from_secs(2), || late.is_finished()));
    let caught = catch_unwind(AssertUnwindSafe(|| late.join()));
    assert_eq!(panic_text(&*caught.unwrap_err()), "panic during teardown");
    nothing_left(&b, &ns, &[]);
}

#[test]
#[serial]
fn a_panic_in_an_async_task() {
    let b = before();
    let net = Net::build(&lab()).unwrap();
    let ns = inodes(&net);
    // A panicking task is caught by tokio and surfaces as a JoinError.
    let joined = net["n1"]
        .block_on(async { tokio::spawn(async { panic!("task failed") }).await })
        .unwrap();
    let err = joined.expect_err("the task panicked");
    assert!(err.is_panic());
    assert_eq!(panic_text(&*err.into_panic()), "task failed");
    // A panic in the future itself is resumed in the caller.
    let caught = catch_unwind(AssertUnwindSafe(|| {
        net["n2"].block_on(async {
            // A task left running, holding a socket of the node, is dropped
            // with the runtime.
            tokio::spawn(async {
                let _sock = tokio::net::UdpSocket::bind("198.51.100.2:9").await;
                tokio::time::sleep(Duration::from_secs(600)).await;
            });
            tokio::task::yield_now().await;
            panic!("future failed")
        })
    }));
    assert_eq!(panic_text(&*caught.unwrap_err()), "future failed");
    drop(net);
    nothing_left(&b, &ns, &[]);
}

#[test]
#[serial]
fn a_panic_inside_with_restores_the_calling_thread() {
    let b = before();
    let net = Net::build(&lab()).unwrap();
    let ns = inodes(&net);
    let n2 = net["n2"].netns().inode();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        net["n2"]
            .with(|| {
                assert_eq!(my_netns(), n2);
                // A socket made here stays in n2 after the unwind.
                let _s = std::net::UdpSocket::bind("198.51.100.2:0").unwrap();
                panic!("closure failed")
            })
            .unwrap()
    }));
    assert_eq!(panic_text(&*caught.unwrap_err()), "closure failed");
    // The unwinding guard put this very thread back.
    assert_eq!(my_netns(), b.host);
    // Nested guards unwind in order too.
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _g1 = net["n1"].enter().unwrap();
        let _g2 = net["n3"].enter().unwrap();
        panic!("nested")
    }));
    assert!(caught.is_err());
    assert_eq!(my_netns(), b.host);
    drop(net);
    nothing_left(&b, &ns, &[]);
}

/// Builds `t`, which validation accepts and the kernel refuses halfway.
fn refused_by_kernel(t: Topology) -> Error {
    t.validate().expect("validation accepts it");
    Net::build(&t).expect_err("the kernel refuses it")
}

#[test]
#[serial]
fn builds_failing_halfway_leave_nothing() {
    let b = before();
    // An IPv6 address on an interface whose IPv6 a sysctl turned off: the
    // veths of both links exist when the kernel refuses the address; with
    // wires, the hub and its ports too.
    for wire in [false, true] {
        let small = Endpoint::new("n2", "small").addr("2001:db8::2/64");
        let (first, second) = (
            (
                Endpoint::from(("n1", "n1-e0", "198.51.100.1/24")),
                Endpoint::from(("n2", "n2-e0", "198.51.100.2/24")),
            ),
            (small, Endpoint::new("n3", "eth0")),
        );
        let t = if wire {
            Topology::new()
                .wire(first.0, first.1)
                .wire(second.0, second.1)
        } else {
            Topology::new()
                .link(first.0, first.1)
                .link(second.0, second.1)
        };
        let err = refused_by_kernel(t.sysctl("n2", "net.ipv6.conf.small.disable_ipv6", "1"));
        assert!(
            matches!(&err, Error::Netlink { node, .. } if node == "n2"),
            "wire {wire}: {err:?}"
        );
    }
    // A sysctl the kernel does not have (an allowed directory, an unknown
    // setting), in the third node: two nodes exist.
    let err = refused_by_kernel(
        Topology::new()
            .link(
                ("n1", "eth0", "198.51.100.1/24"),
                ("n2", "eth0", "198.51.100.2/24"),
            )
            .node("n3")
            .sysctl("n3", "net.ipv4.conf.all.no_such_sysctl", "1"),
    );
    assert!(
        matches!(&err, Error::Sysctl { node, .. } if node == "n3"),
        "{err:?}"
    );
    // A value the kernel refuses.
    let err = refused_by_kernel(Topology::new().node("n1").node("n2").sysctl(
        "n2",
        "net.ipv4.ip_forward",
        "banana",
    ));
    assert!(matches!(&err, Error::Sysctl { .. }), "{err:?}");
    // The namespaces of a failed build were never handed out: the kernel
    // check is that this process holds exactly what it held before, and no
    // nsfs mount appeared (the snapshot's mounts).
    nothing_left(&b, &[], &[]);
}
