//! Frames waiting for their delivery time, earliest first; frames due at
//! the same time leave in the order they arrived.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;

/// A frame to write to end `to` of wire `wire` at `at`.
#[derive(Debug)]
pub(super) struct Due {
    pub(super) at: Duration,
    seq: u64,
    pub(super) wire: usize,
    /// The direction the frame travels (0: a to b, 1: b to a).
    pub(super) dir: usize,
    pub(super) frame: Vec<u8>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    /// Reversed: the heap's top is the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The timer queue.
#[derive(Debug, Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Due>,
    next_seq: u64,
}

impl Timers {
    pub(super) fn push(&mut self, at: Duration, wire: usize, dir: usize, frame: Vec<u8>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Due {
            at,
            seq,
            wire,
            dir,
            frame,
        });
    }

    /// The next frame due at or before `now`.
    pub(super) fn pop_due(&mut self, now: Duration) -> Option<Due> {
        if self.heap.peek().is_some_and(|d| d.at <= now) {
            self.heap.pop()
        } else {
            None
        }
    }

    /// When the earliest frame is due.
    pub(super) fn next_at(&self) -> Option<Duration> {
        self.heap.peek().map(|d| d.at)
    }
}
