//! What `exec` and the holder say to each other over the lab's socket.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What `exec` asks for.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Request {
    pub(super) node: String,
    pub(super) cmd: Vec<String>,
    pub(super) env: Vec<(String, String)>,
    pub(super) cwd: PathBuf,
}

/// What the holder answers when the program has ended (or could not start).
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Reply {
    /// Its exit status.
    Exited(i32),
    /// The signal that killed it.
    Signaled(i32),
    /// Why it did not run.
    Failed(String),
}
