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
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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
