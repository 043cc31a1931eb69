//! Privileges: what this process may do, the rootless way in, and the
//! fix-it message when neither root nor user namespaces are available.
//!
//! # Rootless mode
//!
//! `unshare(CLONE_NEWUSER)` only works in a single-threaded process, and the
//! standard test harness starts its threads in `main`. So the library
//! registers a constructor (an `.init_array` entry, run by the loader before
//! `main`, while the process still has one thread). When the process lacks
//! CAP_SYS_ADMIN and CAP_NET_ADMIN, the constructor:
//!
//! 1. unshares a user namespace *and* a network namespace, mapping the
//!    caller's uid and gid to 0 inside (like `unshare -r`): the process now
//!    holds every capability over namespaces it creates;
//! 2. brings up loopback in the new, empty network namespace, which becomes
//!    the process's "host" namespace.
//!
//! Trade-offs, compared with a re-exec or a forked helper:
//! - the test binary is the same process with the same pid, stdout, stderr,
//!   exit status and panic output, so `cargo test`, `cargo nextest`, output
//!   capture and IDEs behave exactly as in root mode;
//! - the whole binary, non-network tests included, runs inside the user
//!   namespace: other users' files appear owned by `nobody`, setuid programs
//!   do not gain privileges, files it creates are owned by the real user;
//! - its base network namespace is private and empty: tests in that binary
//!   cannot reach the machine's real network (a safety feature, but a test
//!   that talks to a database on the host's loopback must be in another test
//!   binary, or run as root);
//! - the private base namespace is needed anyway: restoring a thread to the
//!   machine's real namespace would need CAP_SYS_ADMIN over it.
//!
//! Opt out with `NETNS_TEST_NO_USERNS=1` (the process is then left alone).

use std::fs;
use std::io;
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};

/// The capability bits netns-test needs (see `capabilities(7)`).
const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// Skips tests instead of failing them when no privileges can be had.
pub const SKIP_ENV: &str = "NETNS_TEST_SKIP_UNSUPPORTED";
/// Keeps the constructor from entering a user namespace.
pub const NO_USERNS_ENV: &str = "NETNS_TEST_NO_USERNS";

/// What the pre-main constructor did.
static ENTERED: AtomicU8 = AtomicU8::new(0);
const ENTERED_USERNS: u8 = 1;
const FAILED: u8 = 2;
const PRIVILEGED: u8 = 3;
const OPTED_OUT: u8 = 4;
/// The errno of a failed attempt.
static ENTER_ERRNO: AtomicI32 = AtomicI32::new(0);

/// How this process can create network namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privilege {
    /// Root, or CAP_SYS_ADMIN and CAP_NET_ADMIN, in the machine's namespaces.
    Root,
    /// Unprivileged, running inside a user namespace netns-test entered
    /// before `main` (or [`enter_user_namespace`]).
    UserNamespace,
    /// Unprivileged, not (yet) in a user namespace, but one can be made.
    UserNamespaceAvailable,
    /// Neither: netns tests cannot run. The text says why and how to fix it.
    Unsupported(String),
}

impl Privilege {
    /// Whether network namespaces can be created right now.
    pub fn can_create_namespaces(&self) -> bool {
        matches!(self, Privilege::Root | Privilege::UserNamespace)
    }
}

/// The calling thread's effective capabilities (`capget`, no file read).
fn effective_caps() -> Option<u64> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget writes two `Data` records for version 3, into memory we own.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    (rc == 0).then(|| u64::from(data[0].effective) | (u64::from(data[1].effective) << 32))
}

pub(crate) fn has_caps() -> bool {
    effective_caps().is_some_and(|c| c & (1 << CAP_NET_ADMIN) != 0 && c & (1 << CAP_SYS_ADMIN) != 0)
}

/// Whether the process is in a user namespace other than the machine's.
fn in_child_user_namespace() -> bool {
    // The initial namespace maps the whole range: "0 0 4294967295".
    fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
        .unwrap_or(false)
}

/// Finds out how this process can create network namespaces.
///
/// ```
/// match netns_test::privilege::detect() {
///     netns_test::privilege::Privilege::Unsupported(why) => eprintln!("{why}"),
///     other => println!("{other:?}"),
/// }
/// ```
pub fn detect() -> Privilege {
    if ENTERED.load(Ordering::Acquire) == ENTERED_USERNS {
        return Privilege::UserNamespace;
    }
    if has_caps() {
        return if in_child_user_namespace() {
            Privilege::UserNamespace
        } else {
            Privilege::Root
        };
    }
    match probe_user_namespace() {
        Ok(()) => Privilege::UserNamespaceAvailable,
        Err(e) => Privilege::Unsupported(fix_it(&e)),
    }
}

/// Tries `unshare(CLONE_NEWUSER)` in a forked, single-threaded child.
fn probe_user_namespace() -> io::Result<()> {
    // SAFETY: the child only calls async-signal-safe functions (unshare,
    // _exit) before exiting; the parent reaps it.
    unsafe {
        let pid = libc::fork();
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            let rc = libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET);
            let code = if rc == 0 {
                0
            } else {
                *libc::__errno_location()
            };
            libc::_exit(code & 0x7f);
        }
        let mut status = 0;
        while libc::waitpid(pid, &mut status, 0) < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        probe_outcome(status)
    }
}

/// What the probe child's wait status says: the user namespace was made
/// (exit 0) or refused (exit with the errno); a child killed by a signal
/// (a seccomp filter that kills, say) made none.
fn probe_outcome(status: libc::c_int) -> io::Result<()> {
    if !libc::WIFEXITED(status) {
        let sig = libc::WTERMSIG(status);
        let name =
            nix::sys::signal::Signal::try_from(sig).map_or("an unknown signal", |s| s.as_str());
        return Err(io::Error::other(format!(
            "the probe process was killed by signal {sig} ({name})"
        )));
    }
    match libc::WEXITSTATUS(status) {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

fn read_sysctl(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The fix-it text for a process that can create no network namespace.
pub(crate) fn fix_it(userns_error: &io::Error) -> String {
    let mut knobs = Vec::new();
    if read_sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        knobs.push("kernel.unprivileged_userns_clone is 0: `sudo sysctl -w kernel.unprivileged_userns_clone=1`".to_string());
    }
    if read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1")
    {
        knobs.push(
            "AppArmor restricts unprivileged user namespaces: `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` \
             (or an AppArmor profile granting `userns` to the test binary)"
                .to_string(),
        );
    }
    if read_sysctl("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        knobs.push(
            "user.max_user_namespaces is 0: `sudo sysctl -w user.max_user_namespaces=15000`"
                .to_string(),
        );
    }
    let seccomp = fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("Seccomp:"))
            .map(|l| l.trim_start_matches("Seccomp:").trim().to_string())
    });
    if seccomp.as_deref() == Some("2") {
        knobs.push(
            "a seccomp filter is active (a container's profile?) and may block unshare/clone with CLONE_NEWUSER: \
             allow them in the profile, e.g. `docker run --security-opt seccomp=unconfined`, or give the container \
             CAP_SYS_ADMIN and CAP_NET_ADMIN"
                .to_string(),
        );
    }
    if knobs.is_empty() {
        knobs.push(
            "unprivileged user namespaces are disabled on this machine (a kernel sysctl, an LSM or a container \
             profile); ask for them to be allowed"
                .to_string(),
        );
    }
    let mut text = format!(
        "netns-test cannot create network namespaces: the process lacks CAP_SYS_ADMIN and \
         CAP_NET_ADMIN (it is not root, or root without them) and cannot create a user namespace (unshare(CLONE_NEWUSER): {userns_error}).\nFix one of:\n"
    );
    for k in &knobs {
        text.push_str(&format!("  - {k}\n"));
    }
    text.push_str(
        "  - or run as root: `sudo -E cargo test`, or only the test binaries as root with a runner in \
         .cargo/config.toml: [target.'cfg(target_os = \"linux\")'] runner = \"sudo -E\"",
    );
    text.push_str(&skip_advice());
    text
}

/// The last line of a fix-it text: how to skip these tests instead of
/// failing them; empty when the user already asked for that.
pub(crate) fn skip_advice() -> String {
    if skip_requested() {
        String::new()
    } else {
        format!("\nTo skip these tests instead of failing them, set {SKIP_ENV}=1.")
    }
}

/// The fix-it text for the privilege state of this process, if it cannot
/// create namespaces.
pub fn unsupported_reason() -> Option<String> {
    match ENTERED.load(Ordering::Acquire) {
        FAILED => Some(fix_it(&io::Error::from_raw_os_error(
            ENTER_ERRNO.load(Ordering::Acquire),
        ))),
        OPTED_OUT if !has_caps() => Some(format!(
            "netns-test cannot create network namespaces: the process lacks CAP_SYS_ADMIN and \
             CAP_NET_ADMIN, and {NO_USERNS_ENV} kept it from entering a user namespace. Unset \
             {NO_USERNS_ENV}, or run as root (`sudo -E cargo test`).{}",
            skip_advice()
        )),
        _ => match detect() {
            Privilege::Unsupported(why) => Some(why),
            _ => None,
        },
    }
}

/// Whether the user asked to skip tests that cannot run here: [`SKIP_ENV`]
/// is `1`, `true` or `yes` (any case). `0`, `false`, `no` or empty is no;
/// so is any other value, with a warning printed once.
pub fn skip_requested() -> bool {
    super::env::switch(SKIP_ENV)
}

/// Enters a fresh user namespace (uid and gid mapped to 0) with a private
/// network namespace, if the process lacks the capabilities. Must be called
/// while the process has a single thread; the pre-main constructor and the
/// custom harness do. Returns whether the process can now create network
/// namespaces.
pub fn enter_user_namespace() -> bool {
    match ENTERED.load(Ordering::Acquire) {
        ENTERED_USERNS | PRIVILEGED => return true,
        FAILED | OPTED_OUT => return false,
        _ => {}
    }
    if super::env::switch(NO_USERNS_ENV) {
        ENTERED.store(OPTED_OUT, Ordering::Release);
        return has_caps();
    }
    if has_caps() {
        // Capabilities in a user namespace that does not own the network
        // namespace (say under `unshare -U -r`): namespaces can be made, but
        // no thread could ever move back to this one. Give the process a
        // private base namespace it owns, as rootless mode does.
        if !crate::sys::netns::can_return_here() {
            if let Err(e) = unshare_net_only() {
                ENTER_ERRNO.store(e.raw_os_error().unwrap_or(libc::EPERM), Ordering::Release);
                ENTERED.store(FAILED, Ordering::Release);
                return false;
            }
        }
        ENTERED.store(PRIVILEGED, Ordering::Release);
        return true;
    }
    match unshare_user_and_net() {
        Ok(()) => {
            ENTERED.store(ENTERED_USERNS, Ordering::Release);
            true
        }
        Err(e) => {
            ENTER_ERRNO.store(e.raw_os_error().unwrap_or(libc::EPERM), Ordering::Release);
            ENTERED.store(FAILED, Ordering::Release);
            false
        }
    }
}

fn unshare_net_only() -> io::Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(crate::error::errno)?;
    crate::sys::netlink::sync_link_up(1)
}

fn unshare_user_and_net() -> io::Result<()> {
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    nix::sched::unshare(
        nix::sched::CloneFlags::CLONE_NEWUSER | nix::sched::CloneFlags::CLONE_NEWNET,
    )
    .map_err(crate::error::errno)?;
    fs::write("/proc/self/setgroups", "deny")?;
    fs::write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    fs::write("/proc/self/gid_map", format!("0 {gid} 1"))?;
    crate::sys::netlink::sync_link_up(1)?;
    Ok(())
}

/// Runs before `main` in every binary that links netns-test (see the module
/// docs). Does nothing for a privileged process.
extern "C" fn before_main() {
    enter_user_namespace();
}

// SAFETY: `.init_array` entries are called by the loader before `main`,
// with no arguments, on the one thread the process has then;
// `before_main` is an `extern "C" fn()` that only makes system calls and
// touches no Rust runtime state that main has yet to set up.
#[used]
#[link_section = ".init_array"]
static BEFORE_MAIN: extern "C" fn() = before_main;

/// Keeps the constructor linked into every binary that creates namespaces.
pub(crate) fn ensure_constructor_linked() {
    std::hint::black_box(&BEFORE_MAIN);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_killed_by_a_signal_found_no_user_namespace() {
        // Wait statuses: exit code in bits 8-15; a signal in bits 0-6.
        assert!(probe_outcome(0).is_ok());
        let refused = probe_outcome(libc::EPERM << 8).unwrap_err();
        assert_eq!(refused.raw_os_error(), Some(libc::EPERM));
        let killed = probe_outcome(libc::SIGSYS).unwrap_err();
        assert!(killed.to_string().contains("SIGSYS"), "{killed}");
        assert!(probe_outcome(libc::SIGKILL).is_err());
    }
}
