//! What `exec` and the holder say to each other over the lab's socket.
//!
//! A request is its body's length (8 bytes, big-endian), sent with the
//! caller's standard input, output and error (`SCM_RIGHTS`), then the body
//! (JSON, at most 16 MiB), which must come whole within 10 s. The reply is
//! JSON up to the end of the stream.

use std::ffi::{OsStr, OsString};
use std::io::{self, ErrorKind, Write};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
    /// The lab stopped while it ran; it was killed.
    LabStopped,
}

/// The longest request body the holder takes. A request is mostly the
/// caller's arguments and environment, which Linux limits to 6 MiB
/// together (a quarter of the stack limit, at most three quarters of
/// 8 MiB; 2 MiB under the usual 8 MiB stack limit, `ARG_MAX`), pointers
/// counted; in hexadecimal in JSON they take at most about twice that.
const MAX_REQUEST: u64 = 16 << 20;

/// How many descriptors a request has: standard input, output and error.
const REQUEST_FDS: usize = 3;

/// How long a read of a request waits before it looks at `stop` and the
/// time left again.
const POLL: Duration = Duration::from_millis(100);

/// How long a request may take to come whole before the holder gives up
/// on it (so that a client that sends it slowly cannot keep a handler).
pub(super) const REQUEST_TIME: Duration = Duration::from_secs(10);

/// Why a request is refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum BadRequest {
    /// Reading it failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// Its body is too long.
    #[error("{0} bytes, more than the {MAX_REQUEST} a request may have")]
    TooLong(u64),
    /// It came with other than [`REQUEST_FDS`] descriptors.
    #[error("{0} descriptors, not the {REQUEST_FDS} a request has")]
    Fds(usize),
    /// Descriptors came after its first message.
    #[error("descriptors came after the request's length")]
    LateFds,
    /// It did not come whole in time.
    #[error("it did not come whole within {0:?}")]
    TooSlow(Duration),
    /// Its body is not a request.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Sends `req`, with the descriptors `fds`.
pub(super) fn send_request(stream: &UnixStream, req: &Request, fds: &[RawFd]) -> io::Result<()> {
    let body = serde_json::to_vec(req).map_err(io::Error::other)?;
    send_with_fds(stream, &(body.len() as u64).to_be_bytes(), fds)?;
    (&*stream).write_all(&body)
}

/// Reads one request and the [`REQUEST_FDS`] descriptors sent with its
/// length (other descriptors, or descriptors that come later, are closed
/// and the request refused), refused unless it comes whole within `limit`;
/// `None` when `stop` is set before it has come whole.
pub(super) fn receive_request(
    stream: &UnixStream,
    stop: &AtomicBool,
    limit: Duration,
) -> Option<Result<(Request, Vec<OwnedFd>), BadRequest>> {
    if let Err(e) = stream.set_read_timeout(Some(POLL)) {
        return Some(Err(e.into()));
    }
    let until = Waiting {
        stop,
        end: Instant::now() + limit,
        limit,
    };
    let mut prefix = [0u8; 8];
    let fds = match fill(stream, &mut prefix, true, &until)? {
        Ok(fds) if fds.len() != REQUEST_FDS => return Some(Err(BadRequest::Fds(fds.len()))),
        Ok(fds) => fds,
        Err(e) => return Some(Err(e)),
    };
    let len = u64::from_be_bytes(prefix);
    if len > MAX_REQUEST {
        return Some(Err(BadRequest::TooLong(len)));
    }
    let mut body = vec![0u8; len as usize];
    if let Err(e) = fill(stream, &mut body, false, &until)? {
        return Some(Err(e));
    }
    Some(
        serde_json::from_slice(&body)
            .map(|req| (req, fds))
            .map_err(BadRequest::from),
    )
}

/// What ends the wait for a request: `stop`, or the time `end`, `limit`
/// after it began.
struct Waiting<'a> {
    stop: &'a AtomicBool,
    end: Instant,
    limit: Duration,
}

/// Fills `buf` from `stream`; the descriptors that came with its first
/// message, if `first` is the request's first message, else none (the
/// request is refused when any come); refused when `until.end` comes
/// first; `None` when `until.stop` is set first.
fn fill(
    stream: &UnixStream,
    buf: &mut [u8],
    first: bool,
    until: &Waiting,
) -> Option<Result<Vec<OwnedFd>, BadRequest>> {
    let mut fds = Vec::new();
    let mut got = 0;
    while got < buf.len() {
        if until.stop.load(Ordering::Acquire) {
            return None;
        }
        if Instant::now() >= until.end {
            return Some(Err(BadRequest::TooSlow(until.limit)));
        }
        match recv_with_fds(stream, &mut buf[got..]) {
            Ok((0, _)) => return Some(Err(io::Error::from(ErrorKind::UnexpectedEof).into())),
            Ok((n, more)) => {
                if !more.is_empty() {
                    if !(first && got == 0) {
                        return Some(Err(BadRequest::LateFds));
                    }
                    fds = more;
                }
                got += n;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) => return Some(Err(e.into())),
        }
    }
    Some(Ok(fds))
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

    #[test]
    fn descriptors_after_the_length_are_closed_and_the_request_refused() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let (client, holder) = UnixStream::pair().unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        let (pipe_out, pipe_in) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let req = Request {
            node: "n1".into(),
            cmd: vec![Bytes::of("true")],
            env: Vec::new(),
            cwd: Bytes::of("/"),
        };
        let body = serde_json::to_vec(&req).unwrap();
        let len = (body.len() as u64).to_be_bytes();
        send_with_fds(&client, &len, &[null.as_raw_fd(); REQUEST_FDS]).unwrap();
        send_with_fds(&client, &body[..1], &[pipe_in.as_raw_fd()]).unwrap();
        (&client).write_all(&body[1..]).unwrap();
        drop(pipe_in);
        let got = receive_request(&holder, &AtomicBool::new(false), REQUEST_TIME);
        assert!(matches!(got, Some(Err(BadRequest::LateFds))), "{got:?}");
        // The holder's copy of the pipe's input is closed too.
        let mut byte = [0u8; 1];
        assert_eq!(std::fs::File::from(pipe_out).read(&mut byte).unwrap(), 0);
    }

    #[test]
    fn a_request_that_comes_slowly_is_refused_in_time() {
        use std::os::fd::AsRawFd;
        let (client, holder) = UnixStream::pair().unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        send_with_fds(
            &client,
            &1000u64.to_be_bytes(),
            &[null.as_raw_fd(); REQUEST_FDS],
        )
        .unwrap();
        let dribbler = std::thread::spawn(move || {
            // At most 10 s; ends when the holder's end closes.
            for _ in 0..200 {
                if (&client).write_all(b" ").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let begin = Instant::now();
        let limit = Duration::from_millis(500);
        let got = receive_request(&holder, &AtomicBool::new(false), limit);
        let took = begin.elapsed();
        drop(holder);
        dribbler.join().unwrap();
        assert!(matches!(got, Some(Err(BadRequest::TooSlow(_)))), "{got:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}
