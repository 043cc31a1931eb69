//! Privilege detection, and the fix-it path tested for real: this test binary
//! re-runs one of its own tests in a child that may not create user
//! namespaces (a seccomp filter) and is not root, and checks what the child
//! prints and how it exits.

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

/// A seccomp filter (x86_64) that fails unshare and clone with
/// CLONE_NEWUSER (EPERM) and clone3 (ENOSYS, so libc falls back to clone).
#[cfg(target_arch = "x86_64")]
fn deny_user_namespaces(in_initial_user_ns: bool) -> std::io::Result<()> {
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;
    let ld = |k: u32| libc::sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jeq = |k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    let jset = |k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    let ret = |k: u32| libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let filter = [
        ld(4),                                  // 0: arch
        jeq(AUDIT_ARCH_X86_64, 0, 8),           // 1: other arch -> allow (10)
        ld(0),                                  // 2: syscall nr
        jeq(libc::SYS_clone3 as u32, 5, 0),     // 3: -> ENOSYS (9)
        jeq(libc::SYS_unshare as u32, 1, 0),    // 4: -> flags (6)
        jeq(libc::SYS_clone as u32, 0, 4),      // 5: else allow (10)
        ld(16),                                 // 6: args[0], low half
        jset(libc::CLONE_NEWUSER as u32, 0, 2), // 7: no NEWUSER -> allow (10)
        ret(RET_ERRNO | libc::EPERM as u32),    // 8
        ret(RET_ERRNO | libc::ENOSYS as u32),   // 9
        ret(RET_ALLOW),                         // 10
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut _,
    };
    // SAFETY: plain syscalls on valid pointers that outlive them, in the forked child.
    unsafe {
        if libc::getuid() == 0 && in_initial_user_ns {
            // Real root: become nobody.
            let nobody = 65534;
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(nobody) != 0
                || libc::setuid(nobody) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        } else if libc::getuid() == 0 {
            // Root of the user namespace that rootless mode made (only uid 0
            // is mapped there): keep the uid, but make exec grant no capability.
            const SECBIT_NOROOT: libc::c_ulong = 1;
            const SECBIT_NOROOT_LOCKED: libc::c_ulong = 2;
            if libc::prctl(
                libc::PR_SET_SECUREBITS,
                SECBIT_NOROOT | SECBIT_NOROOT_LOCKED,
                0,
                0,
                0,
            ) != 0
                || libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_CLEAR_ALL,
                    0,
                    0,
                    0,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &prog as *const libc::sock_fprog,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
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
    let in_initial_user_ns = std::fs::read_to_string("/proc/self/uid_map")
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        == ["0", "0", "4294967295"];
    // SAFETY: the hook only makes async-signal-safe syscalls (see above).
    unsafe {
        cmd.pre_exec(move || deny_user_namespaces(in_initial_user_ns));
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
