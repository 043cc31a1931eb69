//! Where a held lab is written down: the state folder, and the state file,
//! the socket and the lock file of each lab.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::{io, HoldError};

/// What the state file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) pid: u32,
    /// The holder's start time (clock ticks since boot), so a reused pid is
    /// told apart.
    pub(super) start: u64,
    pub(super) nodes: BTreeMap<String, u32>,
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
/// [`HeldLab::hold`](super::HeldLab::hold) makes it with mode 0700; it and
/// [`run_in_held`](super::run_in_held) refuse it when it is a symbolic
/// link or belongs to another user.
pub fn state_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => Path::new(&d).join("netns-test"),
        _ => std::env::temp_dir().join(format!("netns-test-{}", real_uid())),
    }
}

/// Makes the state folder when missing (mode 0700, its parents too), and
/// checks it with [`secure_state_dir`].
pub(super) fn make_state_dir() -> Result<PathBuf, HoldError> {
    let dir = state_dir();
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
    {
        return Err(HoldError::Io {
            op: format!("create the state folder {}", dir.display()),
            source: e,
        });
    }
    secure_state_dir(&dir)?;
    Ok(dir)
}

/// Checks the state folder `dir` before anything is written in it or sent
/// through a socket in it: it is a folder, not a symbolic link, and
/// belongs to this user (the effective uid), else someone else could read
/// or replace what is there. A folder of this user's that others may open
/// is closed to them (mode 0700).
pub(super) fn secure_state_dir(dir: &Path) -> Result<(), HoldError> {
    let unsafe_dir = |why: String| HoldError::UnsafeStateDir {
        path: dir.display().to_string(),
        why,
    };
    let meta = std::fs::symlink_metadata(dir).map_err(|e| HoldError::Io {
        op: format!("look at the state folder {}", dir.display()),
        source: e,
    })?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_dir("it is a symbolic link".into()));
    }
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a folder".into()));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(unsafe_dir(format!(
            "it belongs to uid {}, not to this user (uid {me})",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
            HoldError::Io {
                op: format!("close the state folder {} to others", dir.display()),
                source: e,
            }
        })?;
    }
    Ok(())
}

/// Writes `text` to the new file `path` (mode 0600), which must not exist;
/// a symbolic link there is not followed.
pub(super) fn write_new(path: &Path, text: &[u8]) -> Result<(), HoldError> {
    let op = || format!("write {}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| HoldError::Io {
            op: op(),
            source: e,
        })?;
    file.write_all(text).map_err(|e| HoldError::Io {
        op: op(),
        source: e,
    })
}

/// The longest lab name, in bytes: its state file and socket are named
/// after it, and a socket's path has at most 107.
pub const MAX_LAB_NAME: usize = 64;

/// Whether `name` may name a lab: one file name in the state folder, not
/// empty, not `.` or `..`, without `/` or NUL, at most [`MAX_LAB_NAME`]
/// bytes.
pub fn check_lab_name(name: &str) -> Result<(), HoldError> {
    let why = if name.is_empty() {
        "it is empty".to_string()
    } else if name == "." || name == ".." {
        "`.` and `..` name folders".to_string()
    } else if name.contains('/') {
        "it has a `/`".to_string()
    } else if name.contains('\0') {
        "it has a NUL byte".to_string()
    } else if name.len() > MAX_LAB_NAME {
        format!("it is longer than {MAX_LAB_NAME} bytes")
    } else {
        return Ok(());
    };
    Err(HoldError::BadName {
        name: name.into(),
        why,
    })
}

pub(super) fn state_path(lab: &str) -> PathBuf {
    state_dir().join(format!("{lab}.json"))
}

pub(super) fn socket_path(lab: &str) -> PathBuf {
    state_dir().join(format!("{lab}.sock"))
}

fn lock_path(lab: &str) -> PathBuf {
    state_dir().join(format!("{lab}.lock"))
}

/// The exclusive lock (`flock(2)`) on a lab's lock file, `LAB.lock` in the
/// state folder: whoever has it holds the lab, and alone writes and
/// removes the lab's files. The kernel lets it go when the holder ends,
/// SIGKILL included. Dropping it removes the file, then unlocks it.
#[derive(Debug)]
pub(super) struct LabLock {
    path: PathBuf,
    _lock: Flock<File>,
}

impl LabLock {
    /// Locks lab `lab`, making its lock file when missing; `None` when
    /// another process has it locked.
    pub(super) fn take(lab: &str) -> Result<Option<LabLock>, HoldError> {
        let path = lock_path(lab);
        let op = || format!("lock {}", path.display());
        loop {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .map_err(io(op()))?;
            let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => lock,
                Err((_, Errno::EWOULDBLOCK)) => return Ok(None),
                Err((_, e)) => return Err(io(op())(crate::error::errno(e))),
            };
            // The process that had it may have removed the file between
            // the open and the lock: the lock is good only on the file
            // that is at the path now.
            let locked = lock.metadata().map_err(io(op()))?;
            match std::fs::symlink_metadata(&path) {
                Ok(now) if (now.dev(), now.ino()) == (locked.dev(), locked.ino()) => {
                    return Ok(Some(LabLock { path, _lock: lock }))
                }
                _ => continue,
            }
        }
    }
}

impl Drop for LabLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Field 22 of `/proc/PID/stat`: when the process started.
pub(super) fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..]
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}
