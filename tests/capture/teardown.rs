//! Teardown ends the capture: no reader thread, no packet socket left.

use netns_test::capture::Filter;
use netns_test::Net;

use super::routed;

/// Threads of this process named like the capture's reader.
fn reader_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "nt-capture")
        })
        .count()
}

/// Whether `f` holds within 2 s: a joined thread's entry in
/// `/proc/self/task` can outlive the join by a moment (the kernel clears
/// the thread id the join waits for before it releases the task).
fn soon(f: impl Fn() -> bool) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !f() {
        if std::time::Instant::now() > until {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    true
}

/// This process's open fds.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// This process's open sockets (packet sockets among them).
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

#[test]
#[ignore = "counts threads and fds of the whole process: run alone, in a child, by the test below"]
fn fixture_teardown_leaves_nothing() {
    // A first lab opens what the process keeps for good (none expected, but
    // do not count it).
    drop(Net::build(&routed()).unwrap());
    let fds = open_fds();
    let sockets = open_sockets();
    assert_eq!(reader_threads(), 0);

    let net = Net::build(&routed()).unwrap();
    let cap = net.capture().unwrap();
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    // The reader names itself once it runs: until then it bears its
    // creator's name.
    assert!(soon(|| reader_threads() == 1), "one reader per network");
    // 4 packet sockets (and the lab's netlink sockets).
    assert!(
        open_sockets() >= sockets + 4,
        "{} sockets, {} before",
        open_sockets(),
        sockets
    );
    assert!(cap.is_running());
    drop(net);
    assert!(!cap.is_running());
    assert!(soon(|| reader_threads() == 0), "the reader was joined");
    assert_eq!(open_sockets(), sockets, "every socket closed");
    // What was captured stays readable.
    assert_eq!(cap.count(&Filter::echo_request()), 4);
    // The last handle holds the capture's eventfd; nothing else is left.
    drop(cap);
    assert_eq!(open_fds(), fds);
}

#[test]
fn teardown_leaves_no_socket_or_thread() {
    super::run_fixture("teardown::fixture_teardown_leaves_nothing");
}
