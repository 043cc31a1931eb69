//! Sysctls of the calling thread's network namespace.

use std::io::Write;

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

/// Writes sysctls (`net/ipv4/ip_forward`, ...) in the calling thread's
/// namespace, in order.
///
/// Paths under `net/` are opened relative to one descriptor of the
/// namespace's `/proc/sys/net`: every namespace has its own `net` entry
/// under `/proc/sys`, all in one dentry hash chain, so each lookup of `net`
/// compares against every namespace of the machine, and a big lab pays it
/// once per node instead of once per sysctl.
pub(crate) fn write_sysctls(node: &str, settings: &[(String, String)]) -> Result<()> {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::Mode;
    let mut net_dir: Option<std::fs::File> = None;
    for (path, value) in settings {
        let Some(rel) = path.strip_prefix("net/") else {
            write_sysctl(node, path, value)?;
            continue;
        };
        let fail = |source: std::io::Error| Error::Sysctl {
            node: node.to_string(),
            key: key_of(path),
            value: value.to_string(),
            source,
        };
        let dir = match net_dir.as_ref() {
            Some(dir) => dir,
            None => net_dir.insert(std::fs::File::open("/proc/sys/net").map_err(fail)?),
        };
        let fd = openat(dir, rel, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| fail(e.into()))?;
        std::fs::File::from(fd)
            .write_all(value.as_bytes())
            .map_err(fail)?;
    }
    Ok(())
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
    #[test]
    fn keys_read_like_sysctl_8() {
        assert_eq!(super::key_of("net/ipv4/ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(
            super::key_of("net/ipv4/conf/e.1/rp_filter"),
            "net.ipv4.conf.e/1.rp_filter"
        );
    }
}
