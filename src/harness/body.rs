//! Where and how a test's body runs: inside its node, on a thread named
//! after the test, and what its end makes of the test.
//!
//! When the calling thread is already that thread (libtest runs each test
//! on a thread named after it), no time limit is set and the thread can
//! move back to its own namespace afterwards, the body runs right there:
//! the thread enters the node, runs the body and returns home, which
//! saves a thread per test. Otherwise the body gets a thread of its own
//! that enters the node for good, and the runner waits for it, with the
//! time limit if there is one.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;

use super::capture::{self, Mode};
use super::runner::{Ctx, Failure, Outcome, TestSpec};
use crate::lab::teardown::Teardown;
use crate::lab::Net;
use crate::sys::netns::ThreadHome;

/// How the body ended: its result, or its panic's payload.
type BodyEnd = Result<Result<(), Failure>, Box<dyn Any + Send>>;

/// Runs `body` in node `node` of `net` and returns the test's outcome,
/// after the network is torn down (unless the body overran its limit: see
/// the runner's documentation).
pub(super) fn run<F>(spec: TestSpec, net: Arc<Net>, node: usize, capture: Mode, body: F) -> Outcome
where
    F: FnOnce(&Ctx) -> Result<(), Failure> + Send + 'static,
{
    let ctx = Ctx {
        net: Arc::clone(&net),
        node,
        spec: spec.clone(),
    };
    if spec.time_limit().is_none() && thread::current().name() == Some(spec.display_name()) {
        if let Some(home) = ThreadHome::save_if_returnable() {
            let end = enter_and_run(&ctx, body);
            drop(home);
            drop(ctx);
            return ended(&spec, net, capture, end);
        }
    }
    let (tx, rx) = mpsc::channel::<BodyEnd>();
    let spawned = thread::Builder::new()
        .name(spec.display_name().to_string())
        .spawn(move || {
            let end = enter_and_run(&ctx, body);
            // Let go of the network before reporting, so that the runner holds
            // the last reference and tears it down before the test returns.
            drop(ctx);
            let _ = tx.send(end);
        });
    let handle = match spawned {
        Ok(h) => h,
        Err(e) => {
            return Outcome::Setup(format!(
                "test `{}`: cannot start the body's thread: {e}",
                spec.display_name()
            ))
        }
    };
    let received = match spec.time_limit() {
        None => rx.recv().map_err(|_| None),
        Some(limit) => rx.recv_timeout(limit).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => Some(limit),
            mpsc::RecvTimeoutError::Disconnected => None,
        }),
    };
    match received {
        Ok(end) => {
            // The thread has sent its last word; wait for it to leave the node.
            let _ = handle.join();
            ended(&spec, net, capture, end)
        }
        Err(None) => {
            let _ = handle.join();
            Outcome::Setup(format!(
                "test `{}`: the body's thread ended without a result",
                spec.display_name()
            ))
        }
        Err(Some(_)) => {
            let head = format!(
                "test `{}` timed out: its body ran longer than {}.",
                spec.display_name(),
                spec.timeout_text()
            );
            // Judged on the first line of the message, the part there is
            // before the teardown: the report needs the network alive.
            let failed = spec.expect().fails(&Outcome::TimedOut(head.clone()));
            report(&spec, &net, failed, capture);
            let torn = net.tear_down(Teardown::Release);
            let node_name = net.nodes()[node].name().to_string();
            drop(net);
            drop(handle); // detach
            Outcome::TimedOut(format!(
                "{head}\n\
                 The network was torn down ({torn}); the body's thread cannot be killed and \
                 is left running, detached, in node `{node_name}`, which stays alive (with \
                 only `lo`) until the thread returns or the process exits."
            ))
        }
    }
}

/// Moves the calling thread into the body's node and runs the body there,
/// catching its panic. The body never runs outside its node.
fn enter_and_run<F>(ctx: &Ctx, body: F) -> BodyEnd
where
    F: FnOnce(&Ctx) -> Result<(), Failure>,
{
    match ctx.node().netns().enter_for_good() {
        Ok(()) => catch_unwind(AssertUnwindSafe(|| body(ctx))),
        Err(e) => Ok(Err(Failure::Setup(format!(
            "test `{}`: cannot enter node `{}`: {e}",
            ctx.spec.display_name(),
            ctx.node().name()
        )))),
    }
}

/// The outcome of a body that ended: the lab report if the test failed
/// (given what it expects: the expected panic of a `#[should_panic]` test
/// is no failure), then the teardown (`net` is the last reference).
fn ended(spec: &TestSpec, net: Arc<Net>, mode: Mode, end: BodyEnd) -> Outcome {
    let outcome = match end {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err(Failure::Returned(e))) => Outcome::Returned(format!(
            "test `{}` returned an error: {e}",
            spec.display_name()
        )),
        Ok(Err(Failure::Setup(msg))) => Outcome::Setup(msg),
        Err(payload) => Outcome::Panicked(payload),
    };
    report(spec, &net, spec.expect().fails(&outcome), mode);
    drop(net); // the last reference: teardown happens here
    outcome
}

/// While the network is alive: when the test `failed`, what `NETNS_TEST_*`
/// asks for (the wires' seed, the dump, the kept namespaces); then the
/// capture's file, kept or removed, and its note.
fn report(spec: &TestSpec, net: &Net, failed: bool, mode: Mode) {
    let binary = spec.binary();
    if failed {
        super::debug::on_failure(&binary, spec.display_name(), net);
    }
    if let Some(note) = capture::finish(&binary, spec.display_name(), net, failed, mode) {
        eprintln!("{note}");
    }
}
