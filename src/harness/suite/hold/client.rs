//! The `exec` side: asking the holder to run a program in a node.

use std::ffi::OsStr;
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use super::protocol::{send_request, Bytes, Reply, Request};
use super::state::{secure_state_dir, socket_path};
use super::{check_lab_name, io, state_dir, HoldError};

/// Runs `cmd` in node `node` of lab `lab`, held by another process, with
/// this process's standard input, output and error, environment and
/// working directory; its exit status (128 + the signal's number when a
/// signal killed it). The program is killed when this process ends, and
/// when the lab stops ([`HoldError::Stopped`]).
pub fn run_in_held<S: AsRef<OsStr>>(lab: &str, node: &str, cmd: &[S]) -> Result<i32, HoldError> {
    check_lab_name(lab)?;
    let dir = state_dir();
    if dir.symlink_metadata().is_ok() {
        secure_state_dir(&dir)?;
    }
    let path = socket_path(lab);
    let stream = UnixStream::connect(&path).map_err(|_| HoldError::NotHeld {
        lab: lab.into(),
        path: path.display().to_string(),
    })?;
    let req = Request {
        node: node.into(),
        cmd: cmd.iter().map(Bytes::of).collect(),
        env: std::env::vars_os()
            .map(|(k, v)| (Bytes::of(k), Bytes::of(v)))
            .collect(),
        cwd: Bytes::of(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))),
    };
    let fds = [
        std::io::stdin().as_raw_fd(),
        std::io::stdout().as_raw_fd(),
        std::io::stderr().as_raw_fd(),
    ];
    // A holder that refuses a request before it has read it whole answers
    // and closes: sending fails (EPIPE), what it answered comes, then
    // ECONNRESET.
    let sent = send_request(&stream, &req, &fds);
    let send_error = |e| io(format!("send to {}", path.display()))(e);
    match sent {
        Err(e) if !matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) => {
            return Err(send_error(e))
        }
        _ => {}
    }
    let mut answer = Vec::new();
    let read = (&stream).read_to_end(&mut answer);
    match serde_json::from_slice::<Reply>(&answer) {
        Ok(Reply::Exited(c)) => Ok(c),
        Ok(Reply::Signaled(s)) => Ok(128 + s),
        Ok(Reply::Failed(why)) => Err(HoldError::NotStarted {
            lab: lab.into(),
            node: node.into(),
            why,
        }),
        Ok(Reply::NotFound(why)) => Err(HoldError::ProgramNotFound {
            lab: lab.into(),
            node: node.into(),
            why,
        }),
        Ok(Reply::LabStopped) => Err(HoldError::Stopped(lab.into())),
        Err(_) => Err(match (sent, read) {
            (Err(e), _) => send_error(e),
            (Ok(()), Err(e)) if answer.is_empty() => io("read the answer")(e),
            _ => HoldError::Gone(lab.into()),
        }),
    }
}
