//! Guarantee: namespace and netlink fds never leak into other programs.
//!
//! Every fd of this process that refers to a network namespace (`net:[...]`)
//! or a socket (netlink, raw ICMP, the probes' sockets) is `O_CLOEXEC`, seen
//! by sampling `/proc/self/fd` and `/proc/self/fdinfo` while labs are being
//! built, inspected, probed and torn down; and a program started in a node
//! holds only its stdin, stdout and stderr, even when it is started while
//! other labs are being built on other threads.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{fd_flags, open_fds, FDINFO_CLOEXEC};
use netns_test::{Net, Topology};
use serial_test::serial;

fn lab() -> Topology {
    Topology::new()
        .link(
            ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
            ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8::2/64"]),
        )
        .bridge(
            "sw",
            [
                ("n2", "eth1", "203.0.113.2/24"),
                ("n3", "eth0", "203.0.113.3/24"),
            ],
        )
}

/// The socket domain of fd `fd` (`AF_NETLINK`, `AF_INET`, ...), if it is a socket.
fn socket_domain(fd: i32) -> Option<i32> {
    let mut domain: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt on an fd number writes at most `len` bytes into `domain`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            (&mut domain as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(domain)
}

/// What the sampler saw: fds by kind, and the ones without `O_CLOEXEC`.
#[derive(Default, Debug)]
struct Sampled {
    by_kind: BTreeMap<&'static str, usize>,
    not_cloexec: Vec<String>,
}

fn sample_once(s: &mut Sampled) {
    for (fd, target) in open_fds() {
        let Ok(n) = fd.parse::<i32>() else { continue };
        if n <= 2 {
            continue;
        }
        let kind = if target.starts_with("net:[") {
            "namespace"
        } else if target.starts_with("socket:[") {
            match socket_domain(n) {
                Some(libc::AF_NETLINK) => "netlink socket",
                Some(_) => "other socket",
                None => continue,
            }
        } else {
            continue;
        };
        // The fd may close between the two reads; skip it then.
        let Some(flags) = fd_flags(&fd) else { continue };
        *s.by_kind.entry(kind).or_default() += 1;
        if flags & FDINFO_CLOEXEC == 0 {
            s.not_cloexec
                .push(format!("fd {fd} -> {target} ({kind}), flags {flags:o}"));
        }
    }
}

#[test]
#[serial]
fn namespace_and_socket_fds_are_cloexec() {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut s = Sampled::default();
            while !stop.load(Ordering::Relaxed) {
                sample_once(&mut s);
            }
            s
        })
    };
    for _ in 0..30 {
        let net = Net::build(&lab()).unwrap();
        // Introspection and probes open netlink and raw sockets too.
        let _ = net["n2"].report().unwrap();
        assert_eq!(net["n1"].ping("2001:db8::2").run().unwrap().received, 1);
        let _ = net["n3"]
            .tcp_connect("203.0.113.2:9")
            .timeout(Duration::from_millis(100))
            .run()
            .unwrap();
        let _udp = net["n3"].with(|| std::net::UdpSocket::bind("203.0.113.3:0"));
    }
    // And once with a lab alive, without racing anything.
    let net = Net::build(&lab()).unwrap();
    let mut still = Sampled::default();
    sample_once(&mut still);
    stop.store(true, Ordering::Relaxed);
    let s = sampler.join().unwrap();
    drop(net);
    println!(
        "sampled while building: {:?}; with a lab alive: {:?}",
        s.by_kind, still.by_kind
    );
    assert!(
        s.not_cloexec.is_empty(),
        "fds without O_CLOEXEC: {:#?}",
        s.not_cloexec
    );
    assert!(
        still.not_cloexec.is_empty(),
        "fds without O_CLOEXEC: {:#?}",
        still.not_cloexec
    );
    // The sampler did see the fds in question.
    assert!(
        s.by_kind.get("namespace").copied().unwrap_or(0) > 0,
        "{s:?}"
    );
    assert!(
        s.by_kind.get("netlink socket").copied().unwrap_or(0) > 0,
        "{s:?}"
    );
    assert_eq!(
        still.by_kind.get("namespace").copied(),
        Some(4),
        "{still:?}"
    );
}

/// The fds of process `pid`: number -> target.
fn fds_of(pid: u32) -> BTreeMap<u32, String> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_str()?.parse().ok()?;
            let t = fs::read_link(e.path()).ok()?;
            Some((n, t.to_string_lossy().into_owned()))
        })
        .collect()
}

/// Fds this process inherited without `O_CLOEXEC` from whoever started it
/// (a shell may leave some open): every child inherits them too, they are
/// not ours.
fn inherited_fds() -> BTreeMap<u32, String> {
    open_fds()
        .into_iter()
        .filter_map(|(fd, target)| {
            let n: u32 = fd.parse().ok()?;
            let flags = fd_flags(&fd)?;
            (n > 2 && flags & FDINFO_CLOEXEC == 0).then_some((n, target))
        })
        .collect()
}

#[test]
#[serial]
fn a_program_in_a_node_holds_no_fd_of_ours() {
    let inherited = inherited_fds();
    // Other labs are built and torn down on another thread meanwhile, so
    // netlink sockets and namespace fds are open at the moments of fork.
    let stop = Arc::new(AtomicBool::new(false));
    let built = Arc::new(AtomicUsize::new(0));
    let churn = {
        let (stop, built) = (Arc::clone(&stop), Arc::clone(&built));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                drop(Net::build(&lab()).unwrap());
                built.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let net = Net::build(&lab()).unwrap();
    let n1 = net["n1"].netns().inode();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut checked = 0;
    let started = std::time::Instant::now();
    // At least 20 programs, and on until 20 labs were built meanwhile.
    while checked < 20
        || (built.load(Ordering::Relaxed) < 20 && started.elapsed() < Duration::from_secs(20))
    {
        let i = checked;
        let pid = if i % 5 == 4 {
            // A tokio command, spawned from inside an async context.
            rt.block_on(async {
                net["n1"]
                    .tokio_command("sleep")
                    .unwrap()
                    .arg("5")
                    .spawn()
                    .unwrap()
                    .id()
                    .unwrap()
            })
        } else {
            net["n1"]
                .command("sleep")
                .unwrap()
                .arg("5")
                .spawn()
                .unwrap()
                .id()
        };
        // `pid` is the supervisor (our code, holding only /dev/null and its
        // own two pipes); the program is its grandchild, the first child of
        // the init of its PID namespace.
        let supervisor = pid;
        let pid = common::eventually_some(Duration::from_secs(2), || {
            children_of(supervisor)
                .first()
                .and_then(|init| children_of(*init).first().copied())
        })
        .expect("the program under the supervisor");
        // spawn() returns after the exec, so close-on-exec has happened; but
        // `sleep` itself opens files while it starts (locale data): wait
        // for it to settle. An inherited fd would stay forever.
        let mut fds = BTreeMap::new();
        common::eventually(Duration::from_secs(2), || {
            fds = fds_of(pid);
            fds.retain(|n, t| inherited.get(n) != Some(t));
            fds.len() == 3
        });
        assert_eq!(
            fds.keys().copied().collect::<Vec<_>>(),
            vec![0, 1, 2],
            "`sleep` in n1 holds more than stdio (and {inherited:?}, inherited by this \
             process): {fds:#?}"
        );
        assert!(
            !fds.values()
                .any(|t| t.starts_with("net:[") || t.starts_with("socket:[")),
            "{fds:#?}"
        );
        let ns = fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
        assert_eq!(ns.to_string_lossy(), format!("net:[{n1}]"));
        // Done with it: kill and reap it now, so at most one runs at a time
        // (killing the supervisor ends the program's whole PID namespace).
        // SAFETY: kill(2) and waitpid(2) of a child of this process.
        unsafe {
            libc::kill(supervisor as i32, libc::SIGKILL);
            libc::waitpid(supervisor as i32, std::ptr::null_mut(), 0);
        }
        checked += 1;
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    let churned = built.load(Ordering::Relaxed);
    drop(net);
    println!(
        "{checked} programs checked in {:.2?} while {churned} other labs were built",
        started.elapsed()
    );
    assert!(churned >= 20);
}

/// The children of process `pid`, from `/proc/PID/task/*/children`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for task in fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(text) = fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}
