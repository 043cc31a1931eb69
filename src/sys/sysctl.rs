//! Sysctls of the calling thread's network namespace.

use std::fs::File;
use std::io::Write;

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;

use super::procfs::PrivateProc;
use crate::error::{Error, Result};

/// The sysctl(8) key of a `/proc/sys` path: `/` and `.` swap, so the dot in
/// an interface name `e.1` reads `e/1` (`net.ipv4.conf.e/1.rp_filter`).
fn key_of(path: &str) -> String {
    path.chars()
        .map(|c| match c {
            '/' => '.',
            '.' => '/',
            c => c,
        })
        .collect()
}

/// Writes a sysctl (`net/ipv4/ip_forward`) in the calling thread's namespace.
pub(crate) fn write_sysctl(node: &str, path: &str, value: &str) -> Result<()> {
    let full = format!("/proc/sys/{path}");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&full)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(|source| Error::Sysctl {
            node: node.to_string(),
            key: key_of(path),
            value: value.to_string(),
            source,
        })
}

/// Whether `e`, the error of writing `path`, a setting the library makes
/// on its own (never one a topology asks for), only says that the kernel
/// has no such setting: an IPv6 one on a kernel booted with
/// `ipv6.disable=1`, which has no `/proc/sys/net/ipv6`. It is then no error.
pub(crate) fn missing_is_fine(path: &str, e: &std::io::Error) -> bool {
    path.starts_with("net/ipv6/") && e.kind() == std::io::ErrorKind::NotFound
}

/// [`write_sysctl`] for a setting the library makes on its own: success
/// where [`missing_is_fine`].
pub(crate) fn write_own_sysctl(node: &str, path: &str, value: &str) -> Result<()> {
    match write_sysctl(node, path, value) {
        Err(Error::Sysctl { source, .. }) if missing_is_fine(path, &source) => Ok(()),
        r => r,
    }
}

/// Namespaces written through one private procfs instance before the
/// next is made: the instance's hash chains hold at most this many entries
/// of a name.
const NAMESPACES_PER_INSTANCE: usize = 64;

/// Writes the sysctls of namespace after namespace, each from a thread
/// inside it.
///
/// Paths under `net/` are opened relative to one descriptor of the
/// namespace's `/proc/sys/net`, so each sysctl after the first costs no
/// lookup of `net` or of its subdirectories' chains (see
/// [`procfs`](super::procfs)). A writer made [`private`](SysctlWriter::private)
/// reaches `net` through a procfs instance of its own, a new one every
/// [`NAMESPACES_PER_INSTANCE`] namespaces, where it can make one (as
/// root); otherwise, and for other writers, through `/proc`.
#[derive(Debug, Default)]
pub(crate) struct SysctlWriter {
    /// The instance in use, once made.
    proc: Option<PrivateProc>,
    /// Namespaces written through `proc`.
    served: usize,
    /// Whether to make private instances: false for a plain writer, and
    /// once making one has failed.
    private: bool,
}

impl SysctlWriter {
    /// A writer through `/proc`.
    pub(crate) fn new() -> SysctlWriter {
        SysctlWriter::default()
    }

    /// A writer through private procfs instances where it can make them:
    /// for many namespaces, where the instance's cost is soon repaid.
    pub(crate) fn private() -> SysctlWriter {
        SysctlWriter {
            private: true,
            ..SysctlWriter::default()
        }
    }

    /// Writes `settings` (`net/ipv4/ip_forward`, ...) in the calling
    /// thread's namespace, in order; `node` names it in errors. Those whose
    /// path is in `own` are the library's, skipped where
    /// [`missing_is_fine`].
    pub(crate) fn write(
        &mut self,
        node: &str,
        settings: &[(String, String)],
        own: &[String],
    ) -> Result<()> {
        let mut net_dir: Option<File> = None;
        for (path, value) in settings {
            match self.write_one(node, &mut net_dir, path, value) {
                Err(Error::Sysctl { source, .. })
                    if own.contains(path) && missing_is_fine(path, &source) => {}
                r => r?,
            }
        }
        Ok(())
    }

    /// Writes `value` to `path`, under `net_dir` (opened on first use) if
    /// it is under `net/`.
    fn write_one(
        &mut self,
        node: &str,
        net_dir: &mut Option<File>,
        path: &str,
        value: &str,
    ) -> Result<()> {
        let Some(rel) = path.strip_prefix("net/") else {
            return write_sysctl(node, path, value);
        };
        let fail = |source: std::io::Error| Error::Sysctl {
            node: node.to_string(),
            key: key_of(path),
            value: value.to_string(),
            source,
        };
        let dir = match net_dir {
            Some(ref dir) => dir,
            None => net_dir.insert(self.net_dir().map_err(fail)?),
        };
        let fd = openat(dir, rel, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| fail(e.into()))?;
        File::from(fd).write_all(value.as_bytes()).map_err(fail)
    }

    /// The calling thread's namespace's `/proc/sys/net`, through the
    /// private instance when there is one.
    fn net_dir(&mut self) -> std::io::Result<File> {
        if self.private && (self.proc.is_none() || self.served == NAMESPACES_PER_INSTANCE) {
            self.proc = None;
            self.served = 0;
            match PrivateProc::mount() {
                Ok(p) => self.proc = Some(p),
                Err(_) => self.private = false,
            }
        }
        if let Some(p) = &self.proc {
            match p.net_sysctls() {
                Ok(dir) => {
                    self.served += 1;
                    return Ok(dir);
                }
                Err(_) => {
                    self.proc = None;
                    self.private = false;
                }
            }
        }
        File::open("/proc/sys/net")
    }
}

/// Reads a sysctl (`net/netfilter/nf_conntrack_udp_timeout`) in the calling
/// thread's namespace, without its trailing newline.
pub(crate) fn read_sysctl(node: &str, path: &str) -> Result<String> {
    std::fs::read_to_string(format!("/proc/sys/{path}"))
        .map(|v| v.trim_end().to_string())
        .map_err(|source| Error::Sysctl {
            node: node.to_string(),
            key: key_of(path),
            value: String::new(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NetNs;

    const TTL: &str = "net/ipv4/ip_default_ttl";

    /// Writes a different TTL in each of `count` new namespaces with
    /// `writer`, reads each back through `/proc`, and checks that the
    /// calling thread's own namespace kept its value.
    fn each_namespace_gets_its_own_value(mut writer: SysctlWriter, count: usize) -> SysctlWriter {
        let home = read_sysctl("host", TTL).unwrap();
        let nss: Vec<NetNs> = (0..count)
            .map(|i| NetNs::new(format!("sysctl-{i}")).expect("create a namespace"))
            .collect();
        for (i, ns) in nss.iter().enumerate() {
            let value = (10 + i).to_string();
            ns.with(|| writer.write("n", &[(TTL.to_string(), value)], &[]))
                .unwrap()
                .unwrap();
        }
        for (i, ns) in nss.iter().enumerate() {
            let read = ns.with(|| read_sysctl("n", TTL)).unwrap().unwrap();
            assert_eq!(read, (10 + i).to_string(), "namespace {i}");
        }
        assert_eq!(
            read_sysctl("host", TTL).unwrap(),
            home,
            "the caller's namespace"
        );
        writer
    }

    #[test]
    fn a_private_writer_writes_each_namespace_across_its_instances() {
        let count = NAMESPACES_PER_INSTANCE + 6;
        let writer = each_namespace_gets_its_own_value(SysctlWriter::private(), count);
        if super::super::procfs::PrivateProc::mount().is_ok() {
            // A second instance serves the namespaces after the first 64.
            assert!(writer.private && writer.proc.is_some());
            assert_eq!(writer.served, count - NAMESPACES_PER_INSTANCE);
        } else {
            // Without the privilege to make one: `/proc`, and no retry.
            assert!(!writer.private && writer.proc.is_none());
        }
    }

    #[test]
    fn a_plain_writer_goes_through_proc() {
        let writer = each_namespace_gets_its_own_value(SysctlWriter::new(), 3);
        assert!(writer.proc.is_none() && writer.served == 0);
    }

    #[test]
    fn a_missing_ipv6_setting_of_the_library_is_skipped_and_one_of_the_topology_is_not() {
        // What a kernel booted with `ipv6.disable=1` answers for every IPv6
        // key: it has no `/proc/sys/net/ipv6`.
        let missing = "net/ipv6/conf/default/no_such_setting".to_string();
        let ns = NetNs::new("sysctl-missing").expect("create a namespace");
        let settings = [(missing.clone(), "0".into()), (TTL.into(), "33".into())];
        let own = std::slice::from_ref(&missing);
        ns.with(|| SysctlWriter::new().write("n", &settings, own))
            .unwrap()
            .unwrap();
        // The settings after it were written.
        assert_eq!(ns.with(|| read_sysctl("n", TTL)).unwrap().unwrap(), "33");
        let e = ns
            .with(|| SysctlWriter::new().write("n", &settings, &[]))
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&e, Error::Sysctl { key, .. } if key == "net.ipv6.conf.default.no_such_setting"),
            "{e}"
        );
        // Only IPv6 settings, and only a missing one.
        let not_found = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert!(missing_is_fine(&missing, &not_found));
        assert!(!missing_is_fine("net/ipv4/ip_forward", &not_found));
        let denied = std::io::Error::from_raw_os_error(libc::EACCES);
        assert!(!missing_is_fine(&missing, &denied));
        ns.with(|| write_own_sysctl("n", &missing, "1"))
            .unwrap()
            .unwrap();
    }

    #[test]
    fn keys_read_like_sysctl_8() {
        assert_eq!(super::key_of("net/ipv4/ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(
            super::key_of("net/ipv4/conf/e.1/rp_filter"),
            "net.ipv4.conf.e/1.rp_filter"
        );
    }
}
