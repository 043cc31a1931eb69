//! The relay thread: receive what each port's node sent, decide, send it
//! to the other end now or when due.

use std::borrow::Cow;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::timers::Timers;
use super::{DirState, Shared};
use crate::impairment::{DropCause, Fate, Frame, Verdict};
use crate::sys::packet_port::{send_frame, send_frames, RecvBatch};
use crate::sys::poller::TIMER;

/// Frames received in one call.
const BATCH: usize = 32;
/// Batches received from one port before the others get their turn.
const ROUNDS: usize = 4;
/// Room for the largest frame a veth can carry (MTU 65535).
const FRAME_ROOM: usize = 65_535 + 14;
/// Before a frame due after a long wait, the relay wakes this much early
/// and polls until it is due: a CPU idle that long (a VM's vCPU halted)
/// takes about a tenth of a millisecond to wake up.
const SPIN: Duration = Duration::from_micros(150);
/// What counts as a long wait (shorter waits keep the CPU awake anyway).
const LONG_WAIT: Duration = Duration::from_millis(1);
/// After it moved a frame, the relay polls this long before it sleeps, so
/// that an answer coming right back finds it awake: waking a CPU that went
/// idle costs a request-response exchange about 0.1 ms per crossing on a
/// VM.
const STAY_AWAKE: Duration = Duration::from_micros(60);
/// The relay's time slice, shorter than the fair scheduler's default
/// (0.75 ms times 1 + log2 of the CPUs) so that when the relay wakes on a
/// busy CPU it preempts the thread running there instead of waiting out
/// that thread's slice, and long enough for the polled stretch before a due
/// frame ([`SPIN`]). With two CPU-bound threads on the 2-core machine this
/// took the p99 error of a 20 ms delay from 1.6-3.4 ms to 12-15 µs.
const SLICE: Duration = Duration::from_micros(300);

/// The relay's loop, until the stop flag is set.
pub(super) fn relay(shared: &Shared) {
    crate::sys::sched::prefer_short_slice(SLICE);
    let mut timers = Timers::default();
    let mut tokens = Vec::new();
    let mut batch = RecvBatch::new(BATCH, FRAME_ROOM);
    let mut clock = Clock::default();
    let mut last_moved = Duration::ZERO;
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let awake = shared.now().saturating_sub(last_moved) < STAY_AWAKE;
        if shared
            .poller
            .wait(&mut tokens, !clock.spinning() && !awake)
            .is_err()
        {
            return;
        }
        for &token in &tokens {
            if token >= TIMER {
                continue;
            }
            last_moved = shared.now();
            let (wire, end) = ((token / 2) as usize, (token % 2) as usize);
            for _ in 0..ROUNDS {
                match batch.recv(shared.wires[wire].ports[end].as_fd()) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        on_batch(shared, wire, end, &batch, n, &mut timers);
                        if n < BATCH {
                            break;
                        }
                    }
                }
            }
        }
        let now = shared.now();
        while let Some(due) = timers.pop_due(now) {
            last_moved = now;
            let to = &shared.wires[due.wire].ports[1 - due.dir];
            if send_frame(to, &due.frame).is_ok() {
                shared
                    .lock(due.wire, due.dir)
                    .count_passed(due.frame.len(), true);
            }
        }
        clock.plan(shared, timers.next_at());
    }
}

/// When the relay wakes next: the timer's deadline, and the due time whose
/// last stretch it polls through.
#[derive(Debug, Default)]
struct Clock {
    /// The timer's deadline.
    armed: Option<Duration>,
    /// A due time the timer was set early for.
    early: Option<Duration>,
    /// The due time being polled for now.
    spin_for: Option<Duration>,
}

impl Clock {
    fn spinning(&self) -> bool {
        self.spin_for.is_some()
    }

    /// Sets the timer (or the polling) for the earliest frame due, `next`.
    fn plan(&mut self, shared: &Shared, next: Option<Duration>) {
        let now = shared.now();
        if self.armed.is_some_and(|a| a <= now) {
            self.armed = None;
        }
        self.spin_for = None;
        let Some(at) = next else { return };
        if self.early == Some(at) && now + SPIN >= at {
            self.spin_for = Some(at);
            return;
        }
        let (wake, early) = if at.saturating_sub(now) > LONG_WAIT {
            (at - SPIN, Some(at))
        } else {
            (at, None)
        };
        if self.armed != Some(wake) && shared.poller.arm(wake.saturating_sub(now)).is_ok() {
            self.armed = Some(wake);
            self.early = early;
        }
    }
}

/// The `n` frames of `batch` that entered direction `dir` of `wire`, under
/// one lock of the direction: those due now leave together at the end, in
/// order, before a release can write held frames.
fn on_batch(
    shared: &Shared,
    wire: usize,
    dir: usize,
    batch: &RecvBatch,
    n: usize,
    timers: &mut Timers,
) {
    let mut st = shared.lock(wire, dir);
    let mut now_out: Vec<Cow<'_, [u8]>> = Vec::with_capacity(n);
    let now = shared.now();
    for i in 0..n {
        let arrived = shared.at_wall(batch.received_at(i));
        let frame = (batch.frame(i), arrived, now);
        on_frame(shared, (wire, dir), &mut st, frame, &mut now_out, timers);
    }
    if now_out.is_empty() {
        return;
    }
    let frames: Vec<&[u8]> = now_out.iter().map(|f| f.as_ref()).collect();
    let sent = send_frames(&shared.wires[wire].ports[1 - dir], &frames);
    for f in &frames[..sent.min(frames.len())] {
        st.count_passed(f.len(), false);
    }
}

/// One frame, which the kernel received at `arrived`: held, handed to the
/// rule and the model (whose clock is the arrival, so that a delay counts
/// from when the node sent the frame), then queued to leave now
/// (`now_out`) or later (`timers`), or dropped.
fn on_frame<'a>(
    shared: &Shared,
    (wire, dir): (usize, usize),
    st: &mut DirState,
    (frame, arrived, now): (&'a [u8], Duration, Duration),
    now_out: &mut Vec<Cow<'a, [u8]>>,
    timers: &mut Timers,
) {
    let index = st.frames;
    st.frames += 1;
    if let Some(held) = st.held.as_mut() {
        held.push_back(frame.to_vec());
        st.stats.held += 1;
        return;
    }
    let verdict = match &st.rule {
        Some(rule) => {
            let nodes = &shared.wires[wire].nodes;
            let f = Frame::new(frame, &nodes[dir], &nodes[1 - dir], index);
            rule.lock().unwrap_or_else(|p| p.into_inner()).decide(&f)
        }
        None => Verdict::Pass,
    };
    if verdict == Verdict::Pass && st.pipeline.is_transparent() {
        now_out.push(Cow::Borrowed(frame));
        return;
    }
    match st.pipeline.decide(arrived, frame.len(), verdict) {
        Fate::Dropped(cause) => {
            let s = &mut st.stats;
            match cause {
                DropCause::Rule => s.rule_dropped += 1,
                DropCause::Mtu => s.mtu_dropped += 1,
                DropCause::Loss => s.lost += 1,
                DropCause::Queue => s.queue_dropped += 1,
            }
        }
        Fate::Delivered(first, copy) => {
            if copy.is_some() {
                st.stats.duplicated += 1;
            }
            for d in std::iter::once(first).chain(copy) {
                let bytes = match d.flip_bit {
                    Some(bit) => {
                        st.stats.corrupted += 1;
                        let mut f = frame.to_vec();
                        f[bit / 8] ^= 1 << (bit % 8);
                        Cow::Owned(f)
                    }
                    None => Cow::Borrowed(frame),
                };
                if d.at <= now {
                    now_out.push(bytes);
                } else {
                    timers.push(d.at, wire, dir, bytes.into_owned());
                }
            }
        }
    }
}
