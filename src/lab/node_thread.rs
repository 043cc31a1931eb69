//! Background threads inside a node, and how teardown stops them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Instant;

/// Tells a thread started by [`Node::spawn`](crate::Node::spawn) that the network is being torn down.
#[derive(Debug, Clone)]
pub struct StopToken(pub(super) Arc<AtomicBool>);

impl StopToken {
    /// Whether teardown has begun: the thread should return soon.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Marks a spawned thread finished (also when it panics).
#[derive(Debug, Default)]
pub(super) struct Finished {
    done: Mutex<bool>,
    cv: Condvar,
}

pub(super) struct FinishOnDrop(pub(super) Arc<Finished>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.0.cv.notify_all();
    }
}

/// A background thread running inside a node, made by [`Node::spawn`](crate::Node::spawn).
#[derive(Debug)]
pub struct NodeThread<R> {
    pub(super) handle: thread::JoinHandle<R>,
}

impl<R> NodeThread<R> {
    /// Waits for the thread; a panic inside is resumed here with its payload.
    pub fn join(self) -> R {
        self.handle
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    /// Whether the thread has returned.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl Finished {
    /// Waits until the thread has finished or `deadline` passes; whether it
    /// finished.
    pub(super) fn wait_until(&self, deadline: Instant) -> bool {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .cv
                .wait_timeout(done, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}
