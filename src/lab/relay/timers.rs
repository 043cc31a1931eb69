//! Frames waiting for their delivery time, earliest first; frames due at
//! the same time leave in the order they arrived. The queue also keeps
//! when the earliest frame of each direction is due, so that the relay can
//! keep a frame that is due on arrival behind the frames of its direction
//! due before it, and let it pass a frame that waits for longer (one
//! delayed for a day).

use std::cmp::{Ordering, Reverse};
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
    /// Whether the model or the rule made it due after it arrived (what
    /// the direction's `delayed` counts).
    pub(super) late: bool,
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
    /// The due times of the frames in the heap, per direction
    /// (`2 * wire + dir`), earliest on top. The frame `heap` gives up
    /// first is the earliest of its direction too, so popping both keeps
    /// them in step.
    dirs: Vec<BinaryHeap<Reverse<Duration>>>,
    /// The bytes of the frames in the heap, per direction (`2 * wire +
    /// dir`).
    bytes: Vec<usize>,
}

impl Timers {
    /// Queues `frame` of direction `dir` of `wire` to leave at `at`;
    /// `late` when the model or the rule made it due after it arrived.
    pub(super) fn push(
        &mut self,
        at: Duration,
        (wire, dir): (usize, usize),
        frame: Vec<u8>,
        late: bool,
    ) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = 2 * wire + dir;
        if self.dirs.len() <= slot {
            self.dirs.resize_with(slot + 1, BinaryHeap::new);
            self.bytes.resize(slot + 1, 0);
        }
        self.dirs[slot].push(Reverse(at));
        self.bytes[slot] += frame.len();
        self.heap.push(Due {
            at,
            seq,
            wire,
            dir,
            frame,
            late,
        });
    }

    /// The next frame due at or before `now`.
    pub(super) fn pop_due(&mut self, now: Duration) -> Option<Due> {
        if self.heap.peek().is_none_or(|d| d.at > now) {
            return None;
        }
        let due = self.heap.pop()?;
        let slot = 2 * due.wire + due.dir;
        self.dirs[slot].pop();
        self.bytes[slot] -= due.frame.len();
        Some(due)
    }

    /// The bytes of the frames of direction `dir` of `wire` in the queue.
    pub(super) fn bytes(&self, wire: usize, dir: usize) -> usize {
        self.bytes.get(2 * wire + dir).copied().unwrap_or(0)
    }

    /// When the earliest frame of direction `dir` of `wire` in the queue
    /// is due.
    pub(super) fn earliest(&self, wire: usize, dir: usize) -> Option<Duration> {
        self.dirs
            .get(2 * wire + dir)
            .and_then(|h| h.peek())
            .map(|r| r.0)
    }

    /// Whether a frame of direction `dir` of `wire` due at `at` may leave
    /// at once, at `now`, rather than through the queue: it is due, and
    /// every frame of its direction in the queue is due after it (so a
    /// frame that waits for longer, however long, holds it back no more
    /// than it would on a link).
    pub(super) fn may_leave_now(
        &self,
        (wire, dir): (usize, usize),
        at: Duration,
        now: Duration,
    ) -> bool {
        at <= now && self.earliest(wire, dir).is_none_or(|e| e > at)
    }

    /// When the earliest frame is due.
    pub(super) fn next_at(&self) -> Option<Duration> {
        self.heap.peek().map(|d| d.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn frames_leave_by_time_then_arrival_and_each_direction_knows_its_earliest() {
        let mut t = Timers::default();
        assert_eq!(t.earliest(0, 0), None);
        t.push(us(30), (0, 0), vec![1], true);
        t.push(us(10), (1, 1), vec![2], true);
        t.push(us(30), (0, 0), vec![3], false);
        t.push(us(20), (0, 0), vec![4], true);
        assert_eq!(
            (t.earliest(0, 0), t.earliest(1, 1)),
            (Some(us(20)), Some(us(10)))
        );
        assert_eq!(
            (t.earliest(0, 1), t.earliest(1, 0), t.earliest(5, 0)),
            (None, None, None)
        );
        assert_eq!(t.next_at(), Some(us(10)));
        assert!(t.pop_due(us(9)).is_none());
        assert_eq!(t.pop_due(us(25)).map(|d| d.frame), Some(vec![2]));
        assert_eq!(
            t.pop_due(us(25)).map(|d| (d.frame, d.late)),
            Some((vec![4], true))
        );
        assert_eq!(t.earliest(0, 0), Some(us(30)));
        let order: Vec<(u8, bool)> = std::iter::from_fn(|| t.pop_due(us(30)))
            .map(|d| (d.frame[0], d.late))
            .collect();
        assert_eq!(order, [(1, true), (3, false)]);
        assert_eq!((t.earliest(0, 0), t.earliest(1, 1)), (None, None));
        assert_eq!(t.next_at(), None);
    }

    #[test]
    fn the_queue_counts_the_bytes_of_each_direction() {
        let mut t = Timers::default();
        assert_eq!(t.bytes(0, 0), 0);
        t.push(us(10), (0, 0), vec![0; 100], true);
        t.push(us(20), (0, 0), vec![0; 50], true);
        t.push(us(5), (1, 1), vec![0; 7], true);
        assert_eq!((t.bytes(0, 0), t.bytes(0, 1), t.bytes(1, 1)), (150, 0, 7));
        while t.pop_due(us(10)).is_some() {}
        assert_eq!((t.bytes(0, 0), t.bytes(1, 1)), (50, 0));
    }

    #[test]
    fn a_frame_due_on_arrival_waits_only_behind_frames_of_its_direction_due_before_it() {
        let mut t = Timers::default();
        let now = us(100);
        assert!(t.may_leave_now((0, 0), us(90), now));
        assert!(!t.may_leave_now((0, 0), us(101), now), "not due yet");
        t.push(us(50), (0, 0), vec![1], true);
        assert!(!t.may_leave_now((0, 0), us(90), now), "it would overtake");
        assert!(
            !t.may_leave_now((0, 0), us(50), now),
            "due together: first come"
        );
        assert!(t.may_leave_now((0, 1), us(90), now), "another direction");
        t.pop_due(now);
        assert!(t.may_leave_now((0, 0), us(90), now));
    }

    #[test]
    fn a_frame_that_never_leaves_holds_back_no_later_frame() {
        let mut t = Timers::default();
        t.push(Duration::MAX, (0, 0), vec![1], true);
        t.push(us(20) + Duration::from_secs(86_400), (0, 0), vec![2], true);
        for now in [us(10), us(1_000), Duration::from_secs(3_600)] {
            assert!(t.may_leave_now((0, 0), now, now));
        }
        assert!(t.pop_due(Duration::from_secs(3_600)).is_none());
    }
}
