//! Capture for `#[netns_test]`: turned on by the attribute's `capture` or
//! by [`CAPTURE_ENV`], its pcapng file kept when the test fails.
//!
//! * `#[netns_test(topology = f, capture)]`: every interface is captured;
//!   when the test fails, the packets go to
//!   `<target>/netns-test/<binary>/<test>/capture.pcapng` and the path is
//!   printed. `<binary>` is the test binary's name (`ipv4` for
//!   `tests/ipv4.rs`), so that tests of the same name in different binaries
//!   keep different files.
//! * `NETNS_TEST_CAPTURE=1` (or `true`, `yes`): the same for every test;
//!   `=keep`: the files of passing tests are kept too. `0`, `false`, `no`
//!   or empty: off (the attribute still captures). Any other value is
//!   off too, with a warning printed once.
//! * A test that turned capture on itself (`net.capture()`) is treated like
//!   one with the attribute.
//!
//! A passing test leaves no file: none is written, and the file an earlier
//! failing run of the same test left is removed. `<target>` is
//! `CARGO_TARGET_DIR` when set, else the target directory the test binary
//! is in (`<target>/debug/deps/...`); when it cannot be written (a rootless
//! run whose user does not own it), the system's temporary directory.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::lab::Net;
use crate::sys::env::{self, BadValue};

/// Capture every test (`1`), or every test and keep every file (`keep`).
pub const CAPTURE_ENV: &str = "NETNS_TEST_CAPTURE";

/// Whether a test is captured, and when its file is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Off,
    /// Keep the file if the test fails.
    OnFailure,
    /// Keep it whatever happens.
    Always,
}

/// The mode of a test whose attribute says `capture` (or not).
pub(crate) fn mode(attribute: bool) -> Mode {
    let env = std::env::var_os(CAPTURE_ENV);
    mode_from(env.as_deref(), attribute).unwrap_or_else(|e| {
        env::warn_once(&e);
        if attribute {
            Mode::OnFailure
        } else {
            Mode::Off
        }
    })
}

/// The mode for the value `env` of [`CAPTURE_ENV`]; `Err` when the value
/// means nothing.
fn mode_from(env: Option<&OsStr>, attribute: bool) -> Result<Mode, BadValue> {
    let keep = env
        .and_then(OsStr::to_str)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("keep"));
    if keep {
        return Ok(Mode::Always);
    }
    let on = env::read_switch(CAPTURE_ENV, env).map_err(|e| BadValue {
        also: ", or keep",
        ..e
    })?;
    Ok(if on || attribute {
        Mode::OnFailure
    } else {
        Mode::Off
    })
}

/// The directory of a test's files: `netns-test/<binary>/<test>` under
/// `base`, `::` and odd characters of the names turned into `.` and `-`.
fn test_dir(base: &Path, binary: &str, test: &str) -> PathBuf {
    let clean = |name: &str| -> String {
        let clean: String = name
            .replace("::", ".")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        // `.`, `..` or nothing would name this directory or its parent.
        if clean.chars().all(|c| c == '.') {
            clean.replace('.', "-") + "-"
        } else {
            clean
        }
    };
    base.join("netns-test")
        .join(clean(binary))
        .join(clean(test))
}

/// The name of the running test binary: its executable's name without the
/// `-<hash>` cargo adds (`target/debug/deps/ipv4-0123456789abcdef` gives
/// `ipv4`); `test` when it cannot be found.
pub(crate) fn binary_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| binary_of_exe(&exe).map(str::to_string))
        .unwrap_or_else(|| "test".to_string())
}

/// The binary's name in the path of its executable.
fn binary_of_exe(exe: &Path) -> Option<&str> {
    let stem = exe.file_stem()?.to_str()?;
    Some(match stem.rsplit_once('-') {
        Some((name, hash))
            if !name.is_empty()
                && hash.len() == 16
                && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            name
        }
        _ => stem,
    })
}

/// The target directory: `CARGO_TARGET_DIR`, else the ancestor of the
/// test binary that holds cargo's `CACHEDIR.TAG`, else the parent of its
/// profile directory (`<target>/debug/deps/bin` gives `<target>`).
pub(crate) fn target_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent()?;
    for _ in 0..4 {
        if dir.join("CACHEDIR.TAG").is_file() {
            return Some(dir.to_path_buf());
        }
        dir = dir.parent()?;
    }
    let bin_dir = exe.parent()?;
    let profile = if matches!(
        bin_dir.file_name().and_then(|n| n.to_str()),
        Some("deps" | "examples")
    ) {
        bin_dir.parent()?
    } else {
        bin_dir
    };
    profile.parent().map(Path::to_path_buf)
}

/// Writes the capture of `net` into the test's directory under `base`.
fn write(net: &Net, base: &Path, binary: &str, test: &str) -> io::Result<(PathBuf, usize)> {
    let dir = test_dir(base, binary, test);
    fs::create_dir_all(&dir)?;
    let path = dir.join("capture.pcapng");
    let n = crate::capture::save_all(net, &path).unwrap_or(Ok(0))?;
    Ok((path, n))
}

/// Called by the runner when the body ended, while the network is alive:
/// keeps the capture file (and returns the note to print) or removes the
/// one an earlier run left. Nothing when capture is off. `binary`: the test
/// binary's name (see `TestSpec::binary`), `test`: the test's.
pub(crate) fn finish(
    binary: &str,
    test: &str,
    net: &Net,
    failed: bool,
    mode: Mode,
) -> Option<String> {
    net.captured()?;
    let base = target_dir();
    if !failed && mode != Mode::Always {
        if let Some(base) = &base {
            let dir = test_dir(base, binary, test);
            let _ = fs::remove_file(dir.join("capture.pcapng"));
            // Each only if empty.
            let _ = fs::remove_dir(&dir);
            if let Some(parent) = dir.parent() {
                let _ = fs::remove_dir(parent);
            }
        }
        return None;
    }
    let why = if failed {
        format!("failed test `{test}`")
    } else {
        format!("test `{test}` ({CAPTURE_ENV}=keep)")
    };
    let first = base
        .as_deref()
        .map(|b| write(net, b, binary, test))
        .unwrap_or_else(|| Err(io::Error::other("no target directory found")));
    let (result, fallback_note) = match first {
        Ok(done) => (Ok(done), String::new()),
        Err(e) => {
            let tmp = std::env::temp_dir();
            let note = format!(
                " (the target directory{} could not be written: {e})",
                base.as_deref()
                    .map(|b| format!(" {}", b.display()))
                    .unwrap_or_default()
            );
            (write(net, &tmp, binary, test), note)
        }
    };
    let drops: u64 = net
        .captured()
        .map(|c| c.stats().iter().map(|s| s.kernel_drops).sum())
        .unwrap_or(0);
    let drop_note = if drops > 0 {
        format!(" ({drops} frames were dropped by the kernel: the capture's reader fell behind)")
    } else {
        String::new()
    };
    Some(match result {
        Ok((path, n)) => format!(
            "netns-test: capture of {why}: {n} packets in {}{fallback_note}{drop_note}\n  \
             open it in Wireshark, or: tcpdump -nr {}",
            path.display(),
            path.display()
        ),
        Err(e) => format!("netns-test: cannot write the capture of {why}: {e}{fallback_note}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(env: Option<&str>, attribute: bool) -> Result<Mode, BadValue> {
        mode_from(env.map(OsStr::new), attribute)
    }

    #[test]
    fn modes() {
        assert_eq!(mode_of(None, false), Ok(Mode::Off));
        assert_eq!(mode_of(None, true), Ok(Mode::OnFailure));
        assert_eq!(mode_of(Some("0"), true), Ok(Mode::OnFailure));
        assert_eq!(mode_of(Some("0"), false), Ok(Mode::Off));
        assert_eq!(mode_of(Some(""), false), Ok(Mode::Off));
        assert_eq!(mode_of(Some("1"), false), Ok(Mode::OnFailure));
        assert_eq!(mode_of(Some("keep"), false), Ok(Mode::Always));
        assert_eq!(mode_of(Some("keep"), true), Ok(Mode::Always));
    }

    #[test]
    fn switch_words_and_bad_values() {
        for off in ["false", "no", "FALSE"] {
            assert_eq!(mode_of(Some(off), false), Ok(Mode::Off), "{off:?}");
            assert_eq!(mode_of(Some(off), true), Ok(Mode::OnFailure), "{off:?}");
        }
        for on in ["true", "Yes"] {
            assert_eq!(mode_of(Some(on), false), Ok(Mode::OnFailure), "{on:?}");
        }
        assert_eq!(mode_of(Some("KEEP"), false), Ok(Mode::Always));
        let e = mode_of(Some("always"), false).unwrap_err();
        assert_eq!(e.name, CAPTURE_ENV);
        assert!(e.to_string().contains(", or keep; it stays off"), "{e}");
    }

    #[test]
    fn test_dirs() {
        assert_eq!(
            test_dir(Path::new("/t"), "capture", "ping::ping routed"),
            Path::new("/t/netns-test/capture/ping.ping-routed")
        );
        // A name of dots stays below the binary's directory.
        for name in ["..", ".", ""] {
            let dir = test_dir(Path::new("/t"), "b", name);
            assert!(
                dir.starts_with("/t/netns-test/b/") && dir != Path::new("/t/netns-test/b"),
                "{name:?} gives {dir:?}"
            );
            assert!(!dir
                .components()
                .any(|c| c == std::path::Component::ParentDir));
        }
        // The same test name in two binaries: two directories.
        assert_ne!(
            test_dir(Path::new("/t"), "ipv4", "smoke"),
            test_dir(Path::new("/t"), "ipv6", "smoke")
        );
    }

    #[test]
    fn binary_names() {
        let of = |p: &str| binary_of_exe(Path::new(p)).map(str::to_string);
        let name = |n: &str| Some(n.to_string());
        assert_eq!(of("/t/debug/deps/ipv4-0123456789abcdef"), name("ipv4"));
        assert_eq!(
            of("/t/debug/deps/my_tests-FEDCBA9876543210"),
            name("my_tests")
        );
        // No cargo hash: the whole name.
        assert_eq!(of("/t/debug/examples/demo"), name("demo"));
        assert_eq!(of("/usr/bin/run-tests"), name("run-tests"));
        assert_eq!(of("/t/x-0123"), name("x-0123"));
    }
}
