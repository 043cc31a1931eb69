//! Guarantee: a SIGKILL of `netns-test run` or `netns-test up` leaves
//! nothing: no process started in a node (each carries a marker in its
//! environment) is alive afterwards, a program started with `exec` dies
//! with the lab, and no process of the machine holds a node's namespace.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_netns-test");

/// A scenario on the two-host lab of `suites/labs/`, whose path is put
/// in place of `LAB_FILE`.
const LAB: &str = r#"
include = "LAB_FILE"

[[scenario]]
name = "waits"
steps = [
  { do = "start", name = "sleeper", node = "n2", cmd = ["sleep", "60"], env = { MARK = "${mark}" } },
  { do = "ping", from = "n1", to = "n2", count = 1 },
  { do = "sleep", for = "60s" },
]
"#;

#[path = "../../tests/support/processes.rs"]
mod processes;

/// Pids of the processes whose environment holds `MARK=mark`.
fn marked(mark: &str) -> Vec<u32> {
    processes::marked_processes(&format!("MARK={mark}"))
}

/// Every process (or thread, or open fd) of the machine that holds the
/// network namespace `inode`.
fn holders(inode: u64) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if pid.parse::<u32>().is_err() {
            continue;
        }
        let mut paths = vec![format!("/proc/{pid}/ns/net")];
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                paths.push(format!("{}/ns/net", t.path().display()));
            }
        }
        if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            paths.extend(fds.flatten().map(|f| f.path().display().to_string()));
        }
        for p in paths {
            if std::fs::metadata(&p).is_ok_and(|m| m.ino() == inode && m.dev() == nsfs_dev()) {
                out.push(p);
            }
        }
    }
    out
}

/// The device of the namespace filesystem.
fn nsfs_dev() -> u64 {
    std::fs::metadata("/proc/self/ns/net").unwrap().dev()
}

fn lab_file() -> String {
    let lab =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/labs/two_hosts.toml");
    LAB.replace("LAB_FILE", lab.to_str().unwrap())
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

fn kill9(child: &mut Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
}

/// The node's namespace inode, seen through the marked program in it.
fn inode_of(pid: u32) -> u64 {
    std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .unwrap()
        .ino()
}

fn assert_nothing_left(mark: &str, inode: u64) {
    assert!(
        wait_until(Duration::from_secs(5), || marked(mark).is_empty()),
        "marked processes alive after the SIGKILL: {:?}",
        marked(mark)
    );
    assert!(
        wait_until(Duration::from_secs(5), || holders(inode).is_empty()),
        "the node's namespace is still held: {:?}",
        holders(inode)
    );
}

#[test]
fn sigkill_of_run_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.toml");
    std::fs::write(&file, lab_file()).unwrap();
    let mark = format!("run-{}", std::process::id());
    let mut run = Command::new(BIN)
        .args(["run", file.to_str().unwrap(), "--var"])
        .arg(format!("mark={mark}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || !marked(&mark).is_empty()),
        "the scenario's program never started"
    );
    let inode = inode_of(marked(&mark)[0]);
    kill9(&mut run);
    assert_nothing_left(&mark, inode);
}

#[test]
fn sigkill_of_up_leaves_nothing_and_ends_exec() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.toml");
    std::fs::write(&file, lab_file()).unwrap();
    let lab = format!("sigkill-{}", std::process::id());
    let mark = format!("up-{}", std::process::id());
    let mut up = Command::new(BIN)
        .args([
            "up",
            file.to_str().unwrap(),
            "--name",
            &lab,
            "--var",
            "mark=unused",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(up.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("is up"), "{first}");
    let mut exec = Command::new(BIN)
        .args(["exec", &lab, "n2", "--", "sleep", "60"])
        .env("MARK", &mark)
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || marked(&mark).len() >= 2),
        "exec's program never started"
    );
    // The program is the marked process that is not `exec` itself.
    let program = *marked(&mark).iter().find(|p| **p != exec.id()).unwrap();
    let inode = inode_of(program);
    assert_ne!(inode, std::fs::metadata("/proc/self/ns/net").unwrap().ino());
    kill9(&mut up);
    let status = exec.wait().unwrap();
    assert!(
        !status.success(),
        "exec ended with {status} although its lab was killed"
    );
    assert_nothing_left(&mark, inode);
    // What a killed `up` leaves: its state file, socket and lock file,
    // taken over by the next `up` of that name; removed here.
    let dir = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => std::path::PathBuf::from(d).join("netns-test"),
        _ => std::env::temp_dir().join(format!("netns-test-{}", nix::unistd::getuid())),
    };
    for ext in ["json", "sock", "lock"] {
        let _ = std::fs::remove_file(dir.join(format!("{lab}.{ext}")));
    }
}
