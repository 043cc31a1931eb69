//! A child process that may not create namespaces, for tests of the
//! fix-it and skip paths; one where `close_range` fails.

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;

/// `ld [k]`: a word of the seccomp data (0 the syscall number, 4 the
/// architecture, 16 the first argument's low half).
fn ld(k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// `jeq #k, jt, jf`.
fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

/// `jset #k, jt, jf`.
fn jset(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

/// `ret #k`.
fn ret(k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Installs `filter` for this process (no new privileges first, as an
/// unprivileged process must).
fn install(filter: &[libc::sock_filter]) -> std::io::Result<()> {
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut _,
    };
    // SAFETY: plain syscalls on valid pointers that outlive them, in the
    // forked child.
    unsafe {
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

/// For tests of the no-privileges path: a seccomp filter (x86_64) that fails unshare
/// and clone with CLONE_NEWUSER (EPERM) and clone3 (ENOSYS); and no
/// capability survives the exec (the bounding set is emptied), for root and
/// for a rootless parent, which is uid 0 in its user namespace.
pub(crate) fn deny_namespaces() -> std::io::Result<()> {
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
    for cap in 0..64 {
        // SAFETY: a plain syscall. EPERM for a process without
        // CAP_SETPCAP: it has none to drop.
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
    }
    install(&filter)
}

/// For tests of kernels without `close_range` (before Linux 5.9) or a
/// seccomp profile that predates it: a filter (x86_64) under which
/// `close_range` fails with ENOSYS, checked before it returns.
pub(crate) fn refuse_close_range() -> std::io::Result<()> {
    let filter = [
        ld(4),                                   // 0: arch
        jeq(AUDIT_ARCH_X86_64, 0, 3),            // 1: other arch -> allow (5)
        ld(0),                                   // 2: syscall nr
        jeq(libc::SYS_close_range as u32, 0, 1), // 3: else allow (5)
        ret(RET_ERRNO | libc::ENOSYS as u32),    // 4
        ret(RET_ALLOW),                          // 5
    ];
    install(&filter)?;
    let top = u32::MAX - 1;
    // SAFETY: a probe of close_range on an fd range nothing uses; errno is
    // this thread's.
    unsafe {
        if libc::syscall(libc::SYS_close_range, top, top, 0u32) == 0
            || *libc::__errno_location() != libc::ENOSYS
        {
            // The filter did not take (an error that allocates nothing).
            return Err(std::io::Error::from_raw_os_error(libc::ENOTSUP));
        }
    }
    Ok(())
}
