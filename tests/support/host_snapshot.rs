//! Prints a canonical snapshot of the calling process's network namespace
//! (the host's, when run as root) and of the other host state that netns-test
//! promises never to touch. Run it before and after a test suite and diff:
//!
//! ```sh
//! cargo run -q --example host_snapshot > before.txt
//! cargo test
//! cargo run -q --example host_snapshot > after.txt
//! diff -u before.txt after.txt     # must be empty
//! ```
//!
//! What it records, and what it leaves out because the kernel changes it on
//! its own (see docs/guarantees.md, "Host untouched"):
//!
//! | section | content |
//! | --- | --- |
//! | `links` | index, name, kind, flags (without `LOWER_UP`, the carrier), MTU, MAC, master, addresses; not the operstate |
//! | `routes` | the main tables, IPv4 and IPv6, as `ip route` prints them |
//! | `rules` | every IPv4 and IPv6 policy rule, as the kernel dumps it |
//! | `qdiscs` | interface, handle, parent and kind of every qdisc; not its counters |
//! | `neighbours` | PERMANENT entries only: the kernel creates, ages and drops the others by itself |
//! | `run-netns` | the names under `/run/netns` |
//! | `sysctls` | every readable file under `/proc/sys/net/{core,ipv4,ipv6}`, read from this namespace (minus `tcp_fastopen_key`, a secret the kernel may generate at any time) |
//! | `mounts` | `/proc/self/mountinfo`, verbatim |
//!
//! Run unprivileged, the library's constructor moves the process into a
//! private user and network namespace first; the network sections then
//! describe that empty namespace, not the machine's.
//!
//! The guarantee tests take the same snapshot in process (`mod
//! host_snapshot` from `tests/support/`); the `host_snapshot` example prints
//! it for CI.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use futures::TryStreamExt;
use netlink_packet_route::tc::TcAttribute;
use rtnetlink::IpVersion;

/// One snapshot: section name to its sorted lines.
pub(crate) type Snapshot = BTreeMap<&'static str, Vec<String>>;

/// Takes the snapshot of the calling thread's network namespace.
pub(crate) fn snapshot() -> Snapshot {
    let mut s = Snapshot::new();
    let report =
        netns_test::inspect::current_report("host").expect("dump the host namespace over netlink");
    let names: BTreeMap<u32, String> = report
        .links
        .iter()
        .map(|l| (l.index, l.name.clone()))
        .collect();
    s.insert(
        "links",
        report
            .links
            .iter()
            .map(|l| {
                let flags: Vec<&str> = l
                    .flags
                    .iter()
                    .copied()
                    .filter(|f| *f != "LOWER_UP")
                    .collect();
                let addrs: Vec<String> = l
                    .addrs
                    .iter()
                    .map(|a| match a.broadcast {
                        Some(b) => format!("{} brd {b} scope {}", a.addr, a.scope),
                        None => format!("{} scope {}", a.addr, a.scope),
                    })
                    .collect();
                format!(
                    "{}: {} kind {} <{}> mtu {} mac {} brd {} master {} addrs [{}]",
                    l.index,
                    l.name,
                    l.kind.as_deref().unwrap_or("-"),
                    flags.join(","),
                    l.mtu,
                    l.mac.as_deref().unwrap_or("-"),
                    l.broadcast.as_deref().unwrap_or("-"),
                    l.master.map_or("-".into(), |m| m.to_string()),
                    addrs.join(", ")
                )
            })
            .collect(),
    );
    s.insert(
        "routes",
        sorted(report.routes.iter().map(|r| r.to_string())),
    );
    s.insert(
        "neighbours",
        sorted(
            report
                .neighbours
                .iter()
                .filter(|n| n.state == "PERMANENT")
                .map(|n| {
                    format!(
                        "{} dev {} lladdr {} PERMANENT",
                        n.addr,
                        n.dev,
                        n.lladdr.as_deref().unwrap_or("-")
                    )
                }),
        ),
    );
    let (rules, qdiscs) = rules_and_qdiscs(&names).expect("dump rules and qdiscs over netlink");
    s.insert("rules", rules);
    s.insert("qdiscs", qdiscs);
    s.insert(
        "run-netns",
        match fs::read_dir("/run/netns") {
            Ok(d) => sorted(
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned()),
            ),
            Err(e) => vec![format!("<{:?}>", e.kind())],
        },
    );
    let mut sysctls = Vec::new();
    for dir in ["core", "ipv4", "ipv6"] {
        walk_sysctls(Path::new("/proc/sys/net").join(dir).as_path(), &mut sysctls);
    }
    sysctls.sort();
    s.insert("sysctls", sysctls);
    s.insert(
        "mounts",
        fs::read_to_string("/proc/self/mountinfo")
            .expect("read /proc/self/mountinfo")
            .lines()
            .map(str::to_string)
            .collect(),
    );
    s
}

fn sorted(it: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = it.collect();
    v.sort();
    v
}

/// Policy rules (IPv4 and IPv6) and qdiscs, straight from rtnetlink, on a
/// thread of their own (it inherits this thread's namespace) with a
/// current-thread runtime.
fn rules_and_qdiscs(names: &BTreeMap<u32, String>) -> io::Result<(Vec<String>, Vec<String>)> {
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let (conn, handle, _) = rtnetlink::new_connection()?;
                let task = tokio::spawn(conn);
                let mut rules = Vec::new();
                for v in [IpVersion::V4, IpVersion::V6] {
                    let mut dump = handle.rule().get(v).execute();
                    while let Some(r) = dump.try_next().await.map_err(io::Error::other)? {
                        rules.push(format!("{:?} {:?}", r.header, r.attributes));
                    }
                }
                let mut qdiscs = Vec::new();
                let mut dump = handle.clone().qdisc().get().execute();
                while let Some(q) = dump.try_next().await.map_err(io::Error::other)? {
                    let kind = q
                        .attributes
                        .iter()
                        .find_map(|a| match a {
                            TcAttribute::Kind(k) => Some(k.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    let ifindex = q.header.index as u32;
                    qdiscs.push(format!(
                        "dev {} handle {:x}:{:x} parent {:x}:{:x} {kind}",
                        names.get(&ifindex).cloned().unwrap_or(ifindex.to_string()),
                        q.header.handle.major,
                        q.header.handle.minor,
                        q.header.parent.major,
                        q.header.parent.minor,
                    ));
                }
                drop(dump);
                drop(handle);
                task.abort();
                let _ = task.await;
                rules.sort();
                qdiscs.sort();
                Ok((rules, qdiscs))
            })
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Every readable sysctl under `dir`, as `net.ipv4.x = value`.
fn walk_sysctls(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk_sysctls(&path, out);
            continue;
        }
        let key = path
            .strip_prefix("/proc/sys")
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('/', ".");
        if key.ends_with("tcp_fastopen_key") {
            continue;
        }
        // Write-only files (`route.flush`) and unset secrets (`stable_secret`)
        // refuse reads; the refusal is recorded, it is as stable as a value.
        let value = match fs::read(&path) {
            Ok(v) => String::from_utf8_lossy(&v)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            Err(err) => format!("<{:?}>", err.kind()),
        };
        out.push(format!("{key} = {value}"));
    }
}

/// Renders a snapshot as text, one `## section` header per section.
pub(crate) fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    for (section, lines) in s {
        out.push_str(&format!("## {section} ({} lines)\n", lines.len()));
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}
