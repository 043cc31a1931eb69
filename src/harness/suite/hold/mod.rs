//! A lab held open by one process (`netns-test up`) and used from others
//! (`netns-test exec`).
//!
//! The holder locks the lab's name (a lock file in the state folder) for
//! as long as it holds the lab, keeps one thread parked in each node,
//! writes a small state file (its pid, each node thread's id, so that
//! `nsenter` can enter `/proc/PID/task/TID/ns/{user,net}`), and listens on
//! a Unix socket beside it. `exec` sends the program, its environment and working
//! directory, and its own standard input, output and error (`SCM_RIGHTS`)
//! over that socket; the holder starts the program in the node with
//! [`Node::command`](crate::Node::command) and sends back its exit status.
//! This way `exec` needs no privilege over the holder's namespaces (a
//! rootless holder's user namespace cannot be entered from the user
//! namespace another netns-test process made for itself), the program
//! ends when `exec` ends (Ctrl-C) or when the holder ends, SIGKILL
//! included, and the holder's teardown finds it like any program of its
//! nodes.

mod client;
mod protocol;
mod server;
mod state;

use std::collections::BTreeMap;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::sys::process::gettid;
use crate::{Net, NodeThread, Topology};

pub use client::run_in_held;
pub use state::{check_lab_name, state_dir, MAX_LAB_NAME};
use state::{make_state_dir, socket_path, start_time, state_path, write_new, LabLock, State};

/// Why a held lab cannot be made or entered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HoldError {
    /// No state file for that lab.
    #[error("no lab `{lab}` is held (no {path}); start it with `netns-test up FILE`")]
    NotHeld {
        /// The lab.
        lab: String,
        /// The state file looked for.
        path: String,
    },
    /// A lab name that is not one plain file name.
    #[error("bad lab name {name:?}: {why}")]
    BadName {
        /// The name.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// The state folder is not safe to use.
    #[error(
        "refusing the state folder {path}: {why} (remove it, or set XDG_RUNTIME_DIR to a \
         folder of your own)"
    )]
    UnsafeStateDir {
        /// The folder.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// Another process holds a lab of that name.
    #[error("lab `{lab}` is already held by {by}; stop it first, or choose another name")]
    Held {
        /// The lab.
        lab: String,
        /// The process, as its state file names it (`process PID`), else
        /// `another process`.
        by: String,
    },
    /// The lab stopped while the program ran (the holder killed it).
    #[error("lab `{0}` stopped while the program ran; the program was killed")]
    Stopped(String),
    /// The holder is gone (its state file is stale).
    #[error("lab `{0}` is no longer held: its process has ended")]
    Gone(String),
    /// The holder found no such program (no such file, or no such name in
    /// the `PATH`).
    #[error("cannot run in {lab}/{node}: {why}")]
    ProgramNotFound {
        /// The lab.
        lab: String,
        /// The node.
        node: String,
        /// Why, as the holder says it.
        why: String,
    },
    /// The holder could not start the program in the node otherwise (an
    /// unknown node, a program that is not executable).
    #[error("cannot run in {lab}/{node}: {why}")]
    NotStarted {
        /// The lab.
        lab: String,
        /// The node.
        node: String,
        /// Why, as the holder says it.
        why: String,
    },
    /// Building the lab failed.
    #[error(transparent)]
    Lab(#[from] crate::Error),
    /// A file or namespace operation failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io(op: impl Into<String>) -> impl FnOnce(std::io::Error) -> HoldError {
    let op = op.into();
    move |source| HoldError::Io { op, source }
}

/// A lab built and held until dropped, its state file written.
#[derive(Debug)]
pub struct HeldLab {
    name: String,
    path: PathBuf,
    socket: PathBuf,
    state: State,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<()>>,
    _threads: Vec<NodeThread<()>>,
    net: Arc<Net>,
    // Last, so that the lab is let go only when all else is gone.
    _lock: LabLock,
}

impl HeldLab {
    /// Builds `topology`, parks a thread in each node, and writes the state
    /// file of lab `name` (replacing one left by a holder that was killed).
    /// The lab is locked for as long as it is held ([`HoldError::Held`]
    /// when another process has it); `name` must be one plain file name,
    /// see [`check_lab_name`].
    pub fn hold(name: &str, topology: &Topology) -> Result<HeldLab, HoldError> {
        check_lab_name(name)?;
        make_state_dir()?;
        let path = state_path(name);
        let Some(lock) = LabLock::take(name)? else {
            let by = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| serde_json::from_str::<State>(&text).ok())
                .map_or_else(
                    || "another process".into(),
                    |s| format!("process {}", s.pid),
                );
            return Err(HoldError::Held {
                lab: name.into(),
                by,
            });
        };
        let net = Net::build(topology)?;
        let mut threads = Vec::new();
        let mut nodes = BTreeMap::new();
        for node in net.nodes() {
            let (tx, rx) = std::sync::mpsc::channel();
            threads.push(node.spawn(move |stop| {
                let _ = tx.send(gettid());
                while !stop.is_stopped() {
                    std::thread::sleep(Duration::from_millis(50));
                }
            })?);
            let tid = rx
                .recv()
                .map_err(|e| io("start a node thread")(std::io::Error::other(e)))?;
            nodes.insert(node.name().to_string(), tid);
        }
        let pid = std::process::id();
        let mut lab = HeldLab {
            name: name.to_string(),
            path,
            socket: socket_path(name),
            state: State {
                pid,
                start: start_time(pid).unwrap_or(0),
                nodes,
            },
            stop: Arc::new(AtomicBool::new(false)),
            server: None,
            _threads: threads,
            net: Arc::new(net),
            _lock: lock,
        };
        // From here, an error drops `lab`, which removes the files written.
        let socket = &lab.socket;
        let _ = std::fs::remove_file(socket);
        let listener =
            UnixListener::bind(socket).map_err(io(format!("listen on {}", socket.display())))?;
        listener
            .set_nonblocking(true)
            .map_err(io("set the socket non-blocking"))?;
        let tmp = lab.tmp_path();
        let text = serde_json::to_string_pretty(&lab.state).expect("state serializes");
        let _ = std::fs::remove_file(&tmp);
        write_new(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &lab.path).map_err(io(format!("write {}", lab.path.display())))?;
        // Last, so that no error comes after the server has started.
        let (net, stop) = (lab.net.clone(), lab.stop.clone());
        lab.server = Some(
            std::thread::Builder::new()
                .name("netns-test-up".into())
                .spawn(move || server::serve(listener, net, stop))
                .map_err(io("start the server thread"))?,
        );
        Ok(lab)
    }

    /// Where the state file is written before it is renamed into place.
    fn tmp_path(&self) -> PathBuf {
        self.path.with_extension("json.tmp")
    }

    /// The live network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The lab's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The state file.
    pub fn state_file(&self) -> &Path {
        &self.path
    }

    /// How to run a program in each node: with `netns-test exec`, and with
    /// `nsenter` (which needs `--user` too when the holder runs rootless).
    pub fn instructions(&self) -> String {
        // The initial user namespace maps every uid to itself.
        let rootless = std::fs::read_to_string("/proc/self/uid_map")
            .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
            .unwrap_or(false);
        let mut out = format!(
            "lab `{}` is up (pid {}, state in {}); stop it with Ctrl-C.\n",
            self.name,
            self.state.pid,
            self.path.display()
        );
        for (node, tid) in &self.state.nodes {
            let ns = format!("/proc/{}/task/{tid}/ns", self.state.pid);
            let nsenter = if rootless {
                format!("nsenter --preserve-credentials --user={ns}/user --net={ns}/net CMD")
            } else {
                format!("nsenter --net={ns}/net CMD")
            };
            out.push_str(&format!(
                "  {node}: netns-test exec {} {node} -- CMD    (or: {nsenter})\n",
                self.name
            ));
        }
        out
    }
}

impl Drop for HeldLab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
        // Held under the lab's lock: no other holder's files.
        for file in [&self.path, &self.socket, &self.tmp_path()] {
            let _ = std::fs::remove_file(file);
        }
    }
}
