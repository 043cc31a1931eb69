//! Child processes inside a node: the fork-time hook and the kill.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::sync::Arc;

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// A `Command` for `program` whose child, before exec, enters the namespace
/// of `ns_fd`, asks for SIGKILL when the spawning thread dies
/// (`PR_SET_PDEATHSIG`), leads a process group of its own and writes its pid
/// to `report`.
pub(crate) fn command_in(
    ns_fd: OwnedFd,
    report: Arc<OwnedFd>,
    program: impl AsRef<std::ffi::OsStr>,
) -> std::process::Command {
    let parent = nix::unistd::getpid();
    let mut cmd = std::process::Command::new(program);
    // SAFETY: the hook runs in the forked child before exec and only makes
    // async-signal-safe system calls (setns, prctl, getppid, setpgid,
    // getpid, write) on fds the closure owns; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(ns_fd.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent thread may have died before the prctl took effect.
            if libc::getppid() != parent.as_raw() {
                libc::_exit(1);
            }
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            let pid = libc::getpid().to_ne_bytes();
            // A full pipe only loses teardown tracking, never the child.
            let _ = libc::write(report.as_raw_fd(), pid.as_ptr().cast(), pid.len());
            Ok(())
        });
    }
    cmd
}

/// Kills (SIGKILL, whole process group) the process `pid` if it is still
/// inside the namespace with inode `ns_inode`, and reaps it if it is our
/// child.
pub(crate) fn kill_if_inside(pid: i32, ns_inode: u64) {
    let pid = Pid::from_raw(pid);
    // Only a process still in our namespace is ours: a pid the user
    // already reaped may since belong to somebody else.
    let ours = std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .map(|m| m.ino() == ns_inode)
        .unwrap_or(false);
    if ours {
        let _ = killpg(pid, Signal::SIGKILL);
    }
    // Reap it if it is our child and not yet reaped (ECHILD otherwise).
    let _ = waitpid(
        pid,
        if ours {
            None
        } else {
            Some(WaitPidFlag::WNOHANG)
        },
    );
}
