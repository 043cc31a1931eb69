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
    /// Set when the closure has returned (or unwound): what teardown waits
    /// for.
    pub(super) finished: Arc<Finished>,
}

impl<R> NodeThread<R> {
    /// Waits for the thread; a panic inside is resumed here with its payload.
    pub fn join(self) -> R {
        self.handle
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    /// Whether the thread's closure has returned (or panicked). True as soon
    /// as teardown has seen it return, although the OS thread may still be
    /// on its way out: [`join`](Self::join) then does not block for long.
    pub fn is_finished(&self) -> bool {
        self.finished.is_done() || self.handle.is_finished()
    }
}

impl Finished {
    /// Whether the thread has finished.
    pub(super) fn is_done(&self) -> bool {
        *self.done.lock().unwrap_or_else(|p| p.into_inner())
    }

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

#[cfg(test)]
mod tests {
    use crate::lab::test_pair;

    #[test]
    fn finished_threads_are_forgotten_when_the_next_one_starts() {
        let net = test_pair();
        let node = &net["n1"];
        for i in 0..50 {
            assert_eq!(node.spawn(move |_| i).unwrap().join(), i);
        }
        let running = node
            .spawn(|stop| {
                while !stop.is_stopped() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
            .unwrap();
        // Only the running thread is still kept for teardown.
        assert_eq!(node.threads.lock().unwrap().len(), 1);
        drop(net);
        assert!(running.is_finished());
    }
}
