//! Helpers shared by the integration tests: host snapshots and kernel-level
//! namespace accounting.
#![allow(dead_code)]

#[cfg(target_arch = "x86_64")]
pub(crate) mod seccomp;
pub(crate) mod suite_files;

use std::collections::BTreeSet;
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use netns_test::inspect::current_report;
use netns_test::Node;

/// A small lab of every kind of link: n1 -- n2 over a veth (IPv4 and IPv6),
/// and n2, n3 on a bridge in switch node `sw`.
pub(crate) fn veth_and_bridge_lab() -> netns_test::Topology {
    netns_test::Topology::new()
        .link(
            ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8:1::1/64"]),
            ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8:1::2/64"]),
        )
        .bridge(
            "sw",
            [
                netns_test::Endpoint::new("n2", "eth1").addr("203.0.113.2/24"),
                // A wire joins n3 to the bridge, through the hub and the relay.
                netns_test::Endpoint::new("n3", "eth0")
                    .addr("203.0.113.3/24")
                    .wire(),
            ],
        )
        .wire(
            ("n1", "w0", "2001:db8:2::1/64"),
            ("n3", "w0", "2001:db8:2::3/64"),
        )
}

/// What a test must leave unchanged in the host namespace.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HostSnapshot {
    pub links: Vec<String>,
    pub routes: Vec<String>,
    pub run_netns: Vec<String>,
}

/// Links (name, index, kind, mtu, addresses), main-table routes and `/run/netns`.
pub(crate) fn host_snapshot() -> HostSnapshot {
    let r = current_report("host").expect("report of the host namespace");
    HostSnapshot {
        links: r
            .links
            .iter()
            .map(|l| {
                let addrs: Vec<String> = l.addrs.iter().map(|a| a.addr.to_string()).collect();
                format!(
                    "{} {} {:?} mtu {} {:?}",
                    l.index, l.name, l.kind, l.mtu, addrs
                )
            })
            .collect(),
        routes: r.routes.iter().map(|r| r.to_string()).collect(),
        run_netns: fs::read_dir("/run/netns")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The calling thread's network namespace inode.
pub(crate) fn my_netns() -> u64 {
    fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

/// The namespace inode of every thread of this process.
pub(crate) fn thread_netns() -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for task in fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(m) = fs::metadata(task.path().join("ns/net")) {
            out.push((task.file_name().to_string_lossy().into_owned(), m.ino()));
        }
    }
    out
}

/// Fails unless every thread of the process is in namespace `inode`.
pub(crate) fn assert_all_threads_in(inode: u64) {
    let stray: Vec<_> = thread_netns()
        .into_iter()
        .filter(|(_, i)| *i != inode)
        .collect();
    assert!(
        stray.is_empty(),
        "threads outside namespace {inode}: {stray:?}"
    );
}

fn netns_inode_of_link(path: &std::path::Path) -> Option<u64> {
    let target = fs::read_link(path).ok()?;
    let t = target.to_str()?;
    t.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
}

/// Every network namespace the kernel shows as held by some process of the
/// machine: through a thread (`/proc/*/task/*/ns/net`) or an fd.
pub(crate) fn kernel_netns_inodes() -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for proc_ in fs::read_dir("/proc").unwrap().flatten() {
        let p = proc_.path();
        if !proc_
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(tasks) = fs::read_dir(p.join("task")) {
            for t in tasks.flatten() {
                if let Some(i) = netns_inode_of_link(&t.path().join("ns/net")) {
                    set.insert(i);
                }
            }
        }
        if let Ok(fds) = fs::read_dir(p.join("fd")) {
            for fd in fds.flatten() {
                if let Some(i) = netns_inode_of_link(&fd.path()) {
                    set.insert(i);
                }
            }
        }
    }
    set
}

/// Sends one UDP datagram from `from` to `to` (a listener bound in `to_node`)
/// and says whether it arrived within `wait`.
pub(crate) fn udp_crosses(
    from_node: &Node,
    from: SocketAddr,
    to_node: &Node,
    to: SocketAddr,
    wait: Duration,
) -> bool {
    let rx = to_node.with(|| UdpSocket::bind(to)).unwrap().unwrap();
    let tx = from_node.with(|| UdpSocket::bind(from)).unwrap().unwrap();
    rx.set_read_timeout(Some(wait)).unwrap();
    let _ = tx.send_to(b"netns-test", rx.local_addr().unwrap());
    let mut buf = [0u8; 64];
    loop {
        match rx.recv_from(&mut buf) {
            // A wait cut short by a signal or a stop and continue.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            got => return matches!(got, Ok((10, _))),
        }
    }
}

/// Namespace inodes held by this process (its threads and fds), sorted.
pub(crate) fn process_netns() -> Vec<u64> {
    let mut v: Vec<u64> = thread_netns().into_iter().map(|(_, i)| i).collect();
    for fd in fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Some(i) = netns_inode_of_link(&fd.path()) {
            v.push(i);
        }
    }
    v.sort();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------
// Helpers of the guarantee suites (tests/guarantee_*.rs).

/// Polls `f` every 2 ms until it returns a value or `limit` passes.
pub(crate) fn eventually_some<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Polls `cond` every 2 ms until it holds or `limit` passes; returns whether
/// it held. For things the kernel finishes asynchronously (a joined thread's
/// `/proc` entry, a killed child's exit).
pub(crate) fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Fails unless, within 2 s, every thread of the process is in namespace
/// `inode` (a thread that has just been joined may still show its namespace
/// for a moment: the kernel releases it after `pthread_join` returns).
pub(crate) fn assert_all_threads_back_in(inode: u64) {
    if !eventually(Duration::from_secs(2), || {
        thread_netns().iter().all(|(_, i)| *i == inode)
    }) {
        assert_all_threads_in(inode);
    }
}

/// Fails unless, within 2 s, no process of the machine holds any of
/// `inodes` through a thread or an fd.
pub(crate) fn assert_namespaces_gone(inodes: &[u64]) {
    let mut held = Vec::new();
    let gone = eventually(Duration::from_secs(2), || {
        let alive = kernel_netns_inodes();
        held = inodes
            .iter()
            .copied()
            .filter(|i| alive.contains(i))
            .collect();
        held.is_empty()
    });
    assert!(gone, "namespaces still held by some process: {held:?}");
}

/// The `flags:` field of `/proc/self/fdinfo/FD` (octal), if the fd is open.
pub(crate) fn fd_flags(fd: &str) -> Option<u32> {
    let info = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    let line = info.lines().find(|l| l.starts_with("flags:"))?;
    u32::from_str_radix(line.trim_start_matches("flags:").trim(), 8).ok()
}

/// `O_CLOEXEC` as `/proc/PID/fdinfo` shows it.
pub(crate) const FDINFO_CLOEXEC: u32 = 0o2000000;

/// Open fds of this process: (fd number, what it points to).
pub(crate) fn open_fds() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for e in fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(t) = fs::read_link(e.path()) {
            v.push((name, t.to_string_lossy().into_owned()));
        }
    }
    v
}

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmHWM`).
pub(crate) fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns (soft, hard).
pub(crate) fn raise_nofile_limit() -> (libc::rlim_t, libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    (lim.rlim_cur, lim.rlim_max)
}

#[path = "../support/processes.rs"]
mod processes;
#[allow(unused_imports)] // not every test binary uses it
pub(crate) use processes::marked_processes;

/// Whether the `ip` binary can run here (CI installs it as a test oracle;
/// the library never runs it).
pub(crate) fn ip_installed() -> bool {
    std::process::Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the `nft` binary can run here (CI installs it as a test oracle;
/// the library never runs it).
pub(crate) fn nft_installed() -> bool {
    std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What `nft list ruleset` prints inside `node` (it must succeed).
pub(crate) fn nft_list_ruleset(node: &Node) -> String {
    let out = node
        .command("nft")
        .unwrap()
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `program args` inside `node` (a tool building a lab the library
/// does not: `ip rule`, an `nft` table); it must succeed.
pub(crate) fn run_in(node: &Node, program: &str, args: &[&str]) {
    let out = node.command(program).unwrap().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} in {}: {}",
        node.name(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A child's standard output, then its standard error, as text.
pub(crate) fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the ignored test `name` of this test binary alone in a child
/// process, with `env` set (the inner test reads it and does nothing
/// without it) and `hook` run in the child before exec; fails unless the
/// child succeeds without a panic. Its output, standard output first.
pub(crate) fn run_ignored_in_child(
    name: &str,
    env: (&str, &str),
    hook: Option<fn() -> std::io::Result<()>>,
) -> String {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--ignored", "--nocapture"])
        .env(env.0, env.1);
    if let Some(hook) = hook {
        // SAFETY: the hooks passed here make plain system calls and
        // allocate nothing.
        unsafe { cmd.pre_exec(hook) };
    }
    let out = cmd.output().unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "the child failed:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// h1 (198.51.100.1) and h2 (198.51.100.2) on one inside segment behind
/// r1 (198.51.100.62 | 203.0.113.1), with `nats`; srv (203.0.113.10)
/// outside.
pub(crate) fn two_inside(nats: Vec<netns_test::firewall::Nat>) -> netns_test::Topology {
    let t = netns_test::Topology::new()
        .bridge(
            "lan",
            [
                ("h1", "eth0", "198.51.100.1/26"),
                ("h2", "eth0", "198.51.100.2/26"),
                ("r1", "eth0", "198.51.100.62/26"),
            ],
        )
        .link(
            ("r1", "eth1", "203.0.113.1/24"),
            ("srv", "eth0", "203.0.113.10/24"),
        )
        .forwarding("r1")
        .route("h1", netns_test::Route::default_via("198.51.100.62"))
        .route("h2", netns_test::Route::default_via("198.51.100.62"));
    nats.into_iter().fold(t, |t, nat| t.nat("r1", nat))
}

/// h1 -- r1 -- h2 in IPv4 and IPv6 (198.51.100.0/24 and 2001:db8:1::/64
/// inside, 203.0.113.0/24 and 2001:db8:2::/64 outside), with the hosts'
/// routes through r1, which forwards when `forwarding`.
pub(crate) fn dual_stack_router(forwarding: bool) -> netns_test::Topology {
    let t = netns_test::Topology::new()
        .link(
            ("h1", "eth0", ["198.51.100.1/24", "2001:db8:1::1/64"]),
            ("r1", "eth0", ["198.51.100.254/24", "2001:db8:1::fe/64"]),
        )
        .link(
            ("r1", "eth1", ["203.0.113.254/24", "2001:db8:2::fe/64"]),
            ("h2", "eth0", ["203.0.113.1/24", "2001:db8:2::1/64"]),
        )
        .route("h1", netns_test::Route::default_via("198.51.100.254"))
        .route("h1", netns_test::Route::default_via("2001:db8:1::fe"))
        .route("h2", netns_test::Route::default_via("203.0.113.254"))
        .route(
            "h2",
            netns_test::Route::to("2001:db8:1::/64")
                .via("2001:db8:2::fe")
                .dev("eth0"),
        );
    if forwarding {
        t.forwarding("r1")
    } else {
        t
    }
}
