//! `up` and `exec` on the two-host lab: what a program started with
//! `exec` inherits, what reaches it, how `exec` ends, and how `up` ends.
//! Each test holds its lab under a state folder of its own
//! (`XDG_RUNTIME_DIR` in a temporary folder).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{first_line, output_within, text, two_hosts_lab as lab_file, wait_for, BIN};

fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig);
}

/// A lab held by `netns-test up` under a state folder of its own; stopped
/// (SIGTERM, then SIGKILL) when dropped.
struct Held {
    up: Child,
    name: String,
    runtime: tempfile::TempDir,
}

impl Held {
    /// `up` of the two-host lab as `name`, once it says the lab is up.
    fn start(name: &str) -> Held {
        let runtime = tempfile::tempdir().unwrap();
        let mut up = Command::new(BIN)
            .args(["up", lab_file().to_str().unwrap(), "--name", name])
            .env("XDG_RUNTIME_DIR", runtime.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let first = first_line(&mut up);
        assert!(first.contains("is up"), "{first}");
        Held {
            up,
            name: name.into(),
            runtime,
        }
    }

    /// `netns-test exec LAB NODE -- CMD...`, to be run by the caller.
    fn exec<S: AsRef<OsStr>>(&self, node: &str, cmd: &[S]) -> Command {
        let mut c = Command::new(BIN);
        c.args(["exec", &self.name, node, "--"])
            .args(cmd)
            .env("XDG_RUNTIME_DIR", self.runtime.path());
        c
    }

    /// The lab's socket.
    fn socket(&self) -> PathBuf {
        self.runtime
            .path()
            .join("netns-test")
            .join(format!("{}.sock", self.name))
    }

    /// Sends SIGTERM to `up`; how long it took to end, if within `limit`.
    fn stop(&mut self, limit: Duration) -> Option<Duration> {
        let begin = Instant::now();
        signal(&self.up, nix::sys::signal::Signal::SIGTERM);
        wait_for(&mut self.up, limit).map(|_| begin.elapsed())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.up.try_wait().unwrap().is_none() && self.stop(Duration::from_secs(10)).is_none() {
            let _ = self.up.kill();
            let _ = self.up.wait();
        }
    }
}

/// The mask of a `Sig...:` line of `/proc/PID/status`.
fn sig_mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    u64::from_str_radix(line[field.len()..].trim(), 16).unwrap()
}

#[test]
fn exec_programs_start_with_no_signal_blocked_and_default_actions() {
    let lab = Held::start("signals");
    let out = output_within(
        &mut lab.exec("n1", &["grep", "^Sig", "/proc/self/status"]),
        Duration::from_secs(20),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status = text(&out.stdout);
    assert_eq!(sig_mask(&status, "SigBlk:"), 0, "{status}");
    let terminating = [libc::SIGHUP, libc::SIGINT, libc::SIGTERM]
        .iter()
        .fold(0u64, |m, s| m | 1 << (s - 1));
    assert_eq!(sig_mask(&status, "SigIgn:") & terminating, 0, "{status}");
    // So `timeout` can end its program with SIGTERM.
    let begin = Instant::now();
    let out = output_within(
        &mut lab.exec("n1", &["timeout", "1", "sleep", "20"]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(124), "{}", text(&out.stderr));
    assert!(
        begin.elapsed() < Duration::from_secs(8),
        "{:?}",
        begin.elapsed()
    );
}

#[test]
fn up_ends_on_sigterm_while_a_client_is_connected_and_silent() {
    let mut lab = Held::start("silent");
    let sockets = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read_link(e.path())
                    .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
            })
            .count()
    };
    let before = sockets(lab.up.id());
    let client = std::os::unix::net::UnixStream::connect(lab.socket()).unwrap();
    // Until the holder has accepted the connection (one more socket).
    let end = Instant::now() + Duration::from_secs(10);
    while sockets(lab.up.id()) == before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(sockets(lab.up.id()) > before, "the holder never accepted");
    let took = lab.stop(Duration::from_secs(20));
    drop(client);
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(10)),
        "up took {took:?} to end"
    );
}

#[test]
fn a_large_environment_reaches_the_program() {
    let lab = Held::start("large");
    // One variable may hold at most 128 KiB (MAX_ARG_STRLEN): four make
    // a request of over 200 KiB.
    let value = "x".repeat(60_000);
    let mut exec = lab.exec(
        "n1",
        &[
            "sh",
            "-c",
            "echo ${#BIG1} ${#BIG2} ${#BIG3} ${#BIG4}; test \"$BIG4\" = \"$BIG1\"",
        ],
    );
    for k in ["BIG1", "BIG2", "BIG3", "BIG4"] {
        exec.env(k, &value);
    }
    let out = output_within(&mut exec, Duration::from_secs(20));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "60000 60000 60000 60000\n");
}

#[test]
fn bytes_that_are_not_utf8_reach_the_program() {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let lab = Held::start("bytes");
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join(OsStr::from_bytes(b"\xfd"));
    std::fs::create_dir(&cwd).unwrap();
    let arg = std::ffi::OsString::from_vec(b"\xfe".to_vec());
    let mut exec = lab.exec(
        "n1",
        &[
            OsStr::new("sh"),
            OsStr::new("-c"),
            OsStr::new("printf '%s|%s|' \"$X\" \"$1\"; pwd"),
            OsStr::new("sh"),
            &arg,
        ],
    );
    exec.env("X", OsStr::from_bytes(b"\xff")).current_dir(&cwd);
    let out = output_within(&mut exec, Duration::from_secs(20));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut expected = b"\xff|\xfe|".to_vec();
    expected.extend(cwd.as_os_str().as_bytes());
    expected.push(b'\n');
    assert_eq!(out.stdout, expected, "{}", text(&out.stdout));
}

#[test]
fn exec_tells_a_program_that_did_not_run_from_its_status() {
    let lab = Held::start("status");
    let run = |node: &str, cmd: &[&str]| {
        let out = output_within(&mut lab.exec(node, cmd), Duration::from_secs(20));
        (out.status.code(), text(&out.stderr))
    };
    assert_eq!(run("n1", &["sh", "-c", "exit 2"]).0, Some(2));
    let (code, err) = run("n1", &["no-such-program-here"]);
    assert_eq!(code, Some(127), "{err}");
    assert!(err.contains("no-such-program-here"), "{err}");
    let (code, err) = run("n3", &["true"]);
    assert_eq!(code, Some(126), "{err}");
    assert!(err.contains("no node `n3`"), "{err}");
    let (code, err) = run("n1", &["/dev/null"]);
    assert_eq!(code, Some(126), "{err}");
    let out = output_within(
        Command::new(BIN)
            .args(["exec", "not-held", "n1", "--", "true"])
            .env("XDG_RUNTIME_DIR", lab.runtime.path()),
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
}

#[test]
fn lab_names_that_are_not_one_plain_file_name_are_usage_errors() {
    let runtime = tempfile::tempdir().unwrap();
    let long = "x".repeat(65);
    for name in ["", ".", "..", "a/b", "../escape", &long] {
        let out = output_within(
            Command::new(BIN)
                .args(["up", lab_file().to_str().unwrap(), "--name", name])
                .env("XDG_RUNTIME_DIR", runtime.path()),
            Duration::from_secs(20),
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "up --name {name:?}: {err}");
        assert!(err.contains("lab name"), "up --name {name:?}: {err}");
        let out = output_within(
            Command::new(BIN)
                .args(["exec", name, "n1", "--", "true"])
                .env("XDG_RUNTIME_DIR", runtime.path()),
            Duration::from_secs(20),
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "exec {name:?}: {err}");
        assert!(err.contains("lab name"), "exec {name:?}: {err}");
    }
    assert!(!runtime.path().join("escape.json").exists());
}

/// `up` of the two-host lab as `name` with its state folder under `tmp`
/// (`TMPDIR`, no `XDG_RUNTIME_DIR`), as a child; and the state folder.
fn up_under(tmp: &Path, name: &str) -> (Command, PathBuf) {
    let mut up = Command::new(BIN);
    up.args(["up", lab_file().to_str().unwrap(), "--name", name])
        .env("TMPDIR", tmp)
        .env_remove("XDG_RUNTIME_DIR");
    let dir = tmp.join(format!("netns-test-{}", nix::unistd::getuid()));
    (up, dir)
}

#[test]
fn a_state_folder_that_is_a_link_or_someone_elses_is_refused() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();

    let (mut up, dir) = up_under(tmp.path(), "linked");
    std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
    let out = output_within(&mut up, Duration::from_secs(20));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    let mut exec = Command::new(BIN);
    exec.args(["exec", "linked", "n1", "--", "true"])
        .env("TMPDIR", tmp.path())
        .env_remove("XDG_RUNTIME_DIR");
    let out = output_within(&mut exec, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("symbolic link"));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    std::fs::remove_file(&dir).unwrap();

    if nix::unistd::geteuid().is_root() {
        std::fs::create_dir(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let (mut up, _) = up_under(tmp.path(), "owned");
        let out = output_within(&mut up, Duration::from_secs(20));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("belongs to uid 65534"), "{err}");
        std::fs::remove_dir(&dir).unwrap();
    }

    // Made by `up` when missing: this user's alone.
    let (mut up, dir) = up_under(tmp.path(), "fresh");
    let mut up = up.stdout(Stdio::piped()).spawn().unwrap();
    let first = first_line(&mut up);
    let meta = std::fs::symlink_metadata(&dir).unwrap();
    signal(&up, nix::sys::signal::Signal::SIGTERM);
    assert!(wait_for(&mut up, Duration::from_secs(20)).is_some());
    assert!(first.contains("is up"), "{first}");
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
}

#[test]
fn a_program_reads_the_terminal_of_an_up_in_the_background() {
    use std::io::Write;
    let pty = nix::pty::openpty(None, None).unwrap();
    let runtime = tempfile::tempdir().unwrap();
    // `up` leads a session whose controlling terminal is the pty (as from
    // a shell of that terminal), so the pty's foreground is `up`'s group.
    let mut up = Command::new("setsid")
        .args([
            "-c",
            BIN,
            "up",
            lab_file().to_str().unwrap(),
            "--name",
            "tty",
        ])
        .env("XDG_RUNTIME_DIR", runtime.path())
        .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first_line(&mut up);
    assert!(first.contains("is up"), "{first}");
    let mut exec = Command::new(BIN)
        .args(["exec", "tty", "n1", "--", "sh", "-c", "read x; echo got $x"])
        .env("XDG_RUNTIME_DIR", runtime.path())
        .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::fs::File::from(pty.master.try_clone().unwrap())
        .write_all(b"hello\n")
        .unwrap();
    let status = wait_for(&mut exec, Duration::from_secs(10));
    if status.is_none() {
        let _ = exec.kill();
    }
    let out = exec.wait_with_output().unwrap();
    signal(&up, nix::sys::signal::Signal::SIGTERM);
    if wait_for(&mut up, Duration::from_secs(10)).is_none() {
        let _ = up.kill();
        let _ = up.wait();
    }
    assert!(
        status.is_some(),
        "the program did not end (stopped by SIGTTIN?)"
    );
    assert_eq!(text(&out.stdout), "got hello\n", "{}", text(&out.stderr));
}

/// How many descriptors process `pid` has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// A connection to the holder at `socket` that has sent the length of a
/// request of `len` bytes with `fds` descriptors of `/dev/null`.
fn send_length(socket: &Path, len: u64, fds: usize) -> std::os::unix::net::UnixStream {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::io::IoSlice;
    use std::os::fd::AsRawFd;
    let stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    let nulls: Vec<std::fs::File> = (0..fds)
        .map(|_| std::fs::File::open("/dev/null").unwrap())
        .collect();
    let raw: Vec<i32> = nulls.iter().map(AsRawFd::as_raw_fd).collect();
    let prefix = len.to_be_bytes();
    sendmsg::<()>(
        stream.as_raw_fd(),
        &[IoSlice::new(&prefix)],
        &[ControlMessage::ScmRights(&raw)],
        MsgFlags::empty(),
        None,
    )
    .unwrap();
    stream
}

/// Sends the holder at `socket` the length of a request of `len` bytes
/// with `fds` descriptors of `/dev/null`, then `body`; its answer.
fn send_raw(socket: &Path, len: u64, fds: usize, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let stream = send_length(socket, len, fds);
    // The holder may have refused the request and gone already.
    let _ = (&stream).write_all(body);
    let mut answer = Vec::new();
    let _ = (&stream).read_to_end(&mut answer);
    text(&answer)
}

#[test]
fn descriptors_sent_with_a_request_do_not_stay_open_in_the_holder() {
    let lab = Held::start("fds");
    let pid = lab.up.id();
    let before = open_fds(pid);
    // More than the 8 a small control buffer takes, more than the 3 a
    // request has.
    let answers: Vec<String> = (0..3)
        .map(|_| send_raw(&lab.socket(), 2, 9, b"{}"))
        .collect();
    let end = Instant::now() + Duration::from_secs(5);
    while open_fds(pid) > before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(open_fds(pid), before, "{answers:?}");
    for a in &answers {
        assert!(a.contains("descriptors"), "{a}");
    }
}

#[test]
fn up_ends_on_sigterm_while_a_client_sends_a_request_slowly() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut lab = Held::start("slow");
    let client = send_length(&lab.socket(), 1000, 3);
    let done = Arc::new(AtomicBool::new(false));
    // One byte every 50 ms: no read of the holder waits long.
    let dribbler = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) && (&client).write_all(b" ").is_ok() {
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    // Within less than the time a request may take to come (10 s).
    let took = lab.stop(Duration::from_secs(15));
    done.store(true, Ordering::Relaxed);
    dribbler.join().unwrap();
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(8)),
        "up took {took:?} to end"
    );
}

#[test]
fn a_second_up_of_a_held_name_is_refused_and_the_first_keeps_it() {
    let runtime = tempfile::tempdir().unwrap();
    let up = || {
        Command::new(BIN)
            .args(["up", lab_file().to_str().unwrap(), "--name", "twice"])
            .env("XDG_RUNTIME_DIR", runtime.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Both at once: neither has its lab up when the other starts.
    let mut ups = [up(), up()];
    let firsts: Vec<String> = ups.iter_mut().map(first_line).collect();
    let held: Vec<usize> = (0..2).filter(|&i| firsts[i].contains("is up")).collect();
    let exec = |cmd: &[&str]| {
        output_within(
            Command::new(BIN)
                .args(["exec", "twice", "n1", "--"])
                .args(cmd)
                .env("XDG_RUNTIME_DIR", runtime.path()),
            Duration::from_secs(20),
        )
    };
    let out = exec(&["echo", "ran"]);
    for up in &ups {
        signal(up, nix::sys::signal::Signal::SIGTERM);
    }
    let outputs: Vec<_> = ups
        .into_iter()
        .map(|mut up| {
            if wait_for(&mut up, Duration::from_secs(20)).is_none() {
                let _ = up.kill();
            }
            up.wait_with_output().unwrap()
        })
        .collect();
    assert_eq!(held.len(), 1, "{firsts:?}");
    let refused = &outputs[1 - held[0]];
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("already held"), "{err}");
    assert_eq!(text(&out.stdout), "ran\n", "{}", text(&out.stderr));
    // The holder's files are gone with it.
    let dir = runtime.path().join("netns-test");
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_up_that_cannot_write_its_state_file_leaves_no_file() {
    let runtime = tempfile::tempdir().unwrap();
    let dir = runtime.path().join("netns-test");
    // A folder where the state file goes: it cannot replace it.
    std::fs::create_dir_all(dir.join("blocked.json")).unwrap();
    let out = output_within(
        Command::new(BIN)
            .args(["up", lab_file().to_str().unwrap(), "--name", "blocked"])
            .env("XDG_RUNTIME_DIR", runtime.path()),
        Duration::from_secs(20),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("blocked.json"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["blocked.json"], "{err}");
}

#[test]
fn requests_beyond_what_the_holder_serves_at_once_are_refused() {
    let lab = Held::start("busy");
    // As many as it serves at once (64), connected and silent; `exec`
    // comes after them.
    let silent: Vec<_> = (0..64)
        .map(|_| std::os::unix::net::UnixStream::connect(lab.socket()).unwrap())
        .collect();
    let out = output_within(&mut lab.exec("n1", &["true"]), Duration::from_secs(20));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{err}");
    assert!(err.contains("at once"), "{err}");
    drop(silent);
    // Served again once the silent ones are gone.
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let out = output_within(&mut lab.exec("n1", &["true"]), Duration::from_secs(20));
        if out.status.success() {
            break;
        }
        assert!(Instant::now() < end, "{}", text(&out.stderr));
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn exec_says_the_lab_stopped_while_its_program_ran() {
    let mut lab = Held::start("stopped");
    let mut exec = lab
        .exec("n1", &["sh", "-c", "echo started; exec sleep 30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut exec), "started\n");
    assert!(
        lab.stop(Duration::from_secs(20)).is_some(),
        "up did not end"
    );
    if wait_for(&mut exec, Duration::from_secs(20)).is_none() {
        let _ = exec.kill();
    }
    let out = exec.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{err}");
    assert!(err.contains("stopped while"), "{err}");
}
