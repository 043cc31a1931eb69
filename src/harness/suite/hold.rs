//! A lab held open by one process (`netns-test up`) and used from others
//! (`netns-test exec`).
//!
//! The holder keeps one thread parked in each node, writes a small state
//! file (its pid, each node thread's id, so that `nsenter` can enter
//! `/proc/PID/task/TID/ns/{user,net}`), and listens on a Unix socket
//! beside it. `exec` sends the program, its environment and working
//! directory, and its own standard input, output and error (`SCM_RIGHTS`)
//! over that socket; the holder starts the program in the node with
//! [`Node::command`](crate::Node::command) and sends back its exit status.
//! This way `exec` needs no privilege over the holder's namespaces (a
//! rootless holder's user namespace cannot be entered from the user
//! namespace another netns-test process made for itself), the program
//! ends when `exec` ends (Ctrl-C) or when the holder ends, SIGKILL
//! included, and the holder's teardown finds it like any program of its
//! nodes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sys::fdpass::{recv_with_fds, send_with_fds};
use crate::sys::process::gettid;
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
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
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

fn socket_path(lab: &str) -> PathBuf {
    state_dir().join(format!("{lab}.sock"))
}

/// What `exec` asks for.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    node: String,
    cmd: Vec<String>,
    env: Vec<(String, String)>,
    cwd: PathBuf,
}

/// What the holder answers when the program has ended (or could not start).
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    /// Its exit status.
    Exited(i32),
    /// The signal that killed it.
    Signaled(i32),
    /// Why it did not run.
    Failed(String),
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
    socket: PathBuf,
    state: State,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<()>>,
    _threads: Vec<NodeThread<()>>,
    net: Arc<Net>,
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
        let socket = socket_path(name);
        let _ = std::fs::remove_file(&socket);
        let listener =
            UnixListener::bind(&socket).map_err(io(format!("listen on {}", socket.display())))?;
        listener
            .set_nonblocking(true)
            .map_err(io("set the socket non-blocking"))?;
        let net = Arc::new(net);
        let stop = Arc::new(AtomicBool::new(false));
        let server = {
            let (net, stop) = (net.clone(), stop.clone());
            std::thread::Builder::new()
                .name("netns-test-up".into())
                .spawn(move || serve(listener, net, stop))
                .map_err(io("start the server thread"))?
        };
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&state).expect("state serializes");
        std::fs::write(&tmp, text).map_err(io(format!("write {}", tmp.display())))?;
        std::fs::rename(&tmp, &path).map_err(io(format!("write {}", path.display())))?;
        Ok(HeldLab {
            name: name.to_string(),
            path,
            socket,
            state,
            stop,
            server: Some(server),
            _threads: threads,
            net,
        })
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
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Accepts `exec` requests until `stop`, one thread each; waits for them.
fn serve(listener: UnixListener, net: Arc<Net>, stop: Arc<AtomicBool>) {
    let mut handlers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (net, stop) = (net.clone(), stop.clone());
                if let Ok(h) = std::thread::Builder::new()
                    .name("netns-test-exec".into())
                    .spawn(move || handle(stream, &net, &stop))
                {
                    handlers.push(h);
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
        handlers.retain(|h| !h.is_finished());
    }
    for h in handlers {
        let _ = h.join();
    }
}

/// Runs one `exec` request: starts the program in the node with the
/// caller's descriptors, and answers with its status. Kills the program
/// when the caller goes away or the lab stops.
fn handle(stream: UnixStream, net: &Net, stop: &AtomicBool) {
    let mut buf = vec![0u8; 256 * 1024];
    let reply = match recv_with_fds(&stream, &mut buf) {
        Err(e) => Reply::Failed(format!("bad request: {e}")),
        Ok((n, fds)) => match serde_json::from_slice::<Request>(&buf[..n]) {
            Err(e) => Reply::Failed(format!("bad request: {e}")),
            Ok(req) => run_request(&stream, net, stop, req, fds),
        },
    };
    let mut s = &stream;
    let text = serde_json::to_string(&reply).expect("a reply serializes");
    let _ = s.write_all(text.as_bytes());
}

fn run_request(
    stream: &UnixStream,
    net: &Net,
    stop: &AtomicBool,
    req: Request,
    fds: Vec<std::os::fd::OwnedFd>,
) -> Reply {
    let Ok(node) = net.node(&req.node) else {
        let known: Vec<&str> = net.nodes().iter().map(|n| n.name()).collect();
        return Reply::Failed(format!(
            "no node `{}` (nodes: {})",
            req.node,
            known.join(", ")
        ));
    };
    let Some(program) = req.cmd.first() else {
        return Reply::Failed("no program given".into());
    };
    let mut cmd = match node.command(program) {
        Ok(c) => c,
        Err(e) => return Reply::Failed(e.to_string()),
    };
    cmd.args(&req.cmd[1..])
        .env_clear()
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&req.cwd);
    let mut fds = fds.into_iter();
    if let (Some(i), Some(o), Some(e)) = (fds.next(), fds.next(), fds.next()) {
        cmd.stdin(Stdio::from(i))
            .stdout(Stdio::from(o))
            .stderr(Stdio::from(e));
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Reply::Failed(format!("cannot run `{program}`: {e}")),
    };
    let _ = stream.set_nonblocking(true);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return match (st.code(), st.signal()) {
                (Some(c), _) => Reply::Exited(c),
                (None, Some(s)) => Reply::Signaled(s),
                _ => Reply::Failed(format!("{st}")),
            };
        }
        let mut probe = [0u8; 1];
        let caller_gone =
            matches!((&*stream).read(&mut probe), Ok(0)) || stop.load(Ordering::Acquire);
        if caller_gone {
            let _ = child.kill();
            let _ = child.wait();
            return Reply::Signaled(libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` in node `node` of lab `lab`, held by another process, with
/// this process's standard input, output and error, environment and
/// working directory; its exit status (128 + the signal's number when a
/// signal killed it). The program is killed when this process ends.
pub fn run_in_held(lab: &str, node: &str, cmd: &[String]) -> Result<i32, HoldError> {
    let path = socket_path(lab);
    let stream = UnixStream::connect(&path).map_err(|_| HoldError::NotHeld {
        lab: lab.into(),
        path: path.display().to_string(),
    })?;
    let req = Request {
        node: node.into(),
        cmd: cmd.to_vec(),
        env: std::env::vars().collect(),
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
    };
    let text = serde_json::to_vec(&req).expect("a request serializes");
    let fds = [
        std::io::stdin().as_raw_fd(),
        std::io::stdout().as_raw_fd(),
        std::io::stderr().as_raw_fd(),
    ];
    send_with_fds(&stream, &text, &fds).map_err(io(format!("send to {}", path.display())))?;
    let mut answer = String::new();
    (&stream)
        .read_to_string(&mut answer)
        .map_err(io("read the answer"))?;
    match serde_json::from_str::<Reply>(&answer) {
        Ok(Reply::Exited(c)) => Ok(c),
        Ok(Reply::Signaled(s)) => Ok(128 + s),
        Ok(Reply::Failed(why)) => Err(HoldError::Io {
            op: format!("run in {lab}/{node}"),
            source: std::io::Error::other(why),
        }),
        Err(_) => Err(HoldError::Gone(lab.into())),
    }
}
