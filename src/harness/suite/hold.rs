//! A lab held open by one process (`netns-test up`) and entered from
//! others (`netns-test exec`): the holder keeps one thread parked in each
//! node and writes a small state file (its pid, each node thread's id);
//! a program is then run in a node by entering
//! `/proc/PID/task/TID/ns/user` (when the holder runs in a user
//! namespace) and `.../ns/net`.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sys::process::{command_entering, gettid};
use crate::{Net, NodeThread, Topology};

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
    /// The holder is gone (its state file is stale).
    #[error("lab `{0}` is no longer held: its process has ended")]
    Gone(String),
    /// No node of that name.
    #[error("lab `{lab}` has no node `{node}` (nodes: {known})")]
    UnknownNode {
        /// The lab.
        lab: String,
        /// The name.
        node: String,
        /// The nodes there are.
        known: String,
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

/// What the state file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    pid: u32,
    /// The holder's start time (clock ticks since boot), so a reused pid is
    /// told apart.
    start: u64,
    nodes: BTreeMap<String, u32>,
}

/// The uid of the calling user outside any user namespace.
fn real_uid() -> u32 {
    let uid = nix::unistd::getuid().as_raw();
    let Ok(map) = std::fs::read_to_string("/proc/self/uid_map") else {
        return uid;
    };
    for line in map.lines() {
        let f: Vec<u64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        if let [inside, outside, count] = f[..] {
            if (inside..inside + count).contains(&(uid as u64)) {
                return (outside + uid as u64 - inside) as u32;
            }
        }
    }
    uid
}

/// The folder of state files: `$XDG_RUNTIME_DIR/netns-test`, else
/// `/tmp/netns-test-UID`.
pub fn state_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => Path::new(&d).join("netns-test"),
        _ => std::env::temp_dir().join(format!("netns-test-{}", real_uid())),
    }
}

fn state_path(lab: &str) -> PathBuf {
    state_dir().join(format!("{lab}.json"))
}

/// Field 22 of `/proc/PID/stat`: when the process started.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..]
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

impl State {
    fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}

/// A lab built and held until dropped, its state file written.
#[derive(Debug)]
pub struct HeldLab {
    name: String,
    path: PathBuf,
    state: State,
    // Dropped before `net`: the parked threads see the stop token at
    // teardown anyway.
    _threads: Vec<NodeThread<()>>,
    net: Net,
}

impl HeldLab {
    /// Builds `topology`, parks a thread in each node, and writes the state
    /// file of lab `name` (replacing a stale one; refusing if another live
    /// process holds a lab of that name).
    pub fn hold(name: &str, topology: &Topology) -> Result<HeldLab, HoldError> {
        let path = state_path(name);
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(old) = serde_json::from_str::<State>(&text) {
                if old.alive() {
                    return Err(HoldError::Io {
                        op: format!("hold lab `{name}`"),
                        source: std::io::Error::other(format!(
                            "process {} already holds it ({})",
                            old.pid,
                            path.display()
                        )),
                    });
                }
            }
        }
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
        let state = State {
            pid,
            start: start_time(pid).unwrap_or(0),
            nodes,
        };
        std::fs::create_dir_all(state_dir()).map_err(io("create the state folder"))?;
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&state).expect("state serializes");
        std::fs::write(&tmp, text).map_err(io(format!("write {}", tmp.display())))?;
        std::fs::rename(&tmp, &path).map_err(io(format!("write {}", path.display())))?;
        Ok(HeldLab {
            name: name.to_string(),
            path,
            state,
            _threads: threads,
            net,
        })
    }

    /// The live network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The state file.
    pub fn state_file(&self) -> &Path {
        &self.path
    }

    /// How to run a program in each node: with `netns-test exec`, and with
    /// `nsenter` (which needs `--user` too when the holder runs rootless).
    pub fn instructions(&self) -> String {
        let own_userns = std::fs::metadata("/proc/self/ns/user").map(|m| m.ino()).ok();
        let init_userns = std::fs::metadata("/proc/1/ns/user").map(|m| m.ino()).ok();
        let rootless = own_userns.is_some() && own_userns != init_userns;
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
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A command that runs `program` in node `node` of lab `lab`, held by
/// another process. The program dies if the process that spawns it dies.
pub fn command_in_held(
    lab: &str,
    node: &str,
    program: &str,
) -> Result<(Command, Holder), HoldError> {
    let path = state_path(lab);
    let text = std::fs::read_to_string(&path).map_err(|_| HoldError::NotHeld {
        lab: lab.into(),
        path: path.display().to_string(),
    })?;
    let state: State = serde_json::from_str(&text)
        .map_err(|e| io(format!("read {}", path.display()))(std::io::Error::other(e)))?;
    if !state.alive() {
        return Err(HoldError::Gone(lab.into()));
    }
    let tid = *state.nodes.get(node).ok_or_else(|| HoldError::UnknownNode {
        lab: lab.into(),
        node: node.into(),
        known: state.nodes.keys().cloned().collect::<Vec<_>>().join(", "),
    })?;
    let ns = format!("/proc/{}/task/{tid}/ns", state.pid);
    let open = |kind: &str| -> Result<OwnedFd, HoldError> {
        std::fs::File::open(format!("{ns}/{kind}"))
            .map(OwnedFd::from)
            .map_err(io(format!("open {ns}/{kind}")))
    };
    let theirs = std::fs::metadata(format!("{ns}/user")).map(|m| m.ino());
    let mine = std::fs::metadata("/proc/self/ns/user").map(|m| m.ino());
    let user = match (theirs, mine) {
        (Ok(a), Ok(b)) if a != b => Some(open("user")?),
        _ => None,
    };
    let net = open("net")?;
    let holder = Holder {
        pid: state.pid,
        start: state.start,
    };
    Ok((command_entering(user, net, program), holder))
}

/// The process that holds a lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// Its pid.
    pub pid: u32,
    start: u64,
}

impl Holder {
    /// Whether it still runs (the same process, not a reused pid).
    pub fn is_alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}
