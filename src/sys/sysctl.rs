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
