//! Programs run in a node with `Node::command`: each runs under a
//! supervisor in a PID namespace of its own, and behaves as a plain child
//! would (exit status, signals, output, spawn errors).

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use netns_test::{Net, Topology};
use serial_test::serial;

use crate::common;

fn one_node() -> Net {
    Net::build(&Topology::new().node("n1")).unwrap()
}

#[test]
#[serial]
fn exit_status_and_output_are_the_programs() {
    let net = one_node();
    let status = net["n1"]
        .command("sh")
        .unwrap()
        .args(["-c", "exit 7"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7));
    let out = net["n1"]
        .command("sh")
        .unwrap()
        .args(["-c", "echo out; echo err >&2; echo $$"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // `$$` is 2: the program is the first child of its namespace's init.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n2\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
}

#[test]
#[serial]
fn a_missing_program_is_a_spawn_error() {
    let net = one_node();
    let err = net["n1"]
        .command("/nonexistent/netns-test-program")
        .unwrap()
        .spawn()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
}

#[test]
#[serial]
fn signals_reach_the_program_and_its_death_is_reported() {
    let net = one_node();
    let mut child = net["n1"]
        .command("sleep")
        .unwrap()
        .arg("600")
        .spawn()
        .unwrap();
    // Let the supervisor chain come up, then ask politely.
    std::thread::sleep(Duration::from_millis(50));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

#[test]
#[serial]
fn killing_the_child_kills_what_it_forked() {
    let net = one_node();
    let marker = format!("NETNS_TEST_KILLTREE={}", std::process::id());
    let (key, value) = marker.split_once('=').unwrap();
    let mut child = net["n1"]
        .command("sh")
        .unwrap()
        .args(["-c", "sleep 600 & sleep 600 & wait"])
        .env(key, value)
        .spawn()
        .unwrap();
    assert!(common::eventually(Duration::from_secs(2), || {
        common::marked_processes(&marker).len() >= 3
    }));
    child.kill().unwrap();
    child.wait().unwrap();
    // No teardown yet: the kernel ended the program's PID namespace.
    assert!(
        common::eventually(Duration::from_secs(2), || common::marked_processes(&marker)
            .is_empty()),
        "{:?}",
        common::marked_processes(&marker)
    );
}
