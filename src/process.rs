//! External programs inside a node.
//!
//! [`Node::command`](crate::Node::command) hands out a plain
//! `std::process::Command` whose `pre_exec` hook, in the forked child, enters
//! the node's namespace, asks for SIGKILL when the parent thread dies
//! (`PR_SET_PDEATHSIG`), makes the child a process-group leader and reports its
//! pid to the node through a pipe. At teardown the node reads those pids and
//! kills and reaps every group still inside its namespace, however the
//! command was spawned (std or tokio, `spawn`, `output` or `status`).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::sync::{Arc, Mutex, OnceLock};

use nix::fcntl::OFlag;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::{pipe2, Pid};

use crate::error::{errno, Error, Result};
use crate::netns::NetNs;

/// The pids reported by children spawned in one node.
#[derive(Debug, Default)]
pub(crate) struct ChildTracker {
    /// Made on the first command, so nodes that never run one pay nothing.
    pipe: OnceLock<Pipe>,
}

#[derive(Debug)]
struct Pipe {
    read: Mutex<File>,
    write: Arc<OwnedFd>,
}

impl ChildTracker {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn pipe(&self) -> Result<&Pipe> {
        if let Some(p) = self.pipe.get() {
            return Ok(p);
        }
        let (r, w) = pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).map_err(|e| Error::Spawn {
            op: "create the child-pid pipe".into(),
            source: errno(e),
        })?;
        // A racing first command may have set it; either pipe works.
        let _ = self.pipe.set(Pipe {
            read: Mutex::new(File::from(r)),
            write: Arc::new(w),
        });
        Ok(self.pipe.get().expect("set above"))
    }

    /// A `Command` for `program` that runs inside `ns`.
    pub(crate) fn command(
        &self,
        ns: &NetNs,
        program: impl AsRef<std::ffi::OsStr>,
    ) -> Result<std::process::Command> {
        let ns_fd = Arc::new(
            ns.as_fd()
                .try_clone_to_owned()
                .map_err(|e| Error::namespace("dup namespace fd", e))?,
        );
        let report = Arc::clone(&self.pipe()?.write);
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
        Ok(cmd)
    }

    /// Kills (SIGKILL, whole process group) and reaps every reported child
    /// that is still inside the namespace with inode `ns_inode`.
    pub(crate) fn kill_all(&self, ns_inode: u64) {
        let Some(pipe) = self.pipe.get() else {
            return;
        };
        let mut buf = Vec::new();
        {
            let mut read = pipe.read.lock().unwrap_or_else(|p| p.into_inner());
            let mut chunk = [0u8; 512];
            loop {
                match read.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        }
        for raw in buf.chunks_exact(4) {
            let pid = Pid::from_raw(i32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]));
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
    }
}
