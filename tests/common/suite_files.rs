//! Suite files written for a test.

use std::path::{Path, PathBuf};

/// `dir/name` with `text`, its folders made.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// A lab of two hosts, `h1` (198.51.100.1) and `h2` (198.51.100.2), to
/// append to a file of scenarios.
pub(crate) const TWO_HOSTS: &str = r#"
[[topology.links]]
a = { node = "h1", iface = "eth0", addr = "198.51.100.1/24" }
b = { node = "h2", iface = "eth0", addr = "198.51.100.2/24" }
"#;

/// Two islands whose hosts both hold 198.51.100.10; hB also holds
/// 198.51.100.20, which no other node does.
pub(crate) const ISLANDS: &str = r#"
[[topology.links]]
a = { node = "hA", iface = "eth0", addr = "198.51.100.10/24" }
b = { node = "rA", iface = "eth0", addr = "198.51.100.1/24" }
[[topology.links]]
a = { node = "hB", iface = "eth0", addr = ["198.51.100.10/24", "198.51.100.20/24"] }
b = { node = "rB", iface = "eth0", addr = "198.51.100.2/24" }
"#;
