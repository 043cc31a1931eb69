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

/// Set in the child process that runs
/// [`inner_the_supervisor_lets_go_of_fds_without_close_range`].
const NO_CLOSE_RANGE_ENV: &str = "NETNS_TEST_NO_CLOSE_RANGE";

/// What each fd of process `pid` points to, by number.
fn fds_of(pid: u32) -> Vec<(u32, String)> {
    let mut fds: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap_or_else(|e| panic!("the fds of {pid}: {e}"))
        .flatten()
        .filter_map(|e| {
            let fd = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect();
    fds.sort();
    fds
}

/// Runs in a child process where `close_range` fails (ENOSYS): the
/// supervisor (C) and its init (G) of a program still hold nothing of the
/// test process but their standard streams on `/dev/null` and their two
/// pipes, and `spawn` returns while the program runs (no copy of std's
/// exec-error pipe is left open to keep it waiting).
#[test]
#[ignore = "run by the_supervisor_lets_go_of_fds_without_close_range, in a child process"]
fn inner_the_supervisor_lets_go_of_fds_without_close_range() {
    if std::env::var_os(NO_CLOSE_RANGE_ENV).is_none() {
        return;
    }
    let marker = tempfile::NamedTempFile::new().unwrap();
    let marker_path = marker.path().to_string_lossy().into_owned();
    let net = one_node();
    let mut child = net["n1"]
        .command("sleep")
        .unwrap()
        .arg("5")
        .spawn()
        .unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "spawn returned only after the program ended"
    );
    let c = child.id();
    let children = std::fs::read_to_string(format!("/proc/{c}/task/{c}/children")).unwrap();
    let g: u32 = children.trim().parse().unwrap();
    for (who, pid) in [("supervisor", c), ("init", g)] {
        // The init starts the program first and then lets go of the fds
        // (its close loop holds `/proc/self/fd` open meanwhile): give it
        // up to 5 s to be done.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut fds = fds_of(pid);
        while fds.iter().any(|(_, t)| t.starts_with("/proc/")) && std::time::Instant::now() < until
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
            fds = fds_of(pid);
        }
        assert!(
            fds.iter().all(|(_, t)| *t != marker_path),
            "the {who} holds the test process's file {marker_path}: {fds:?}"
        );
        assert_eq!(fds.len(), 5, "the {who}'s fds: {fds:?}");
        assert!(
            fds[..3].iter().all(|(_, t)| t == "/dev/null")
                && fds[3..].iter().all(|(_, t)| t.starts_with("pipe:")),
            "the {who}'s fds: {fds:?}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    println!("SUPERVISOR FDS RELEASED");
}

/// [`run_ignored_in_child`](crate::common::run_ignored_in_child) of `name`
/// with `env` set; its output, after checking that it printed `done`.
fn run_inner(
    name: &str,
    env: &str,
    hook: Option<fn() -> std::io::Result<()>>,
    done: &str,
) -> String {
    let text = crate::common::run_ignored_in_child(name, (env, "1"), hook);
    assert!(text.contains(done), "{text}");
    text
}

/// A kernel without `close_range` (or a seccomp profile that refuses it):
/// the supervisor closes the inherited fds one by one instead.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_supervisor_lets_go_of_fds_without_close_range() {
    run_inner(
        "programs::inner_the_supervisor_lets_go_of_fds_without_close_range",
        NO_CLOSE_RANGE_ENV,
        Some(common::seccomp::refuse_close_range),
        "SUPERVISOR FDS RELEASED",
    );
}

/// Set in the child process that runs
/// [`inner_a_program_killed_by_sigabrt_leaves_no_core_of_the_supervisor`].
const CORE_ENV: &str = "NETNS_TEST_CORE_LIMIT";

/// Runs in a child process whose core size limit is unlimited (cores are
/// written to the working directory here): a program that dies of SIGABRT
/// is reported so, and the supervisor, which dies of the same signal to
/// say it, dumps no core of itself (a copy of the test process).
#[test]
#[ignore = "run by a_program_killed_by_sigabrt_leaves_no_core_of_the_supervisor, in a child process"]
fn inner_a_program_killed_by_sigabrt_leaves_no_core_of_the_supervisor() {
    if std::env::var_os(CORE_ENV).is_none() {
        return;
    }
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_CORE).unwrap();
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    // Only a core file in the working directory can be looked for.
    if hard < 4096 || pattern.starts_with('|') || pattern.contains('/') {
        println!("CANNOT SEE CORES: hard core limit {hard}, core_pattern {pattern:?}");
        return;
    }
    setrlimit(Resource::RLIMIT_CORE, hard, hard).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let net = one_node();
    let status = net["n1"]
        .command("sh")
        .unwrap()
        // The program itself dumps no core.
        .args(["-c", "ulimit -c 0; kill -ABRT $$"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        !status.core_dumped() && files.is_empty(),
        "the supervisor dumped core: {status:?}, files {files:?}"
    );
    println!("NO CORE");
}

#[test]
fn a_program_killed_by_sigabrt_leaves_no_core_of_the_supervisor() {
    let text = run_inner(
        "programs::inner_a_program_killed_by_sigabrt_leaves_no_core_of_the_supervisor",
        CORE_ENV,
        None,
        "CORE",
    );
    if let Some(line) = text.lines().find(|l| l.starts_with("CANNOT SEE CORES")) {
        eprintln!("skipped: this machine writes no core files here ({line})");
        return;
    }
    assert!(text.contains("NO CORE"), "{text}");
}
