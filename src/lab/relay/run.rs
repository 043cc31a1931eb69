//! The relay thread: receive what each port's node sent, decide, send it
//! to the other end now or when due.

use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::timers::Timers;
use super::Shared;
use crate::impairment::{DropCause, Fate, Frame, Verdict};
use crate::sys::packet_port::{recv_frame, send_frame};
use crate::sys::poller::TIMER;

/// Frames read from one device before the others get their turn.
const BATCH: usize = 64;
/// Room for the largest frame a veth can carry (MTU 65535).
const FRAME_ROOM: usize = 65_535 + 14;
/// Before a frame due after a long wait, the relay wakes this much early
/// and polls until it is due: a CPU idle that long (a VM's vCPU halted)
/// takes about a tenth of a millisecond to wake up.
const SPIN: Duration = Duration::from_micros(150);
/// What counts as a long wait (shorter waits keep the CPU awake anyway).
const LONG_WAIT: Duration = Duration::from_millis(1);

/// The relay's loop, until the stop flag is set.
pub(super) fn relay(shared: &Shared) {
    let mut timers = Timers::default();
    let mut tokens = Vec::new();
    let mut buf = vec![0u8; FRAME_ROOM];
    let mut clock = Clock::default();
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        if shared.poller.wait(&mut tokens, !clock.spinning()).is_err() {
            return;
        }
        for &token in &tokens {
            if token >= TIMER {
                continue;
            }
            let (wire, end) = ((token / 2) as usize, (token % 2) as usize);
            for _ in 0..BATCH {
                match recv_frame(shared.wires[wire].ports[end].as_fd(), &mut buf) {
                    Ok(Some(n)) => on_frame(shared, wire, end, &buf[..n], &mut timers),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        let now = shared.now();
        while let Some(due) = timers.pop_due(now) {
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

/// One frame that entered direction `dir` of `wire`.
fn on_frame(shared: &Shared, wire: usize, dir: usize, frame: &[u8], timers: &mut Timers) {
    let to = &shared.wires[wire].ports[1 - dir];
    let mut st = shared.lock(wire, dir);
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
        if send_frame(to, frame).is_ok() {
            st.count_passed(frame.len(), false);
        }
        return;
    }
    let now = shared.now();
    match st.pipeline.decide(now, frame.len(), verdict) {
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
                let mut bytes = None;
                if let Some(bit) = d.flip_bit {
                    st.stats.corrupted += 1;
                    let mut f = frame.to_vec();
                    f[bit / 8] ^= 1 << (bit % 8);
                    bytes = Some(f);
                }
                if d.at <= now {
                    let out = bytes.as_deref().unwrap_or(frame);
                    if send_frame(to, out).is_ok() {
                        st.count_passed(out.len(), false);
                    }
                } else {
                    timers.push(d.at, wire, dir, bytes.unwrap_or_else(|| frame.to_vec()));
                }
            }
        }
    }
}
