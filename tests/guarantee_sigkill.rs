//! Guarantee: SIGKILL of the test process, at any moment, leaves nothing.
//!
//! The outer test re-runs this binary on the ignored inner test, which
//! builds, pings, starts `sleep` and a thread in the nodes and tears down, in
//! a loop, printing what it makes. After a random 1-40 ms the outer sends
//! SIGKILL, then checks through the kernel, not through names:
//!
//! - the namespaces the child printed, and every namespace the kernel showed
//!   it holding (threads and fds) just before the kill, are held by no
//!   process of the machine;
//! - no process started by the child (each carries a marker in its
//!   environment) is alive, grandchildren included (a shell in a node forks
//!   two `sleep`s), and no printed `sleep` pid (with its start time) is:
//!   the supervisor chain (`PR_SET_PDEATHSIG`, then the death of the
//!   program's PID namespace) killed them with their parent;
//! - the host snapshot (links, addresses, routes, rules, `/run/netns`,
//!   sysctls, mounts) is unchanged after all the kills.
//!
//! A namespace inode is a number the kernel reuses once the namespace is
//! gone. So a holder of a matching inode that is not ours (no marker, not
//! the child) has a *new* namespace that reused the number; it is counted
//! and printed, not taken for a leak. (In CI nothing else creates
//! namespaces while this runs.)

mod common;

#[path = "support/host_snapshot.rs"]
#[allow(dead_code)]
mod host_snapshot;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netns_test::{Net, Topology};
use serial_test::serial;

/// Set on the inner process: its marker, inherited by everything it starts.
const TAG_ENV: &str = "NETNS_TEST_SIGKILL_TAG";
/// Makes the inner loop leak a process, for the negative control.
const LEAK_ENV: &str = "NETNS_TEST_SIGKILL_LEAK";
/// How many kills; `NETNS_TEST_SIGKILL_ITERATIONS` overrides it.
const ITERATIONS: usize = 100;

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
        .wire(
            ("n1", "w0", "2001:db8:2::1/64"),
            ("n3", "w0", "2001:db8:2::3/64"),
        )
}

/// The start time of a process (field 22 of `/proc/PID/stat`, in clock
/// ticks since boot) and its state letter, if it exists.
fn stat_of(pid: u32) -> Option<(u64, char)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    Some((fields.get(19)?.parse().ok()?, state))
}

/// The loop the outer test kills. Does nothing unless started by it.
#[test]
#[ignore = "run by sigkill_at_random_moments_leaves_nothing"]
fn sigkill_inner_loop() {
    if std::env::var_os(TAG_ENV).is_none() {
        return;
    }
    let lab = lab();
    println!("START");
    loop {
        println!("PHASE build");
        let net = Net::build(&lab).unwrap();
        for n in net.nodes() {
            println!("NS {}", n.netns().inode());
        }
        println!("PHASE body");
        let report = net["n1"].ping("198.51.100.2").run().unwrap();
        assert_eq!(report.received, 1);
        // Teardown kills and reaps it.
        let pid = net["n3"]
            .command("sleep")
            .unwrap()
            .arg("600")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
            .id();
        let (start, _) = stat_of(pid).unwrap();
        println!("PID {pid} {start}");
        // A program that forks grandchildren (they carry the marker too);
        // teardown kills and reaps it.
        #[allow(clippy::zombie_processes)]
        let _tree = net["n1"]
            .command("sh")
            .unwrap()
            .args(["-c", "sleep 600 & sleep 600 & wait"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if std::env::var_os(LEAK_ENV).is_some() {
            // The negative control: a process outside any node, without
            // PR_SET_PDEATHSIG, that survives the kill (on purpose: the
            // outer test finds and kills it).
            #[allow(clippy::zombie_processes)]
            let _leak = Command::new("sleep")
                .arg("30")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            println!("LEAKED");
        }
        net["n2"]
            .spawn(|stop| {
                while !stop.is_stopped() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
            .unwrap();
        println!("PHASE teardown");
        drop(net);
    }
}

/// A tiny xorshift: random kill delays without a dependency.
struct XorShift(u64);

impl XorShift {
    fn seeded() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        XorShift(nanos | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn netns_link(path: &Path) -> Option<u64> {
    let t = fs::read_link(path).ok()?;
    t.to_str()?
        .strip_prefix("net:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// The namespaces process `pid` holds through its threads and fds.
fn held_by(pid: u32) -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    if let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            set.extend(netns_link(&t.path().join("ns/net")));
        }
    }
    if let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) {
        for fd in fds.flatten() {
            set.extend(netns_link(&fd.path()));
        }
    }
    set
}

/// Whether process `pid` carries `tag` in its environment (a zombie has no
/// readable environment, and holds nothing).
fn has_tag(pid: u32, tag: &str) -> bool {
    let needle = format!("{TAG_ENV}={tag}");
    fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()))
        .unwrap_or(false)
}

fn comm(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// What one kill left, if anything: a list of complaints.
fn leftovers(
    tag: &str,
    inner: u32,
    inodes: &BTreeSet<u64>,
    sleeps: &[(u32, u64)],
    reused: &mut Vec<String>,
) -> Vec<String> {
    let mut bad = Vec::new();
    for pid in pids() {
        let ours = pid == inner || has_tag(pid, tag);
        if ours {
            bad.push(format!(
                "process {pid} ({}) of the child is alive",
                comm(pid)
            ));
        }
        for i in held_by(pid).intersection(inodes) {
            if ours {
                bad.push(format!("namespace {i} held by process {pid}"));
            } else {
                reused.push(format!("inode {i} now held by {pid} ({})", comm(pid)));
            }
        }
    }
    for &(pid, start) in sleeps {
        if let Some((s, state)) = stat_of(pid) {
            if s == start && state != 'Z' && state != 'X' {
                bad.push(format!("sleep {pid} survived its parent"));
            }
        }
    }
    bad
}

#[derive(Default)]
struct Seen {
    /// Namespace inodes: printed by the child, or held by it at the kill.
    inodes: BTreeSet<u64>,
    /// `sleep` children: (pid, start time).
    sleeps: Vec<(u32, u64)>,
    /// The last phase the child printed before it died.
    phase: String,
    cycles: usize,
}

fn parse_line(line: &str, seen: &mut Seen) {
    let mut words = line.split_whitespace();
    match words.next() {
        Some("NS") => {
            seen.inodes
                .extend(words.next().and_then(|w| w.parse::<u64>().ok()));
        }
        Some("PID") => {
            let pid = words.next().and_then(|w| w.parse().ok());
            let start = words.next().and_then(|w| w.parse().ok());
            if let (Some(p), Some(s)) = (pid, start) {
                seen.sleeps.push((p, s));
            }
        }
        Some("PHASE") => {
            let p = words.next().unwrap_or("").to_string();
            if p == "build" && !seen.phase.is_empty() {
                seen.cycles += 1;
            }
            seen.phase = p;
        }
        _ => {}
    }
}

/// When to kill the child.
enum KillAt {
    /// This long after its loop started.
    Delay(Duration),
    /// As soon as it prints this line.
    Line(&'static str),
}

/// Starts the inner loop with marker `tag` (and `extra_env`), kills it with
/// SIGKILL at `when`, reaps it and reads all it printed. Returns its pid,
/// what it printed, and the namespaces the kernel showed it holding right
/// before the kill (minus this process's own).
fn run_and_kill(tag: &str, when: KillAt, extra_env: &[(&str, &str)]) -> (u32, Seen) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sigkill_inner_loop",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(TAG_ENV, tag)
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut seen = Seen::default();
    // (libtest prints `test NAME ... ` without a newline before the body
    // runs, so START ends that line.)
    let wanted = match when {
        KillAt::Delay(_) => "START",
        KillAt::Line(l) => l,
    };
    let mut ready = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        parse_line(&line, &mut seen);
        if line.ends_with(wanted) {
            ready = true;
            break;
        }
    }
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the inner test did not print {wanted}:\n{}",
            err_reader.join().unwrap()
        );
    }
    if let KillAt::Delay(d) = when {
        std::thread::sleep(d);
    }
    // What the kernel shows the child holding right before the kill.
    let held = held_by(pid);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    if status.signal() != Some(libc::SIGKILL) {
        panic!(
            "the inner test ended by itself ({status}):\n{}",
            err_reader.join().unwrap()
        );
    }
    // The child's stdout closes once it (and anything holding the pipe) is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => parse_line(&line, &mut seen),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("the killed child's stdout is still open after 5 s")
            }
        }
    }
    reader.join().unwrap();
    let _ = err_reader.join();
    let base = common::my_netns();
    seen.inodes.extend(held.into_iter().filter(|i| *i != base));
    (pid, seen)
}

#[test]
#[serial]
fn sigkill_at_random_moments_leaves_nothing() {
    let iterations = std::env::var("NETNS_TEST_SIGKILL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ITERATIONS);
    let snap_before = host_snapshot::snapshot();
    let mut rng = XorShift::seeded();
    let started = Instant::now();
    let mut by_phase = BTreeMap::<String, usize>::new();
    let (mut cycles, mut namespaces, mut sleeps) = (0, 0, 0);
    let mut reused = Vec::new();
    // At least `iterations` kills, more (up to three times as many) until
    // one has landed in each phase of a cycle.
    let phases = ["build", "body", "teardown"];
    let mut it = 0;
    while it < iterations
        || (it < 3 * iterations && !phases.iter().all(|p| by_phase.contains_key(*p)))
    {
        it += 1;
        let tag = format!("{}-{it}-{}", std::process::id(), rng.next() % 1_000_000);
        let delay = Duration::from_millis(1 + rng.next() % 40);
        let (pid, seen) = run_and_kill(&tag, KillAt::Delay(delay), &[]);
        let mut complaints = Vec::new();
        let clean = common::eventually(Duration::from_secs(3), || {
            let mut r = Vec::new();
            complaints = leftovers(&tag, pid, &seen.inodes, &seen.sleeps, &mut r);
            if complaints.is_empty() {
                reused.extend(r);
            }
            complaints.is_empty()
        });
        assert!(
            clean,
            "kill {it} (in phase `{}`) left: {complaints:#?}",
            seen.phase
        );
        *by_phase.entry(seen.phase.clone()).or_default() += 1;
        cycles += seen.cycles;
        namespaces += seen.inodes.len();
        sleeps += seen.sleeps.len();
    }
    let elapsed = started.elapsed();
    let snap_after = host_snapshot::snapshot();
    for (section, lines) in &snap_before {
        assert_eq!(
            Some(lines),
            snap_after.get(section),
            "host section `{section}` changed"
        );
    }
    println!(
        "{it} SIGKILLs in {elapsed:.2?} ({:.1} ms each): killed in phase {by_phase:?}; \
         {cycles} full cycles, {namespaces} namespaces and {sleeps} sleep children checked; \
         {} inode numbers reused by other processes",
        elapsed.as_secs_f64() * 1000.0 / it as f64,
        reused.len()
    );
    for r in reused.iter().take(5) {
        println!("  reused: {r}");
    }
    // The kills landed in every phase of a cycle.
    for phase in phases {
        assert!(
            by_phase.get(phase).copied().unwrap_or(0) > 0 || iterations < ITERATIONS,
            "no kill landed in phase `{phase}`: {by_phase:?}"
        );
    }
    assert!(sleeps > 0 && namespaces > 0, "the child made nothing");
}

/// The negative control: the checks above do see a leak. The inner loop, told
/// to, starts a `sleep` outside any node without `PR_SET_PDEATHSIG`; after
/// the kill it is reported (and then killed here).
#[test]
#[serial]
fn the_sigkill_checks_do_see_a_leak() {
    let tag = format!("{}-control", std::process::id());
    let (pid, seen) = run_and_kill(&tag, KillAt::Line("LEAKED"), &[(LEAK_ENV, "1")]);
    std::thread::sleep(Duration::from_millis(20));
    let complaints = leftovers(&tag, pid, &seen.inodes, &seen.sleeps, &mut Vec::new());
    // Clean up the leak before asserting.
    for p in pids() {
        if has_tag(p, &tag) {
            // SAFETY: kill(2) of a process this test's child started.
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
    }
    assert!(
        complaints
            .iter()
            .any(|c| c.contains("(sleep) of the child is alive")),
        "the leaked sleep was not reported: {complaints:?}"
    );
    // The sleep in the node did die with its parent.
    assert!(!complaints.iter().any(|c| c.contains("survived its parent")));
}
