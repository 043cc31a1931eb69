//! Programs a scenario starts in its nodes: their output, kept line by
//! line, and stopping, killing and waiting for them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;

use super::super::format::step::Stream;
use crate::Net;

/// Lines kept per program; later lines are counted, not kept.
const MAX_LINES: usize = 100_000;

/// A program's output so far, both streams in order of arrival.
#[derive(Debug, Default)]
pub(crate) struct Output {
    inner: Mutex<OutputInner>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct OutputInner {
    lines: Vec<(Stream, String)>,
    dropped: usize,
    /// Readers not at end of file yet.
    open: usize,
}

impl Output {
    fn push(&self, stream: Stream, line: String) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.lines.len() < MAX_LINES {
            g.lines.push((stream, line));
        } else {
            g.dropped += 1;
        }
        self.cv.notify_all();
    }

    fn closed(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.open = g.open.saturating_sub(1);
        self.cv.notify_all();
    }

    /// The text of one stream (or both, each line marked), for artifacts.
    pub(crate) fn text(&self, stream: Stream) -> String {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for (s, l) in &g.lines {
            if stream == Stream::Any || *s == stream {
                out.push_str(l);
                out.push('\n');
            }
        }
        if g.dropped > 0 {
            out.push_str(&format!("[{} more lines not kept]\n", g.dropped));
        }
        out
    }

    /// The last `n` lines, for failure messages.
    pub(crate) fn tail(&self, n: usize) -> Vec<String> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let skip = g.lines.len().saturating_sub(n);
        g.lines[skip..]
            .iter()
            .map(|(s, l)| format!("{}: {l}", if *s == Stream::Stderr { "err" } else { "out" }))
            .collect()
    }

    /// Waits for a line after the first `from` that matches `re`, until
    /// `deadline` or until `alive` says the program is gone and the
    /// readers are done; the matching line.
    fn wait_line(
        &self,
        from: usize,
        re: &Regex,
        stream: Stream,
        deadline: Instant,
    ) -> Option<String> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = from;
        loop {
            for (s, l) in &g.lines[seen.min(g.lines.len())..] {
                if (stream == Stream::Any || *s == stream) && re.is_match(l) {
                    return Some(l.clone());
                }
            }
            seen = g.lines.len();
            let now = Instant::now();
            if now >= deadline || g.open == 0 {
                return None;
            }
            g = self
                .cv
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .len()
    }

    /// Waits (at most `limit`) until both readers reached end of file.
    fn wait_closed(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while g.open > 0 {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            g = self
                .cv
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// How a program is started.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub(crate) node: String,
    pub(crate) cmd: Vec<String>,
    pub(crate) env: BTreeMap<String, String>,
}

/// A program started by a scenario.
#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) launch: Launch,
    child: Option<Child>,
    pub(crate) status: Option<ExitStatus>,
    pub(crate) output: Arc<Output>,
    /// Where the current run's lines begin in `output`.
    run_from: usize,
}

fn reader(out: Arc<Output>, stream: Stream, pipe: impl Read + Send + 'static) {
    let on_error = out.clone();
    let spawned = std::thread::Builder::new()
        .name("suite-output".into())
        .spawn(move || {
            let mut r = BufReader::new(pipe);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        out.push(stream, line.trim_end_matches(['\n', '\r']).to_string());
                    }
                }
            }
            out.closed();
        });
    if spawned.is_err() {
        // No reader: the stream counts as closed.
        on_error.closed();
    }
}

/// `status` as people read it: `exit status 3`, `killed by SIGKILL`.
pub(crate) fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => {
            let name = super::super::check::SIGNALS
                .iter()
                .find(|(_, n)| *n == s)
                .map(|(n, _)| format!("SIG{n}"))
                .unwrap_or_else(|| format!("signal {s}"));
            format!("killed by {name}")
        }
        _ => format!("{status}"),
    }
}

impl Program {
    /// Starts `launch` in its node: working directory `dir`, the seed in
    /// `NETNS_TEST_SEED`, output kept in `output`.
    pub(crate) fn start(
        net: &Net,
        launch: Launch,
        dir: &Path,
        seed: u64,
        output: Arc<Output>,
    ) -> Result<Program, String> {
        let node = net.node(&launch.node).map_err(|e| e.to_string())?;
        let mut cmd = node.command(&launch.cmd[0]).map_err(|e| e.to_string())?;
        cmd.args(&launch.cmd[1..])
            .envs(&launch.env)
            .env("NETNS_TEST_SEED", seed.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", launch.cmd.join(" ")))?;
        let run_from = output.len();
        output.inner.lock().unwrap_or_else(|e| e.into_inner()).open += 2;
        if let Some(p) = child.stdout.take() {
            reader(output.clone(), Stream::Stdout, p);
        }
        if let Some(p) = child.stderr.take() {
            reader(output.clone(), Stream::Stderr, p);
        }
        Ok(Program {
            launch,
            child: Some(child),
            status: None,
            output,
            run_from,
        })
    }

    /// Its status if it has ended (reaped now if need be).
    pub(crate) fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(c) = &mut self.child {
                if let Ok(Some(st)) = c.try_wait() {
                    self.status = Some(st);
                }
            }
        }
        self.status
    }

    /// Waits for its end until `limit`; its status, or `None` if it runs on.
    pub(crate) fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.poll() {
                self.output.wait_closed(Duration::from_millis(500));
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `signal`: to the supervisor, which passes TERM, INT, HUP,
    /// USR1 and USR2 on to the program; KILL ends the whole tree; STOP and
    /// CONT go to the supervisor's process group.
    pub(crate) fn signal(&mut self, signal: i32) -> Result<(), String> {
        if self.poll().is_some() {
            return Ok(());
        }
        let Some(c) = &self.child else {
            return Ok(());
        };
        let pid = c.id() as i32;
        let target = if signal == libc::SIGSTOP || signal == libc::SIGCONT {
            -pid
        } else {
            pid
        };
        let sig = nix::sys::signal::Signal::try_from(signal).map_err(|e| e.to_string())?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(target), sig)
            .map_err(|e| format!("cannot signal the program: {e}"))
    }

    /// SIGTERM, then SIGKILL if it has not ended after `grace`; its status.
    pub(crate) fn stop(&mut self, grace: Duration) -> Result<ExitStatus, String> {
        self.signal(libc::SIGTERM)?;
        if let Some(st) = self.wait(grace) {
            return Ok(st);
        }
        self.signal(libc::SIGKILL)?;
        self.wait(Duration::from_secs(5))
            .ok_or_else(|| "the program did not end after SIGKILL".to_string())
    }

    /// Waits for a line of its current run matching `re`.
    pub(crate) fn wait_line(
        &mut self,
        re: &Regex,
        stream: Stream,
        limit: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        match self.output.wait_line(self.run_from, re, stream, deadline) {
            Some(line) => Ok(line),
            None => {
                let why = match self.poll() {
                    Some(st) => format!("the program ended ({})", describe(st)),
                    None => format!("none within {limit:?}"),
                };
                Err(format!(
                    "no line matched `{re}`: {why}; last lines:\n{}",
                    indent(&self.output.tail(10))
                ))
            }
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if self.poll().is_none() {
            if let Some(c) = &mut self.child {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// Lines indented for a failure message.
pub(crate) fn indent(lines: &[String]) -> String {
    if lines.is_empty() {
        return "    (no output)".into();
    }
    lines
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
