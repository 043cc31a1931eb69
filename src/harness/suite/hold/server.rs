//! The holder's side: accepting `exec` requests and running each program.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::protocol::{receive_request, Bytes, Reply, Request, REQUEST_TIME};
use crate::Net;

/// The most `exec` requests the holder serves at once. Each has a thread
/// for as long as its program runs: room for a program in each node of a
/// big lab, but not for threads without end. A request beyond them is
/// refused.
const MAX_HANDLERS: usize = 64;

/// Accepts `exec` requests until `stop`, one thread each, at most
/// [`MAX_HANDLERS`] at once; waits for them.
pub(super) fn serve(listener: UnixListener, net: Arc<Net>, stop: Arc<AtomicBool>) {
    let mut handlers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::Acquire) {
        handlers.retain(|h| !h.is_finished());
        match listener.accept() {
            Ok((stream, _)) if handlers.len() >= MAX_HANDLERS => {
                let busy = Reply::Failed(format!(
                    "the lab serves {MAX_HANDLERS} requests at once already; try again when \
                     one of their programs has ended"
                ));
                reply(&stream, &busy);
            }
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
    }
    for h in handlers {
        let _ = h.join();
    }
}

/// Runs one `exec` request: starts the program in the node with the
/// caller's descriptors, and answers with its status. Kills the program
/// when the caller goes away or the lab stops.
fn handle(stream: UnixStream, net: &Net, stop: &AtomicBool) {
    let Some(received) = receive_request(&stream, stop, REQUEST_TIME) else {
        return;
    };
    let reply = match received {
        Err(e) => Reply::Failed(format!("bad request: {e}")),
        Ok((req, fds)) => run_request(&stream, net, stop, req, fds),
    };
    self::reply(&stream, &reply);
}

/// Sends `reply` (the caller may be gone).
fn reply(mut stream: &UnixStream, reply: &Reply) {
    let text = serde_json::to_string(reply).expect("a reply serializes");
    let _ = stream.write_all(text.as_bytes());
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
    // Checked here, so that a spawn's "not found" is the program's.
    let cwd = req.cwd.into_path();
    if !cwd.is_dir() {
        return Reply::Failed(format!("no working folder {}", cwd.display()));
    }
    let mut words = req.cmd.into_iter().map(Bytes::into_os_string);
    let Some(program) = words.next() else {
        return Reply::Failed("no program given".into());
    };
    let mut cmd = match node.command(&program) {
        Ok(c) => c,
        Err(e) => return Reply::Failed(e.to_string()),
    };
    crate::sys::process::new_session(&mut cmd);
    cmd.args(words)
        .env_clear()
        .envs(
            req.env
                .into_iter()
                .map(|(k, v)| (k.into_os_string(), v.into_os_string())),
        )
        .current_dir(&cwd);
    let mut fds = fds.into_iter();
    if let (Some(i), Some(o), Some(e)) = (fds.next(), fds.next(), fds.next()) {
        cmd.stdin(Stdio::from(i))
            .stdout(Stdio::from(o))
            .stderr(Stdio::from(e));
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let why = format!("cannot run `{}`: {e}", program.to_string_lossy());
            return match e.kind() {
                std::io::ErrorKind::NotFound => Reply::NotFound(why),
                _ => Reply::Failed(why),
            };
        }
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
        let caller_gone = matches!((&*stream).read(&mut probe), Ok(0));
        if caller_gone || stop.load(Ordering::Acquire) {
            let _ = child.kill();
            let _ = child.wait();
            // A caller that is gone reads no reply.
            return Reply::LabStopped;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
