//! Sysctls of the calling thread's network namespace.

use std::io::Write;

use crate::error::{Error, Result};

/// Writes a sysctl (`net/ipv4/ip_forward`) in the calling thread's namespace.
pub(crate) fn write_sysctl(node: &str, path: &str, value: &str) -> Result<()> {
    let full = format!("/proc/sys/{path}");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&full)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(|source| Error::Sysctl {
            node: node.to_string(),
            key: path.replace('/', "."),
            value: value.to_string(),
            source,
        })
}
