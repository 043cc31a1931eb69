//! Teardown leaves nothing: after a panicking body, after a build that fails
//! halfway, with threads and child processes running in the nodes.

use crate::common;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::common::{assert_all_threads_in, host_snapshot, my_netns};
use netns_test::{Endpoint, Error, Net, Topology};
use serial_test::serial;

fn lab() -> Topology {
    common::veth_and_bridge_lab()
}

#[test]
#[serial]
fn a_panicking_body_leaves_the_host_unchanged() {
    let host = my_netns();
    let before = host_snapshot();
    let mut inodes = Vec::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let net = Net::build(&lab()).unwrap();
        inodes = net.nodes().iter().map(|n| n.netns().inode()).collect();
        net["n1"].run(|| panic!("the body failed")).unwrap();
    }));
    assert!(caught.is_err());
    assert_eq!(inodes.len(), 4);
    assert_eq!(host_snapshot(), before);
    assert_all_threads_in(host);
    // A thread that ran in a node lets go of its namespace a moment after
    // a join returns (the kernel wakes the joiner before it drops the
    // thread's namespaces): the check waits for that moment.
    common::assert_namespaces_gone(&inodes);
}

#[test]
#[serial]
fn a_build_failing_halfway_leaves_nothing() {
    let host = my_netns();
    let before = host_snapshot();
    let before_ns = common::process_netns();
    // Validation accepts it; the kernel refuses an IPv6 address on an
    // interface whose IPv6 a sysctl turned off, after the veth exists.
    let t = Topology::new()
        .link(
            ("n1", "n1-veth0", "198.51.100.1/24"),
            ("n2", "n2-veth0", "198.51.100.2/24"),
        )
        .link(
            Endpoint::new("n2", "small").addr("2001:db8::2/64"),
            ("n3", "eth0"),
        )
        .sysctl("n2", "net.ipv6.conf.small.disable_ipv6", "1");
    t.validate().unwrap();
    let err = Net::build(&t).expect_err("the kernel refuses the address");
    match &err {
        Error::Netlink { node, op, .. } => {
            assert_eq!(node, "n2");
            assert_eq!(op, "ip addr add 2001:db8::2/64 dev small");
        }
        other => panic!("expected a netlink error, got {other:?}"),
    }
    assert!(err.to_string().contains("in node `n2`"), "{err}");
    assert_eq!(host_snapshot(), before);
    assert_all_threads_in(host);
    // This process holds no namespace it did not hold before.
    assert_eq!(common::process_netns(), before_ns);
}

#[test]
#[serial]
fn teardown_stops_threads_and_kills_children() {
    let host = my_netns();
    let net = Net::build(&lab()).unwrap();
    let n1 = net["n1"].netns().inode();
    let worker = net["n1"]
        .spawn(|stop| {
            while !stop.is_stopped() {
                std::thread::sleep(Duration::from_millis(5));
            }
            "stopped"
        })
        .unwrap();
    let mut child = net["n1"]
        .command("sleep")
        .unwrap()
        .arg("600")
        .spawn()
        .unwrap();
    let pid = child.id();
    // The child runs inside the node, in a process group of its own.
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_eq!(ns.to_str().unwrap(), format!("net:[{n1}]"));
    // A tokio command is tracked the same way.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tchild = rt.block_on(async {
        net["n3"]
            .tokio_command("sleep")
            .unwrap()
            .arg("600")
            .spawn()
            .unwrap()
    });
    let tpid = tchild.id().unwrap();
    drop(net);
    assert!(worker.is_finished());
    assert_eq!(worker.join(), "stopped");
    // Killed and reaped by teardown: the pids are gone (not even zombies).
    for p in [pid, tpid] {
        assert!(
            !std::path::Path::new(&format!("/proc/{p}")).exists(),
            "child {p} survived teardown"
        );
    }
    assert!(child.try_wait().is_err() || child.try_wait().unwrap().is_some());
    assert_all_threads_in(host);
}

#[test]
#[serial]
fn an_external_program_sees_the_node() {
    let net = Net::build(&lab()).unwrap();
    // `cat /proc/net/dev` from inside n2 lists n2's interfaces, not the host's.
    let out = net["n2"]
        .command("cat")
        .unwrap()
        .arg("/proc/net/dev")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("n2-veth0") && text.contains("eth1"), "{text}");
    assert!(!text.contains("n1-veth0"), "{text}");
}

#[test]
#[serial]
fn teardown_kills_grandchildren_and_programs_started_without_the_api() {
    let marker = format!("NETNS_TEST_GRANDCHILD={}", std::process::id());
    let (key, value) = marker.split_once('=').unwrap();
    let net = Net::build(&lab()).unwrap();
    let inodes: Vec<u64> = net.nodes().iter().map(|n| n.netns().inode()).collect();
    // Through the API, a shell that forks two grandchildren and waits.
    let mut api = net["n1"]
        .command("sh")
        .unwrap()
        .args(["-c", "sleep 600 & sleep 600 & wait"])
        .env(key, value)
        .spawn()
        .unwrap();
    // Without the API: a plain std command spawned from a thread in the
    // node, and one that daemonizes (its shell exits at once, leaving an
    // orphan).
    let mut plain = net["n2"]
        .with(|| {
            std::process::Command::new("sleep")
                .arg("600")
                .env(key, value)
                .spawn()
                .unwrap()
        })
        .unwrap();
    let daemon = net["n3"]
        .with(|| {
            std::process::Command::new("sh")
                .args(["-c", "sleep 600 &"])
                .env(key, value)
                .status()
                .unwrap()
        })
        .unwrap();
    assert!(daemon.success());
    assert!(
        common::eventually(Duration::from_secs(2), || common::marked_processes(&marker)
            .len()
            >= 5),
        "the programs did not start: {:?}",
        common::marked_processes(&marker)
    );
    // All of them run inside the lab.
    for pid in common::marked_processes(&marker) {
        let ns = std::fs::metadata(format!("/proc/{pid}/ns/net")).map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.ino()
        });
        assert!(
            ns.is_ok_and(|i| inodes.contains(&i)),
            "{pid} is outside the lab"
        );
    }
    drop(net);
    assert!(
        common::eventually(Duration::from_secs(2), || common::marked_processes(&marker)
            .is_empty()),
        "processes outlived teardown: {:?}",
        common::marked_processes(&marker)
    );
    // Teardown reaped the children it killed: std's handles see them gone.
    for child in [&mut api, &mut plain] {
        assert!(child.try_wait().map_or(true, |s| s.is_some()));
    }
}

/// Teardown waits for a spawned thread until its closure has returned; from
/// then on the thread counts as finished, even while the OS thread is still
/// on its way out. Repeated, because that way out is short.
#[test]
#[serial]
fn a_thread_teardown_waited_for_is_finished() {
    for round in 0..50 {
        let net = Net::build(&Topology::new().node("n1")).unwrap();
        let worker = net["n1"]
            .spawn(|stop| {
                while !stop.is_stopped() {
                    std::thread::yield_now();
                }
            })
            .unwrap();
        drop(net);
        assert!(
            worker.is_finished(),
            "round {round}: teardown returned, the thread is not finished"
        );
        worker.join();
    }
}
