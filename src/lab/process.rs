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
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock};

use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use crate::error::{errno, Error, Result};
use crate::sys::netns::NetNs;
use crate::sys::process::{command_in, kill_if_inside};

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
        let ns_fd = ns
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::namespace("dup namespace fd", e))?;
        Ok(command_in(ns_fd, Arc::clone(&self.pipe()?.write), program))
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
            kill_if_inside(
                i32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]),
                ns_inode,
            );
        }
    }
}
