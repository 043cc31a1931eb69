//! Help for the person debugging a failed test, on request.
//!
//! * `NETNS_TEST_DUMP=1`: when a `#[netns_test]` body fails (a panic or an
//!   `Err`), print every node's links, addresses, routes and neighbours
//!   (`ip address`, `ip route`, `ip neigh` style) before the network is torn
//!   down.
//! * `NETNS_TEST_KEEP=1` (or `NETNS_TEST_KEEP=/some/dir`): keep the network
//!   of a failed test for inspection. Each node's namespace is bind-mounted
//!   at `/run/netns/nt-<test>-<node>` (or in the directory given), where
//!   `ip netns exec`, `nsenter --net=FILE` and tcpdump can reach it after the
//!   test process has exited. This is the one thing netns-test ever leaves
//!   on the host, and only when asked: remove each with `ip netns del NAME`
//!   (or `umount FILE && rm FILE`). Needs root: a rootless test process may
//!   not mount on the host.

use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::lab::Net;

/// Print every node's state when a test fails.
pub const DUMP_ENV: &str = "NETNS_TEST_DUMP";
/// Keep a failed test's namespaces mounted for inspection.
pub const KEEP_ENV: &str = "NETNS_TEST_KEEP";

fn env_on(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty() && v != "0")
}

/// What the runner calls when a test body failed, while the network is
/// still alive. Prints to stderr, which the harness captures with the test.
pub(crate) fn on_failure(test: &str, net: &Net) {
    if env_on(DUMP_ENV).is_some() {
        eprintln!("netns-test: the network of failed test `{test}`:");
        for node in net.nodes() {
            match node.report() {
                Ok(r) => eprint!("{r}"),
                Err(e) => eprintln!("node {}: cannot read its state: {e}", node.name()),
            }
        }
    }
    if let Some(v) = env_on(KEEP_ENV) {
        let dir = if v == "1" {
            PathBuf::from("/run/netns")
        } else {
            PathBuf::from(v)
        };
        match keep(test, net, &dir) {
            Ok(kept) => {
                eprintln!(
                    "netns-test: kept the network of failed test `{test}` ({KEEP_ENV} is set):"
                );
                for (node, path) in &kept {
                    eprintln!("  node {node}: {}", path.display());
                }
                if dir == Path::new("/run/netns") {
                    if let Some((_, first)) = kept.first() {
                        let name = first
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default();
                        eprintln!("  inspect: ip netns exec {name} ip address");
                    }
                    eprintln!("  remove:  ip netns del NAME (for each)");
                } else {
                    eprintln!(
                        "  inspect: nsenter --net=FILE ip address; remove: umount FILE && rm FILE"
                    );
                }
            }
            Err(e) => eprintln!(
                "netns-test: cannot keep the network of failed test `{test}` in {}: {e} \
                 (keeping needs root)",
                dir.display()
            ),
        }
    }
}

/// A file name for a test's node: `nt-<test>-<node>`, path separators and
/// other odd characters turned into `-`.
pub(crate) fn kept_name(test: &str, node: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("nt-{}-{}", clean(&test.replace("::", ".")), clean(node))
}

/// Bind-mounts every node's namespace into `dir`; returns (node, file).
fn keep(test: &str, net: &Net, dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    fs::create_dir_all(dir)?;
    let mut kept = Vec::new();
    for node in net.nodes() {
        let target = dir.join(kept_name(test, node.name()));
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)?;
        let source = format!("/proc/self/fd/{}", node.netns().as_raw_fd());
        if let Err(e) = nix::mount::mount(
            Some(source.as_str()),
            &target,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        ) {
            let _ = fs::remove_file(&target);
            return Err(crate::error::errno(e));
        }
        kept.push((node.name().to_string(), target));
    }
    Ok(kept)
}
