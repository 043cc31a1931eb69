//! Child processes inside a node: the fork-time hook, and finding and
//! killing every process still inside a set of namespaces.

use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag};
use nix::unistd::Pid;

use super::shared_flag::SharedFlag;

/// The signals whose default action the program of [`command_in`] gets
/// back, whatever the spawning process did with them: those that end a
/// program when a terminal, `timeout` or a supervisor asks it to.
const RESET_TO_DEFAULT: [libc::c_int; 3] = [libc::SIGHUP, libc::SIGINT, libc::SIGTERM];

/// A `Command` for `program` whose child, before exec, enters the namespace
/// of `ns_fd`, asks for SIGKILL when the spawning thread dies
/// (`PR_SET_PDEATHSIG`), unblocks every signal (the spawning thread may
/// block some to wait for them) and takes the default action of
/// [`RESET_TO_DEFAULT`], leads a process group of its own, and becomes the
/// supervisor of the program (see [`super::supervisor`]).
///
/// Once `refused` is set (the lab's teardown has begun), the child exits
/// as soon as it has entered the namespace, and the spawn fails with
/// `ECANCELED`: a program started then would keep a namespace alive that
/// teardown is emptying. The child reads the flag in memory it shares with
/// this process, so it sees it set after the fork too; teardown sets it
/// before it looks for processes inside, so a child either is found there
/// or sees the flag.
pub(crate) fn command_in(
    ns_fd: OwnedFd,
    program: impl AsRef<std::ffi::OsStr>,
    refused: Arc<SharedFlag>,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    enter_before_exec(&mut cmd, ns_fd, refused);
    cmd
}

/// Adds the hook of [`command_in`] to `cmd`, after those it has.
fn enter_before_exec(cmd: &mut std::process::Command, ns_fd: OwnedFd, refused: Arc<SharedFlag>) {
    let parent = nix::unistd::getpid();
    // Read here: the hook may not allocate or take locks.
    let files = super::fd_limit::original_soft().and_then(|soft| {
        let (_, hard) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).ok()?;
        Some(libc::rlimit {
            rlim_cur: soft.min(hard),
            rlim_max: hard,
        })
    });
    // SAFETY: the hook runs in the forked child before exec; it loads an
    // atomic in a page shared with the parent and makes async-signal-safe system calls (setns, prctl, getppid, sigemptyset,
    // sigprocmask, signal, setpgid, those of `become_supervisor`, and
    // setrlimit) on fds the closure owns and a signal set and a limit on
    // its stack; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(ns_fd.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                return Err(io::Error::last_os_error());
            }
            // After the setns: teardown either sees this process inside,
            // or has set the flag before it looked (an atomic load).
            if refused.is_set() {
                return Err(io::Error::from_raw_os_error(libc::ECANCELED));
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
            // Before the supervisor forks, so that it, its init and the
            // program all take the signals they forward.
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            if libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            for sig in RESET_TO_DEFAULT {
                libc::signal(sig, libc::SIG_DFL);
            }
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            crate::sys::supervisor::become_supervisor()?;
            // In the program only, after the supervisor has closed what it
            // must (below a lowered limit it might miss some): the open-file
            // limit the process started with, before a build raised it.
            if let Some(files) = &files {
                libc::setrlimit(libc::RLIMIT_NOFILE, files);
            }
            Ok(())
        });
    }
}

/// Makes the program of `cmd`, a [`command_in`] command, lead a session of
/// its own, without a controlling terminal: a terminal it is given is then
/// read and written as any file, not as the terminal of a background
/// process group, which SIGTTIN and SIGTTOU would stop. Where the
/// supervisor could not be made, the program leads its process group and
/// stays in the session it was in.
pub(crate) fn new_session(cmd: &mut std::process::Command) {
    // SAFETY: the hook runs in the forked child before exec, after the hook
    // of `command_in` (so in the program's own process), and only calls
    // setsid, which is async-signal-safe and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            // Fails (EPERM) only for a process group leader: the program
            // without a supervisor, which keeps its session.
            libc::setsid();
            Ok(())
        });
    }
}

/// The children of `pid` (of all its threads), from
/// `/proc/PID/task/TID/children`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

/// Whether this process has any child, running or not yet reaped: one
/// `waitid` that reaps nothing (`WNOWAIT`) and fails with `ECHILD` when there
/// is none, before the walk of `/proc` that finds them.
fn has_children() -> bool {
    let flags = WaitPidFlag::WEXITED
        | WaitPidFlag::WSTOPPED
        | WaitPidFlag::WCONTINUED
        | WaitPidFlag::WNOHANG
        | WaitPidFlag::WNOWAIT;
    !matches!(waitid(Id::All, flags), Err(nix::errno::Errno::ECHILD))
}

/// Every live descendant of this process: its children, theirs, and so on,
/// and the orphans adopted by the reaper (the init of the children's PID
/// namespace, itself a child of this process).
fn descendants() -> Vec<u32> {
    if !has_children() {
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut queue = children_of(std::process::id());
    while let Some(pid) = queue.pop() {
        if seen.insert(pid) {
            queue.extend(children_of(pid));
        }
    }
    seen.into_iter().collect()
}

/// The network namespace inode of process `pid`, while it has one.
fn netns_of(pid: u32) -> Option<u64> {
    std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .map(|m| m.ino())
        .ok()
}

/// How long [`kill_inside`] waits, in all, for the processes it killed to
/// die (one in an uninterruptible sleep dies only when it wakes).
const KILL_WAIT: Duration = Duration::from_secs(2);

/// A process this process killed while it was its child: its pid and
/// start time (which tell it from a later process given the same pid).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KilledChild {
    pid: u32,
    start: u64,
}

/// Kills (SIGKILL) every descendant of this process that is inside one of
/// the network namespaces `inodes`, however it was started, and waits for
/// them to die (up to [`KILL_WAIT`] in all; a dead process holds no
/// namespace). Looks again until none is left (a process may fork while it
/// is being looked for), a bounded number of times.
///
/// Reaps at once only the orphans this process adopted (as their reaper)
/// as they died: nothing else waits for them. Returns those that were this
/// process's children already, not reaped: a `std::process::Child` may be
/// waiting for one; [`reap`] takes what is left of them.
pub(crate) fn kill_inside(inodes: &[u64]) -> Vec<KilledChild> {
    let me = std::process::id();
    let deadline = Instant::now() + KILL_WAIT;
    let mut children = Vec::new();
    for _ in 0..16 {
        let victims: Vec<(u32, Option<Stat>)> = descendants()
            .into_iter()
            .filter(|p| netns_of(*p).is_some_and(|i| inodes.contains(&i)))
            .map(|p| (p, stat_of(p)))
            .collect();
        if victims.is_empty() {
            break;
        }
        for (pid, _) in &victims {
            let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
        }
        let mut alive: Vec<u32> = victims.iter().map(|v| v.0).collect();
        let mut pause = Duration::from_micros(100);
        loop {
            alive.retain(|p| stat_of(*p).is_some_and(|s| !s.is_dead()));
            if alive.is_empty() || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
        // A process is reparented before it becomes a zombie, so the
        // orphans of those that died are this process's by now.
        for (pid, stat) in victims {
            let Some(stat) = stat else { continue };
            let child = KilledChild {
                pid,
                start: stat.start,
            };
            if stat.parent == me {
                children.push(child);
            } else {
                reap(&[child]);
            }
        }
    }
    children
}

/// Reaps those of `killed` that are still zombie children of this process
/// (the same processes: same pid and start time), without blocking.
pub(crate) fn reap(killed: &[KilledChild]) {
    let me = std::process::id();
    for k in killed {
        if stat_of(k.pid).is_some_and(|s| s.is_dead() && s.parent == me && s.start == k.start) {
            let _ = waitpid(Pid::from_raw(k.pid as i32), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// What [`kill_inside`] reads of a process in `/proc/PID/stat`.
struct Stat {
    /// Its state (`R`, `S`, `D`, `Z`, ...).
    state: char,
    parent: u32,
    /// When it started, in clock ticks since boot.
    start: u64,
}

impl Stat {
    /// Whether it has exited (a zombie, or being reaped).
    fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

/// Fields 3 (state), 4 (parent pid) and 22 (start time) of
/// `/proc/PID/stat`, while process `pid` exists.
fn stat_of(pid: u32) -> Option<Stat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        parent: fields.get(1)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// Makes this process the reaper of its descendants' orphans
/// (`PR_SET_CHILD_SUBREAPER`), once: a program that daemonizes inside a node
/// stays a descendant, so teardown finds it.
pub(crate) fn adopt_orphans() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = nix::sys::prctl::set_child_subreaper(true);
        // SAFETY: registers a plain `extern "C" fn()` to run at exit.
        unsafe { libc::atexit(kill_at_exit) };
    });
}

/// At a normal exit (return from `main`, `std::process::exit`), kills what
/// is still inside a namespace of a lab that was never torn down.
extern "C" fn kill_at_exit() {
    let inodes = crate::sys::netns::registered();
    if !inodes.is_empty() {
        // The process is exiting: its zombies go with it.
        kill_inside(&inodes);
    }
}

/// The thread id of the calling thread.
pub(crate) fn gettid() -> u32 {
    nix::unistd::gettid().as_raw() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_forked_before_teardown_began_exits_once_inside() {
        let refused = Arc::new(SharedFlag::new().unwrap());
        let ns: OwnedFd = std::fs::File::open("/proc/self/ns/net").unwrap().into();
        let (forked_r, forked_w) = nix::unistd::pipe().unwrap();
        let (go_r, go_w) = nix::unistd::pipe().unwrap();
        let (w, r) = (forked_w.as_raw_fd(), go_r.as_raw_fd());
        let mut cmd = std::process::Command::new("true");
        // SAFETY: the hook runs in the forked child before exec and makes
        // only async-signal-safe calls (write, read) on fds it was given.
        unsafe {
            cmd.pre_exec(move || {
                let mut byte = 0u8;
                libc::write(w, (&raw const byte).cast(), 1);
                libc::read(r, (&raw mut byte).cast(), 1);
                Ok(())
            });
        }
        // The child is forked, then waits; the flag is set meanwhile.
        enter_before_exec(&mut cmd, ns, Arc::clone(&refused));
        let spawner = std::thread::spawn(move || cmd.spawn().map(|mut c| c.wait()));
        nix::unistd::read(&forked_r, &mut [0u8]).unwrap();
        refused.set();
        nix::unistd::write(&go_w, &[0u8]).unwrap();
        let e = spawner.join().unwrap().map(drop).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ECANCELED), "{e}");
        drop((forked_w, go_r));
    }
}
