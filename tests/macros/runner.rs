//! The runner behind `#[netns_test]`, called directly, without the macro.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use netns_test::__private::{execute, panic_message, Failure, Outcome, TestSpec};
use netns_test::Topology;

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    )
}

fn thread_inode() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

/// Interface names of the calling thread's namespace.
fn links_here() -> Vec<String> {
    let mut v: Vec<String> = nix::net::if_::if_nameindex()
        .unwrap()
        .iter()
        .map(|i| i.name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every reference this process holds to a network namespace, by inode:
/// threads inside it (`task TID`) and open fds (`fd N`).
fn ns_refs() -> HashMap<u64, Vec<String>> {
    let mut refs: HashMap<u64, Vec<String>> = HashMap::new();
    let parse = |link: std::path::PathBuf| -> Option<u64> {
        let s = link.to_str()?.to_string();
        s.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
    };
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(link) = std::fs::read_link(task.path().join("ns/net")) {
            if let Some(ino) = parse(link) {
                let tid = task.file_name().to_string_lossy().into_owned();
                refs.entry(ino).or_default().push(format!("task {tid}"));
            }
        }
    }
    for fd in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(link) = std::fs::read_link(fd.path()) {
            if let Some(ino) = parse(link) {
                let n = fd.file_name().to_string_lossy().into_owned();
                refs.entry(ino).or_default().push(format!("fd {n}"));
            }
        }
    }
    refs
}

fn spec(name: &'static str) -> TestSpec {
    TestSpec::new(name)
}

#[test]
fn two_bodies_hold_port_80_at_once() {
    let barrier = Arc::new(Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let b = Arc::clone(&barrier);
            thread::spawn(move || {
                execute(spec("macro_runner::port80"), move |_| {
                    let l = std::net::TcpListener::bind("127.0.0.1:80").unwrap();
                    b.wait(); // both hold port 80 now
                    drop(l);
                    Ok(())
                })
            })
        })
        .collect();
    for r in runs {
        let out = r.join().unwrap();
        assert!(matches!(out, Outcome::Passed), "{out:?}");
    }
}

#[test]
fn body_thread_named_after_test_in_chosen_node() {
    let out = execute(
        spec("some_crate::tests::named")
            .topology("two_hosts", two_hosts)
            .node("n2"),
        |ctx| {
            assert_eq!(thread::current().name(), Some("tests::named"));
            assert_eq!(ctx.node().name(), "n2");
            assert_eq!(thread_inode(), ctx.net()["n2"].netns().inode());
            std::net::UdpSocket::bind("198.51.100.2:0").unwrap();
            Ok(())
        },
    );
    assert!(matches!(out, Outcome::Passed), "{out:?}");
}

#[test]
fn panic_payload_is_the_original() {
    let out = execute(spec("x::p"), |_| panic!("original {}", 7));
    match out {
        Outcome::Panicked(p) => assert_eq!(panic_message(p.as_ref()), Some("original 7")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn err_return_is_reported_with_debug() {
    let out = execute(spec("x::e"), |_| Err(Failure::Returned("Oops(3)".into())));
    match out {
        Outcome::Returned(m) => assert_eq!(m, "test `e` returned an error: Oops(3)"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn setup_errors_carry_message_and_hint() {
    fn bad() -> Topology {
        Topology::new().node("a").node("a")
    }
    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let out = execute(spec("x::s").topology("bad", bad), move |_| {
        r.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    });
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    match out {
        Outcome::Setup(m) => assert_eq!(
            m,
            "test `s`: cannot build topology `bad`: invalid topology: node `a` is declared twice\n\
             hint: fix the topology description; nothing was created"
        ),
        other => panic!("{other:?}"),
    }
    let out = execute(
        spec("x::s").topology("two_hosts", two_hosts).node("n9"),
        |_| Ok(()),
    );
    match out {
        Outcome::Setup(m) => assert_eq!(
            m,
            "test `s`: `node = \"n9\"` names no node of topology `two_hosts`; its nodes are: `n1`, `n2`"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn network_is_torn_down_when_the_body_returns() {
    let (tx, rx) = mpsc::channel();
    let out = execute(spec("x::t").topology("two_hosts", two_hosts), move |ctx| {
        let inodes: Vec<u64> = ctx
            .net()
            .nodes()
            .iter()
            .map(|n| n.netns().inode())
            .collect();
        tx.send(inodes).unwrap();
        Ok(())
    });
    assert!(matches!(out, Outcome::Passed), "{out:?}");
    let inodes = rx.recv().unwrap();
    let refs = ns_refs();
    for ino in inodes {
        assert!(
            !refs.contains_key(&ino),
            "namespace {ino} still held: {refs:?}"
        );
    }
}

enum Msg {
    Started {
        tid: i32,
        inodes: Vec<u64>,
    },
    Woke {
        links: Vec<String>,
        reenter_error: Option<String>,
        probe_error: Option<String>,
    },
}

/// A body that overruns: the test fails fast, the network's interfaces are
/// gone, the runner's fds no longer hold the namespaces, only the detached
/// body thread holds its own node (and nothing else), the host is untouched,
/// and once the body returns nothing is left at all.
#[test]
fn timeout_fails_fast_and_tears_down() {
    let host_links = links_here();
    let host_inode = thread_inode();
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let out = execute(
        spec("macro_runner::overrun")
            .topology("two_hosts", two_hosts)
            .timeout(Duration::from_millis(300), "300ms"),
        move |ctx| {
            let inodes = ctx
                .net()
                .nodes()
                .iter()
                .map(|n| n.netns().inode())
                .collect();
            let tid = nix::unistd::gettid().as_raw();
            tx.send(Msg::Started { tid, inodes }).unwrap();
            thread::sleep(Duration::from_millis(6000));
            // Still in n1, which the runner emptied; n2 cannot be entered.
            let links = links_here();
            let reenter_error = ctx.net()["n2"].with(|| ()).err().map(|e| e.to_string());
            // n1 is no longer registered as ours (its inode may be reused by
            // a namespace we did not make): a probe from it is refused.
            let probe_error = netns_test::probe::ping(
                "127.0.0.1".parse().unwrap(),
                &netns_test::probe::PingOptions::new(),
            )
            .err()
            .map(|e| e.to_string());
            tx.send(Msg::Woke {
                links,
                reenter_error,
                probe_error,
            })
            .unwrap();
            Ok(())
        },
    );
    let elapsed = start.elapsed();
    let msg = match out {
        Outcome::TimedOut(m) => m,
        other => panic!("{other:?}"),
    };
    // Far less than the body's 6 s: the runner did not wait for it.
    assert!(elapsed < Duration::from_millis(4000), "{elapsed:?}");
    assert!(
        msg.starts_with(
            "test `overrun` timed out: its body ran longer than `timeout = \"300ms\"`.\n\
             The network was torn down (1 interface(s) deleted in 2 node(s), namespace fds closed)"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("left running, detached, in node `n1`"),
        "{msg}"
    );

    let Msg::Started { tid, inodes } = rx.recv().unwrap() else {
        unreachable!()
    };
    let (n1, n2) = (inodes[0], inodes[1]);
    // The body is still asleep. n2 is held by nothing in this process; n1
    // only by the body's thread.
    let refs = ns_refs();
    assert!(
        !refs.contains_key(&n2),
        "n2 still held: {:?}",
        refs.get(&n2)
    );
    assert_eq!(
        refs.get(&n1),
        Some(&vec![format!("task {tid}")]),
        "{refs:?}"
    );
    // Look into n1 through the body's thread: only lo is left.
    let n1_fd = File::open(format!("/proc/self/task/{tid}/ns/net")).unwrap();
    let in_n1 = thread::spawn(move || {
        nix::sched::setns(&n1_fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        (thread_inode(), links_here())
    })
    .join()
    .unwrap();
    assert_eq!(in_n1, (n1, vec!["lo".to_string()]));
    // The host is untouched.
    assert_eq!(thread_inode(), host_inode);
    assert_eq!(links_here(), host_links);

    // The body wakes up, sees the emptied node and cannot enter n2.
    let Msg::Woke {
        links,
        reenter_error,
        probe_error,
    } = rx.recv_timeout(Duration::from_secs(10)).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(links, ["lo"]);
    let e = reenter_error.expect("entering n2 after the timeout worked");
    assert!(e.contains("setns into node `n2`"), "{e}");
    let e = probe_error.expect("a probe ran from the released node");
    assert!(e.contains("refusing to send a probe"), "{e}");
    // Once it returns, nothing holds n1 either.
    let deadline = Instant::now() + Duration::from_secs(5);
    while ns_refs().contains_key(&n1) {
        assert!(Instant::now() < deadline, "n1 still held: {:?}", ns_refs());
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn timeout_not_reached_passes() {
    let out = execute(
        spec("x::fast").timeout(Duration::from_secs(5), "5s"),
        |_| Ok(()),
    );
    assert!(matches!(out, Outcome::Passed), "{out:?}");
}

/// Runs `f` on a thread named `name`, as libtest runs a test, and returns
/// its value.
fn on_thread_named<R: Send + 'static>(name: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn on_the_tests_own_thread_the_body_runs_there_and_the_thread_comes_back() {
    // libtest names a test's thread after the test: the body runs on that
    // thread, inside the node, and the thread is back home afterwards, also
    // after a panic.
    for panics in [false, true] {
        let (caller, home, body, after) = on_thread_named("tests::inline", move || {
            let caller = thread::current().id();
            let home = thread_inode();
            let (tx, rx) = mpsc::channel();
            let out = execute(
                spec("some_crate::tests::inline").topology("two_hosts", two_hosts),
                move |ctx| {
                    let here = (
                        thread::current().id(),
                        thread_inode(),
                        ctx.node().netns().inode(),
                    );
                    tx.send(here).unwrap();
                    if panics {
                        panic!("inline boom");
                    }
                    Ok(())
                },
            );
            assert_eq!(matches!(out, Outcome::Panicked(_)), panics, "{out:?}");
            (caller, home, rx.recv().unwrap(), thread_inode())
        });
        let (body_thread, body_ns, node_ns) = body;
        assert_eq!(body_thread, caller, "the body ran on another thread");
        assert_eq!(body_ns, node_ns, "the body ran outside its node");
        assert_ne!(body_ns, home);
        assert_eq!(
            after, home,
            "the thread did not come back (panic: {panics})"
        );
    }
}

#[test]
fn with_a_time_limit_or_another_name_the_body_gets_a_thread_of_its_own() {
    let limited = spec("some_crate::tests::limited").timeout(Duration::from_secs(30), "30s");
    let runs = [
        (limited, "tests::limited", "tests::limited"),
        (
            spec("some_crate::tests::other"),
            "a_pool_thread",
            "tests::other",
        ),
    ];
    for (spec, caller_name, body_name) in runs {
        let (caller, body, name) = on_thread_named(caller_name, move || {
            let caller = thread::current().id();
            let (tx, rx) = mpsc::channel();
            let out = execute(spec, move |_| {
                let me = thread::current();
                tx.send((me.id(), me.name().map(str::to_string))).unwrap();
                Ok(())
            });
            assert!(matches!(out, Outcome::Passed), "{out:?}");
            let (body, name) = rx.recv().unwrap();
            (caller, body, name)
        });
        assert_ne!(
            body, caller,
            "{caller_name}: the body ran on the caller's thread"
        );
        assert_eq!(name.as_deref(), Some(body_name));
    }
}
