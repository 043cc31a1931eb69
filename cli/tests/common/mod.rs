//! What the command line's tests share: the binary, the two-host lab, and
//! waiting for a child with a limit.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The `netns-test` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_netns-test");

/// `suites/labs/two_hosts.toml` of the repository.
pub fn two_hosts_lab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/labs/two_hosts.toml")
}

/// Bytes a child wrote, as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The exit status of `child` if it ends within `limit`.
pub fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// `output()` of `cmd`, or a failure if it runs past `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if wait_for(&mut child, limit).is_none() {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "still running after {limit:?}; stdout: {}; stderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    child.wait_with_output().unwrap()
}

/// The first line `child` writes to its piped stdout (`up`'s "is up").
pub fn first_line(child: &mut Child) -> String {
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    first
}
