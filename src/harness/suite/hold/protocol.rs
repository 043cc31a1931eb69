//! What `exec` and the holder say to each other over the lab's socket.
//!
//! A request is its body's length (8 bytes, big-endian), sent with the
//! caller's standard input, output and error (`SCM_RIGHTS`), then the body
//! (JSON), however long; the holder reads until it has it all. The reply is
//! JSON up to the end of the stream.

use std::ffi::{OsStr, OsString};
use std::io::{self, ErrorKind, Write};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sys::fdpass::{recv_with_fds, send_with_fds};

/// What `exec` asks for. The program, its arguments, environment and
/// working directory are bytes, as the system has them.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Request {
    pub(super) node: String,
    pub(super) cmd: Vec<Bytes>,
    pub(super) env: Vec<(Bytes, Bytes)>,
    pub(super) cwd: Bytes,
}

/// Bytes of an `OsStr`, written in JSON as a string of hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bytes(pub(super) Vec<u8>);

impl Bytes {
    pub(super) fn of(s: impl AsRef<OsStr>) -> Bytes {
        Bytes(s.as_ref().as_bytes().to_vec())
    }

    pub(super) fn into_os_string(self) -> OsString {
        OsString::from_vec(self.0)
    }

    pub(super) fn into_path(self) -> PathBuf {
        PathBuf::from(self.into_os_string())
    }
}

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut hex = String::with_capacity(self.0.len() * 2);
        for b in &self.0 {
            hex.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&hex)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let hex = String::deserialize(d)?;
        if hex.len() % 2 != 0 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(serde::de::Error::custom("not an even number of hex digits"));
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(serde::de::Error::custom))
            .collect::<Result<_, _>>()
            .map(Bytes)
    }
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
    /// Why it did not run: it was not found.
    NotFound(String),
}

/// The longest request body the holder takes.
const MAX_REQUEST: u64 = 64 << 20;

/// How long a read of a request waits before it looks at `stop` again.
const POLL: Duration = Duration::from_millis(100);

/// Sends `req`, with the descriptors `fds`.
pub(super) fn send_request(stream: &UnixStream, req: &Request, fds: &[RawFd]) -> io::Result<()> {
    let body = serde_json::to_vec(req).map_err(io::Error::other)?;
    send_with_fds(stream, &(body.len() as u64).to_be_bytes(), fds)?;
    (&*stream).write_all(&body)
}

/// Reads one request and the descriptors sent with it; `None` when `stop`
/// is set before it has come whole.
pub(super) fn receive_request(
    stream: &UnixStream,
    stop: &AtomicBool,
) -> Option<Result<(Request, Vec<OwnedFd>), String>> {
    if let Err(e) = stream.set_read_timeout(Some(POLL)) {
        return Some(Err(e.to_string()));
    }
    let mut fds = Vec::new();
    let mut prefix = [0u8; 8];
    if let Err(e) = fill(stream, &mut prefix, &mut fds, stop)? {
        return Some(Err(e.to_string()));
    }
    let len = u64::from_be_bytes(prefix);
    if len > MAX_REQUEST {
        return Some(Err(format!(
            "{len} bytes, more than the {MAX_REQUEST} a request may have"
        )));
    }
    let mut body = vec![0u8; len as usize];
    if let Err(e) = fill(stream, &mut body, &mut fds, stop)? {
        return Some(Err(e.to_string()));
    }
    Some(
        serde_json::from_slice(&body)
            .map(|req| (req, fds))
            .map_err(|e| e.to_string()),
    )
}

/// Fills `buf` from `stream`, adding the descriptors that come to `fds`;
/// `None` when `stop` is set first.
fn fill(
    stream: &UnixStream,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
    stop: &AtomicBool,
) -> Option<io::Result<()>> {
    let mut got = 0;
    while got < buf.len() {
        match recv_with_fds(stream, &mut buf[got..]) {
            Ok((0, _)) => return Some(Err(ErrorKind::UnexpectedEof.into())),
            Ok((n, more)) => {
                got += n;
                fds.extend(more);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if stop.load(Ordering::Acquire) {
                    return None;
                }
            }
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_through_json() {
        let all: Vec<u8> = (0..=255).collect();
        let text = serde_json::to_string(&Bytes(all.clone())).unwrap();
        assert_eq!(&text[..7], "\"000102");
        assert_eq!(serde_json::from_str::<Bytes>(&text).unwrap(), Bytes(all));
        for bad in ["\"abc\"", "\"zz\""] {
            assert!(serde_json::from_str::<Bytes>(bad).is_err(), "{bad}");
        }
    }
}
