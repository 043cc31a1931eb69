//! Privilege detection, and the fix-it path tested for real: this test binary
//! re-runs one of its own tests in a child that may not create user
//! namespaces (a seccomp filter) and is not root, and checks what the child
//! prints and how it exits.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use netns_test::netns_test;
use netns_test::privilege::{self, Privilege};

#[test]
fn this_process_can_create_namespaces() {
    let p = privilege::detect();
    assert!(p.can_create_namespaces(), "{p:?}");
    // Root when run as root, a user namespace when run as anyone else.
    let in_initial_user_ns = std::fs::read_to_string("/proc/self/uid_map")
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        == ["0", "0", "4294967295"];
    if in_initial_user_ns {
        assert_eq!(p, Privilege::Root);
    } else {
        assert_eq!(p, Privilege::UserNamespace);
    }
    assert!(privilege::unsupported_reason().is_none());
}

/// The test the child runs: an ordinary network test.
#[netns_test]
#[ignore = "run by the fix-it tests below, in a child without privileges"]
fn needs_a_namespace() {
    std::net::TcpListener::bind("127.0.0.1:80").unwrap();
}

#[cfg(target_arch = "x86_64")]
fn run_child_without_privileges(extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "needs_a_namespace",
        "--include-ignored",
        "--test-threads",
        "1",
    ]);
    cmd.env_remove(privilege::SKIP_ENV)
        .env_remove(privilege::NO_USERNS_ENV);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.current_dir("/");
    // SAFETY: the hook only makes async-signal-safe syscalls.
    unsafe {
        cmd.pre_exec(common::seccomp::deny_namespaces);
    }
    cmd.output().unwrap()
}

#[cfg(target_arch = "x86_64")]
#[test]
fn without_privileges_a_test_fails_with_a_fix_it_message() {
    let out = run_child_without_privileges(&[]);
    let text = common::output_text(&out);
    println!("{text}");
    assert_eq!(
        out.status.code(),
        Some(101),
        "libtest's failure status expected:\n{text}"
    );
    for needle in [
        "cannot create a network namespace",
        "cannot create a user namespace",
        "seccomp",
        "sudo -E",
        "NETNS_TEST_SKIP_UNSUPPORTED=1",
        "test result: FAILED. 0 passed; 1 failed",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

/// `NETNS_TEST_SKIP_UNSUPPORTED` is a switch: `false` and `no` mean no,
/// any case of `true` and `yes` mean yes, and a value that is neither means
/// no, with a warning printed once.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_skip_variable_is_read_as_a_switch() {
    let run = |value: &str| {
        let out = run_child_without_privileges(&[(privilege::SKIP_ENV, value)]);
        let text = common::output_text(&out);
        (out.status.code(), text)
    };
    for no in ["false", "No", "0", ""] {
        let (code, text) = run(no);
        assert_eq!(code, Some(101), "{no:?} skipped:\n{text}");
        assert!(text.contains("1 failed"), "{no:?}:\n{text}");
        assert!(!text.contains("ignoring"), "{no:?}:\n{text}");
    }
    for yes in ["TRUE", "yes", "1"] {
        let (code, text) = run(yes);
        assert_eq!(code, Some(0), "{yes:?} did not skip:\n{text}");
        assert!(
            text.contains("netns-test: skipping test"),
            "{yes:?}:\n{text}"
        );
    }
    let (code, text) = run("maybe");
    assert_eq!(code, Some(101), "\"maybe\" skipped:\n{text}");
    let warning = "netns-test: ignoring NETNS_TEST_SKIP_UNSUPPORTED=\"maybe\": expected 1, \
                   true or yes (on), 0, false, no or nothing (off); it stays off";
    assert_eq!(text.matches(warning).count(), 1, "{text}");
}

fn two_hosts() -> netns_test::Topology {
    netns_test::Topology::new().link(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    )
}

/// The test the child runs under a user namespace of its own.
#[netns_test(topology = two_hosts)]
#[ignore = "run by user_namespace_without_its_own_network_namespace, in a child"]
fn builds_pings_and_enters(net: &netns_test::Net) {
    let report = net["n1"]
        .ping("198.51.100.2")
        .count(2)
        .interval(std::time::Duration::from_millis(10))
        .run()
        .unwrap();
    assert_eq!(report.received, 2, "{report}");
    let inside = net["n2"]
        .with(|| {
            std::fs::metadata("/proc/thread-self/ns/net")
                .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        })
        .unwrap()
        .unwrap();
    assert_eq!(inside, net["n2"].netns().inode());
}

/// Like `unshare -U -r cargo test`: the process has every capability, but in
/// a user namespace that does not own its network namespace, so no thread
/// could move back to it once it left. The library gives such a process a
/// private base namespace before `main`, and everything works.
#[test]
fn user_namespace_without_its_own_network_namespace() {
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let uid_map = std::ffi::CString::new(format!("0 {uid} 1")).unwrap();
    let gid_map = std::ffi::CString::new(format!("0 {gid} 1")).unwrap();
    let write = |path: &std::ffi::CStr, text: &std::ffi::CStr| -> std::io::Result<()> {
        // SAFETY: open/write/close on C strings that outlive the calls.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let bytes = text.to_bytes();
            let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
            libc::close(fd);
            if n < 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    };
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "builds_pings_and_enters", "--include-ignored"]);
    // SAFETY: only async-signal-safe calls (unshare, open, write, close) on
    // memory prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(libc::CLONE_NEWUSER) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            write(c"/proc/self/setgroups", c"deny")?;
            write(c"/proc/self/uid_map", &uid_map)?;
            write(c"/proc/self/gid_map", &gid_map)
        });
    }
    let out = cmd.output().unwrap();
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("test result: ok. 1 passed"), "{text}");
}
