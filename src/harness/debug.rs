//! Help for the person debugging a failed test, on request.
//!
//! * `NETNS_TEST_DUMP=1`: when a `#[netns_test]` body fails (a panic or an
//!   `Err`), print every node's links, addresses, routes and neighbours
//!   (`ip address`, `ip route`, `ip neigh` style) before the network is torn
//!   down.
//! * `NETNS_TEST_KEEP=1` (or `NETNS_TEST_KEEP=/some/dir`): keep the network
//!   of a failed test for inspection. Each node's namespace is bind-mounted
//!   at `/run/netns/nt-<binary>.<test>@<node>` (or in the directory given;
//!   `<binary>` is the test binary's name, `::` in the test's path is `.`:
//!   see [`kept_name`]), where `ip netns exec`, `nsenter --net=FILE` and
//!   tcpdump can reach it after the test process has exited. This is the one thing netns-test ever leaves
//!   on the host, and only when asked: remove each with `ip netns del NAME`
//!   (or `umount FILE && rm FILE`). A second keep of the same test finds
//!   the files of the first and says which, and how to remove them. Needs
//!   root: a rootless test process may not mount on the host.
//!
//! Both are switches, read as `env.rs` reads them (`1`, `true`, `yes`
//! on; `0`, `false`, `no`, empty off); `NETNS_TEST_KEEP` also takes an
//! absolute directory. Any other value leaves the feature off, with a
//! warning printed once.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::lab::Net;
use crate::sys::env::{self, BadValue};
use crate::sys::privilege::{self, Privilege};

/// Print every node's state when a test fails.
pub const DUMP_ENV: &str = "NETNS_TEST_DUMP";
/// Keep a failed test's namespaces mounted for inspection.
pub const KEEP_ENV: &str = "NETNS_TEST_KEEP";

/// Where `NETNS_TEST_KEEP` (its value `value`) keeps namespaces: `None`
/// when it is off, [`RUN_NETNS`] when it is on, or the absolute directory
/// it names.
fn keep_dir(value: Option<&OsStr>) -> Result<Option<PathBuf>, BadValue> {
    let Some(value) = value else {
        return Ok(None);
    };
    if let Ok(on) = env::read_switch(KEEP_ENV, Some(value)) {
        return Ok(on.then(|| PathBuf::from(RUN_NETNS)));
    }
    let path = Path::new(value);
    if path.is_absolute() {
        return Ok(Some(path.to_path_buf()));
    }
    Err(BadValue {
        name: KEEP_ENV,
        value: value.to_string_lossy().into_owned(),
        also: ", or an absolute directory to keep them in",
    })
}

/// What the runner calls when a test body failed, while the network is
/// still alive. Prints to stderr, which the harness captures with the test.
/// `binary`: the test binary's name (see `TestSpec::binary`), `test`: the
/// test's.
pub(crate) fn on_failure(binary: &str, test: &str, net: &Net) {
    let wires = net.wire_report();
    if !wires.is_empty() {
        eprintln!(
            "netns-test: test `{test}` failed; its {}",
            wires.join("\n  ")
        );
    }
    if env::switch(DUMP_ENV) {
        eprintln!("netns-test: the network of failed test `{test}`:");
        for node in net.nodes() {
            match node.report() {
                Ok(r) => eprint!("{r}"),
                Err(e) => eprintln!("node {}: cannot read its state: {e}", node.name()),
            }
        }
    }
    let dir = keep_dir(std::env::var_os(KEEP_ENV).as_deref()).unwrap_or_else(|e| {
        env::warn_once(&e);
        None
    });
    if let Some(dir) = dir {
        match keep(binary, test, net, &dir) {
            Ok(kept) => {
                eprintln!(
                    "netns-test: kept the network of failed test `{test}` ({KEEP_ENV} is set):"
                );
                for (node, path) in &kept {
                    eprintln!("  node {node}: {}", path.display());
                }
                if dir == Path::new(RUN_NETNS) {
                    if let Some((_, first)) = kept.first() {
                        eprintln!("  inspect: ip netns exec {} ip address", file_name(first));
                    }
                    eprintln!("  remove:  ip netns del NAME (for each)");
                } else {
                    eprintln!(
                        "  inspect: nsenter --net=FILE ip address; remove: umount FILE && rm FILE"
                    );
                }
            }
            Err(KeepError::Exists(path)) => eprintln!(
                "netns-test: cannot keep the network of failed test `{test}`: {} already \
                 exists, likely kept by an earlier run of this test; remove what that run \
                 kept first: {}",
                path.display(),
                removal(&dir, &path, &kept_prefix(binary, test))
            ),
            Err(KeepError::Io(path, e)) => {
                let hint = if privilege::detect() == Privilege::Root {
                    ""
                } else {
                    " (keeping needs root: a rootless process may not mount on the host)"
                };
                eprintln!(
                    "netns-test: cannot keep the network of failed test `{test}` at {}: {e}{hint}",
                    path.display()
                )
            }
        }
    }
}

/// Where `NETNS_TEST_KEEP=1` keeps namespaces: where `ip netns` looks.
const RUN_NETNS: &str = "/run/netns";

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// How to remove a kept namespace file, and the others of its test
/// (`prefix*` in the same directory).
fn removal(dir: &Path, path: &Path, prefix: &str) -> String {
    if dir == Path::new(RUN_NETNS) {
        format!(
            "`ip netns delete {}`, and the same for each `{prefix}*` in `ip netns list`",
            file_name(path)
        )
    } else {
        format!(
            "`umount {0} && rm {0}`, and the same for each {1}*",
            path.display(),
            dir.join(prefix).display()
        )
    }
}

/// The longest file name (and `ip netns` name) Linux takes, in bytes.
const NAME_MAX: usize = 255;
/// The most bytes of a kept name that a node's name may take.
const NODE_MAX: usize = 63;

/// `name` with every character but ASCII letters, digits, `_` and those of
/// `keep` turned into `-`.
fn clean(name: &str, keep: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || keep.contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// What the kept names of a test's nodes start with: `nt-<binary>.<test>@`,
/// `::` in the test's path turned into `.`, other odd characters into `-`.
/// No part holds `@`, and the binary's name holds no `.`, so `<prefix>*`
/// matches the names of this test only, not those of test `<test>::more`
/// or of a test of the same name in another binary. A test name too long
/// for the prefix to stay within `NAME_MAX - NODE_MAX` bytes is cut, and a
/// hash of it added after a `~`.
pub(crate) fn kept_prefix(binary: &str, test: &str) -> String {
    let test = test.replace("::", ".");
    let mut prefix = format!("nt-{}.{}", clean(binary, "-"), clean(&test, ".-"));
    let room = NAME_MAX - NODE_MAX - 1;
    if prefix.len() > room {
        // FNV-1a of the whole test name.
        let hash = test.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        let hash = format!("~{:08x}", hash as u32);
        prefix.truncate(room - hash.len()); // ASCII: any byte is a boundary
        prefix.push_str(&hash);
    }
    prefix.push('@');
    prefix
}

/// A file name for a test's node: [`kept_prefix`] then the node's name,
/// odd characters turned into `-` and cut to `NODE_MAX` bytes; at most
/// `NAME_MAX` bytes in all.
pub(crate) fn kept_name(binary: &str, test: &str, node: &str) -> String {
    let mut node = clean(node, "-");
    node.truncate(NODE_MAX);
    kept_prefix(binary, test) + &node
}

/// Why a network could not be kept.
#[derive(Debug)]
enum KeepError {
    /// The file for a node is there already: an earlier keep of the same
    /// test, not yet removed.
    Exists(PathBuf),
    /// Any other failure, at this path.
    Io(PathBuf, io::Error),
}

/// Bind-mounts every node's namespace into `dir`; returns (node, file).
/// On failure, the files this call made are unmounted and removed again.
fn keep(
    binary: &str,
    test: &str,
    net: &Net,
    dir: &Path,
) -> Result<Vec<(String, PathBuf)>, KeepError> {
    fs::create_dir_all(dir).map_err(|e| KeepError::Io(dir.to_path_buf(), e))?;
    let mut kept: Vec<(String, PathBuf)> = Vec::new();
    let undo = |kept: &[(String, PathBuf)]| {
        for (_, path) in kept {
            let _ = nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH);
            let _ = fs::remove_file(path);
        }
    };
    for node in net.nodes() {
        let target = dir.join(kept_name(binary, test, node.name()));
        if let Err(e) = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
        {
            undo(&kept);
            return Err(if e.kind() == io::ErrorKind::AlreadyExists {
                KeepError::Exists(target)
            } else {
                KeepError::Io(target, e)
            });
        }
        let source = format!("/proc/self/fd/{}", node.netns().as_raw_fd());
        if let Err(e) = nix::mount::mount(
            Some(source.as_str()),
            &target,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        ) {
            let _ = fs::remove_file(&target);
            undo(&kept);
            return Err(KeepError::Io(target, crate::error::errno(e)));
        }
        kept.push((node.name().to_string(), target));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(value: &str) -> Result<Option<PathBuf>, BadValue> {
        keep_dir(Some(OsStr::new(value)))
    }

    #[test]
    fn keep_takes_a_switch_or_an_absolute_directory() {
        assert_eq!(keep_dir(None), Ok(None));
        for off in ["", "0", "false", "No"] {
            assert_eq!(dir(off), Ok(None), "{off:?}");
        }
        for on in ["1", "true", "YES"] {
            assert_eq!(dir(on), Ok(Some(PathBuf::from(RUN_NETNS))), "{on:?}");
        }
        assert_eq!(dir("/tmp/kept"), Ok(Some(PathBuf::from("/tmp/kept"))));
        for bad in ["kept", "./true", "on"] {
            let e = dir(bad).unwrap_err();
            assert_eq!(e.name, KEEP_ENV);
            assert!(e.to_string().contains("an absolute directory"), "{e}");
        }
    }

    #[test]
    fn kept_names_tell_tests_and_binaries_apart() {
        assert_eq!(
            kept_name("ipv4", "tests::smoke", "n1"),
            "nt-ipv4.tests.smoke@n1"
        );
        assert_ne!(
            kept_name("ipv4", "smoke", "n1"),
            kept_name("ipv6", "smoke", "n1")
        );
        let prefix = kept_prefix("ipv4", "a::b");
        assert!(kept_name("ipv4", "a::b", "c").starts_with(&prefix));
        assert!(!kept_name("ipv4", "a::b::c", "n1").starts_with(&prefix));
        assert!(!kept_name("ipv4", "a::b", "").starts_with(&kept_prefix("ipv4", "a")));
        // Within NAME_MAX, long names told apart by their hash.
        let long = |end: &str| format!("{}::{end}", "m".repeat(300));
        let (x, y) = (
            kept_name("b", &long("x"), &"n".repeat(99)),
            kept_name("b", &long("y"), "n"),
        );
        assert!(x.len() <= NAME_MAX && y.len() <= NAME_MAX, "{x}");
        assert_ne!(kept_prefix("b", &long("x")), kept_prefix("b", &long("y")));
    }
}
