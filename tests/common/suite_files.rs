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
