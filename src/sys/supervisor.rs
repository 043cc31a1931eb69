//! The supervisor a node program runs under, so that no process it starts,
//! at any depth, outlives the test process.
//!
//! `Node::command` forks a child (C) whose `pre_exec` hook enters the node
//! and calls [`become_supervisor`]. There C unshares a PID namespace for
//! its children and forks its init (G), which forks the program (P). P
//! returns from the hook and std execs the program in it; C and G never
//! return:
//!
//! ```text
//! test thread --PDEATHSIG--> C (supervisor, std's Child) --PDEATHSIG--> G (init, pid 1) --> P (program, pid 2) --> its children ...
//! ```
//!
//! - C dies with the thread that spawned it (`PR_SET_PDEATHSIG`), G dies
//!   with C, and when G, the init of the PID namespace, dies, the kernel
//!   kills every process left in that namespace: the program and all it
//!   forked. So SIGKILL of the test process, a `child.kill()` of C, or
//!   teardown killing C, ends the whole tree.
//! - C forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to G,
//!   which forwards them to P; C ends with P's exit status (or dies of the
//!   signal that killed P), so `wait`, `output` and `status` read the
//!   program's own result.
//! - C and G point their stdin, stdout and stderr at `/dev/null` and close
//!   every other fd they inherited, so a reader of the program's output sees
//!   the end when the program ends, and std's exec-error pipe reports a
//!   program that cannot be executed as before.
//!
//! Everything here runs in a child forked from a multi-threaded process:
//! only async-signal-safe system calls, no allocation, no lock.

use std::sync::atomic::{AtomicI32, Ordering};

/// The process the signal handler forwards to (G in C, P in G).
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

/// The signals forwarded down the chain.
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

extern "C" fn forward(sig: libc::c_int) {
    let pid = FORWARD_TO.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Installs `forward` for the forwarded signals.
///
/// # Safety
/// Async-signal-safe; call only in the forked child.
unsafe fn install_forwarding() {
    for sig in FORWARDED {
        // SAFETY: a zeroed sigaction with a valid handler and an empty mask
        // is a valid argument; sigaction is async-signal-safe.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = forward as extern "C" fn(libc::c_int) as libc::sighandler_t;
            act.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

/// Restores the default disposition of the forwarded signals.
///
/// # Safety
/// Async-signal-safe; call only in the forked child.
unsafe fn reset_signals() {
    for sig in FORWARDED {
        // SAFETY: signal(2) with SIG_DFL is async-signal-safe.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

/// Points 0, 1 and 2 at `/dev/null` and closes every fd from 3 up but the
/// two in `keep`.
///
/// # Safety
/// Async-signal-safe; call only in the forked child, which owns its fds.
unsafe fn release_fds(keep: [libc::c_int; 2]) {
    // SAFETY: open and dup2 are async-signal-safe; the path is a
    // NUL-terminated literal; the child owns the fds closed.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
        }
        super::close_fds::close_from_3_except(keep);
    }
}

/// Waits for `pid`, retrying on EINTR; its wait status, or `None`.
///
/// # Safety
/// Async-signal-safe.
unsafe fn wait_for(pid: libc::pid_t) -> Option<libc::c_int> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid(2) with a valid out pointer; async-signal-safe.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            return Some(status);
        }
        // SAFETY: reading errno is async-signal-safe.
        if r < 0 && unsafe { *libc::__errno_location() } != libc::EINTR {
            return None;
        }
    }
}

/// Ends the calling process the way `status` (a wait status) says a
/// process ended: the same exit code, or death by the same signal. A
/// signal whose default action dumps core (SIGABRT, SIGSEGV, SIGQUIT ...)
/// dumps none: the process is made non-dumpable first, as the core would
/// be of the supervisor (a copy of the test process), not of the program.
///
/// # Safety
/// Async-signal-safe; never returns.
unsafe fn exit_like(status: libc::c_int) -> ! {
    // SAFETY: prctl, signal, kill, getpid and _exit are async-signal-safe.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            libc::signal(sig, libc::SIG_DFL);
            libc::kill(libc::getpid(), sig);
            libc::_exit(128 + sig);
        }
        libc::_exit(libc::WEXITSTATUS(status))
    }
}

/// Called in the `pre_exec` hook of a node program, after it entered the
/// node. Returns `Ok` in the process that is to exec the program (P); the
/// supervisor (C) and the init (G) never return. If the pipes or the PID
/// namespace cannot be made, or the fork of G fails and C can go back to
/// its own PID namespace, returns `Ok` in C, which then execs the program
/// itself, as without a supervisor. If G cannot be forked and C cannot go
/// back (rootless, `setns` to the machine's PID namespace is refused), the
/// program's first child would become the init of the new namespace:
/// returns the fork's error instead, which `spawn` reports.
///
/// # Safety
/// Call only in a child forked for exec (std's `pre_exec`): it forks and
/// exits, and uses only async-signal-safe calls.
pub(crate) unsafe fn become_supervisor() -> std::io::Result<()> {
    // SAFETY: every call below is an async-signal-safe system call on
    // values this function owns; see the module documentation for the
    // process tree. `from_raw_os_error` allocates nothing.
    unsafe {
        let own_pidns = libc::open(
            c"/proc/self/ns/pid".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        // `alive`: G learns that C is gone by the hang-up of this pipe.
        // `report`: G tells C how the program ended (a pid-namespace init
        // cannot die of its own signal, so its own status cannot say it).
        // Made before the PID namespace, so that nothing between the
        // unshare and the fork can fail. All three fds are close-on-exec.
        let mut alive = [0; 2];
        let mut report = [0; 2];
        if own_pidns < 0
            || libc::pipe2(alive.as_mut_ptr(), libc::O_CLOEXEC) != 0
            || libc::pipe2(report.as_mut_ptr(), libc::O_CLOEXEC) != 0
            || libc::unshare(libc::CLONE_NEWPID) != 0
        {
            return Ok(());
        }
        let g = libc::fork();
        if g < 0 {
            let fork_error = *libc::__errno_location();
            // The next fork would make the init of the new namespace:
            // leave it, or fail the spawn.
            if libc::setns(own_pidns, libc::CLONE_NEWPID) != 0 {
                return Err(std::io::Error::from_raw_os_error(fork_error));
            }
            return Ok(());
        }
        if g == 0 {
            // G: the init of the program's PID namespace.
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            );
            libc::close(alive[1]);
            let mut pfd = libc::pollfd {
                fd: alive[0],
                events: libc::POLLIN,
                revents: 0,
            };
            if libc::poll(&mut pfd, 1, 0) > 0 && pfd.revents & libc::POLLHUP != 0 {
                // C died before the death signal was asked for.
                libc::_exit(1);
            }
            let p = libc::fork();
            if p < 0 {
                libc::_exit(127);
            }
            if p == 0 {
                // P: returns, and std execs the program.
                libc::close(alive[0]);
                libc::close(report[0]);
                libc::close(report[1]);
                return Ok(());
            }
            FORWARD_TO.store(p, Ordering::Relaxed);
            install_forwarding();
            libc::close(report[0]);
            release_fds([alive[0], report[1]]);
            // Reap orphans until the program ends; then report how and exit.
            // The kernel kills what is left in the namespace when init exits.
            let mut status = 0;
            loop {
                let r = libc::waitpid(-1, &mut status, libc::__WALL);
                if r == p {
                    let bytes = status.to_ne_bytes();
                    libc::write(report[1], bytes.as_ptr().cast(), bytes.len());
                    libc::_exit(0);
                }
                if r < 0 && *libc::__errno_location() == libc::ECHILD {
                    libc::_exit(1);
                }
            }
        }
        // C: the supervisor std knows as the child.
        libc::close(alive[0]);
        libc::close(report[1]);
        FORWARD_TO.store(g, Ordering::Relaxed);
        install_forwarding();
        release_fds([alive[1], report[0]]);
        let Some(g_status) = wait_for(g) else {
            libc::_exit(1)
        };
        reset_signals();
        let mut bytes = [0u8; 4];
        if libc::read(report[0], bytes.as_mut_ptr().cast(), bytes.len()) == 4 {
            exit_like(libc::c_int::from_ne_bytes(bytes))
        }
        // G died without a word (killed): end as it did.
        exit_like(g_status)
    }
}
