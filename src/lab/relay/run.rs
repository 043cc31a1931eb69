//! The relay thread: receive what each port's node sent, decide, send it
//! to the other end now or when due.

use std::borrow::Cow;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::timers::Timers;
use super::{DirState, Io, Shared};
use crate::impairment::{Delivery, DropCause, Fate, Frame, Verdict};
use crate::sys::packet_port::{send_frame, send_frames, RecvBatch};
use crate::sys::poller::TIMER;
use crate::wire::{DELAY_HORIZON, DELAY_LIMIT_BYTES};

/// Frames received in one call.
const BATCH: usize = 32;
/// Batches received from one port before the others get their turn.
const ROUNDS: usize = 4;
/// Room for the largest frame a veth can carry (MTU 65535), with its
/// offloaded VLAN tag put back.
const FRAME_ROOM: usize = 65_535 + 14 + 4;
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

/// The longest the timer is armed for: a frame due later (a rule's delay
/// of years) is planned for again when it fires.
const MAX_ARM: Duration = Duration::from_secs(3600);

/// The relay's loop, until the stop flag is set.
///
/// Each pass first sends the frames already due, then reads the ports, then
/// sends what became due meanwhile; a frame that is due on arrival waits
/// in the timer queue behind the frames of its direction due before it
/// (see [`on_frame`]), so each direction's frames leave in the order of
/// their delivery times, and frames due at the same time in the order they
/// came.
pub(super) fn relay(shared: &Shared, io: &Io) {
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
        if io
            .poller
            .wait(&mut tokens, !clock.spinning() && !awake)
            .is_err()
        {
            return;
        }
        send_due(shared, io, &mut timers, &mut last_moved);
        if shared.released.swap(false, Ordering::AcqRel) {
            last_moved = shared.now();
            for d in 0..shared.dirs.len() {
                let (wire, dir) = (d / 2, d % 2);
                on_released(
                    shared,
                    io,
                    (wire, dir),
                    &mut shared.lock(wire, dir),
                    &mut timers,
                );
            }
        }
        for &token in &tokens {
            if token >= TIMER {
                continue;
            }
            last_moved = shared.now();
            let (wire, end) = ((token / 2) as usize, (token % 2) as usize);
            for _ in 0..ROUNDS {
                match batch.recv(io.ports[wire][end].as_fd()) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        on_batch(shared, io, (wire, end), (&batch, n), &mut timers);
                        if n < BATCH {
                            break;
                        }
                    }
                }
            }
        }
        send_due(shared, io, &mut timers, &mut last_moved);
        clock.plan(shared, io, timers.next_at());
    }
}

/// Sends every frame of the timer queue that is due now.
fn send_due(shared: &Shared, io: &Io, timers: &mut Timers, last_moved: &mut Duration) {
    let now = shared.now();
    while let Some(due) = timers.pop_due(now) {
        *last_moved = now;
        let to = &io.ports[due.wire][1 - due.dir];
        let mut st = shared.lock(due.wire, due.dir);
        match send_frame(to, &due.frame) {
            Ok(()) => st.count_passed(due.frame.len(), due.late),
            Err(_) => st.count_refused(),
        }
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
    fn plan(&mut self, shared: &Shared, io: &Io, next: Option<Duration>) {
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
        if at.saturating_sub(now) > MAX_ARM {
            // Far away: wake up once in a while to plan again.
            if self.armed.is_none() && io.poller.arm(MAX_ARM).is_ok() {
                self.armed = Some(now + MAX_ARM);
                self.early = None;
            }
            return;
        }
        let (wake, early) = if at.saturating_sub(now) > LONG_WAIT {
            (at - SPIN, Some(at))
        } else {
            (at, None)
        };
        if self.armed != Some(wake) && io.poller.arm(wake.saturating_sub(now)).is_ok() {
            self.armed = Some(wake);
            self.early = early;
        }
    }
}

/// The `n` frames of `batch` that entered direction `dir` of `wire`, under
/// one lock of the direction, after the frames a hold released there (see
/// [`on_released`]): those due now leave together at the end, in order.
///
/// Each frame's arrival is placed on the relay's clock from its kernel
/// receive time (see [`arrival`]): never before the arrival of the frame
/// before it in its direction, and never after the `now` it is judged at.
fn on_batch(
    shared: &Shared,
    io: &Io,
    (wire, dir): (usize, usize),
    (batch, n): (&RecvBatch, usize),
    timers: &mut Timers,
) {
    let mut st = shared.lock(wire, dir);
    on_released(shared, io, (wire, dir), &mut st, timers);
    let mut now_out: Vec<(Cow<'_, [u8]>, bool)> = Vec::with_capacity(n);
    let now = shared.now();
    let wall = wall_clock();
    for i in 0..n {
        let arrived = arrival(batch.received_at(i), (now, wall), st.last_arrival);
        st.last_arrival = arrived;
        let frame = Entry {
            index: st.frames,
            bytes: batch.frame(i),
            arrived,
            now,
            held_back: false,
        };
        st.frames += 1;
        on_frame(shared, (wire, dir), &mut st, frame, &mut now_out, timers);
    }
    send_now(io, (wire, dir), &mut st, &now_out);
}

/// The frames the end of a hold handed back to direction `dir` of `wire`
/// (locked: `st`), run through the rule and the model as frames arriving
/// now, in order, with the indexes they entered with; those due now leave
/// at once.
fn on_released(
    shared: &Shared,
    io: &Io,
    (wire, dir): (usize, usize),
    st: &mut DirState,
    timers: &mut Timers,
) {
    if st.released.is_empty() {
        return;
    }
    let released = std::mem::take(&mut st.released);
    let now = shared.now().max(st.last_arrival);
    st.last_arrival = now;
    let mut now_out: Vec<(Cow<'_, [u8]>, bool)> = Vec::with_capacity(released.len());
    for (index, bytes) in &released {
        let frame = Entry {
            index: *index,
            bytes,
            arrived: now,
            now,
            held_back: true,
        };
        on_frame(shared, (wire, dir), st, frame, &mut now_out, timers);
    }
    send_now(io, (wire, dir), st, &now_out);
}

/// Sends `frames` (each with whether it is late) out of the far end of
/// direction `dir` of `wire`, in order, counting each in `st`.
fn send_now(
    io: &Io,
    (wire, dir): (usize, usize),
    st: &mut DirState,
    frames: &[(Cow<'_, [u8]>, bool)],
) {
    if frames.is_empty() {
        return;
    }
    let bytes: Vec<&[u8]> = frames.iter().map(|(f, _)| f.as_ref()).collect();
    let sent = send_frames(&io.ports[wire][1 - dir], &bytes);
    for ((f, late), ok) in frames.iter().zip(sent) {
        if ok {
            st.count_passed(f.len(), *late);
        } else {
            st.count_refused();
        }
    }
}

/// The wall clock, as time since the Unix epoch (the kernel's receive
/// times are on it).
fn wall_clock() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// When a frame the kernel received at `stamp` (on the wall clock)
/// arrived, on the relay's clock, which reads `now` while the wall clock
/// reads `wall`: its age on the wall clock back from `now`, and no earlier
/// than `last`, the arrival of the frame before it in its direction (at
/// most `now`), so that a direction's arrivals never go back.
///
/// Without a stamp, or with one later than `wall` (the wall clock stepped
/// back since), it arrived `now`; one older than the relay (the wall clock
/// stepped forward) counts from the relay's start. The kernel stamps
/// packets on the wall clock only; by taking only their age from it, a
/// step of that clock misplaces just the frames stamped before it and read
/// after it, and never by more than back to `last`.
pub(super) fn arrival(
    stamp: Option<Duration>,
    (now, wall): (Duration, Duration),
    last: Duration,
) -> Duration {
    stamp
        .map_or(now, |s| now.saturating_sub(wall.saturating_sub(s)))
        .max(last)
}

/// A frame entering the rule and the model.
struct Entry<'a> {
    /// Its index among the frames that entered its direction.
    index: u64,
    bytes: &'a [u8],
    /// When it arrived, on the relay's clock: the model's clock for it.
    arrived: Duration,
    /// When it is judged.
    now: Duration,
    /// Whether a hold kept it: it counts as delayed when delivered.
    held_back: bool,
}

/// One frame: held, or handed to the rule and the model (whose clock is
/// the frame's arrival, so that a delay counts from when the node sent the
/// frame, or from the release of a held frame), then queued to leave now
/// (`now_out`) or later (`timers`), or dropped.
///
/// A frame leaves now only when it is due and no frame of its direction
/// due no later than it waits in the timer queue: otherwise it joins them
/// there (due already, it leaves as soon as this pass sends the due
/// frames, after those due before it). A frame counts as delayed when a
/// hold kept it, or the rule or the model made it due after it arrived. A frame that would wait
/// is dropped instead, counted in `delay_dropped`, when it is due more than
/// [`DELAY_HORIZON`] after it arrived or when the frames of its direction
/// in the timer queue would be more than [`DELAY_LIMIT_BYTES`] with it.
fn on_frame<'a>(
    shared: &Shared,
    (wire, dir): (usize, usize),
    st: &mut DirState,
    entry: Entry<'a>,
    now_out: &mut Vec<(Cow<'a, [u8]>, bool)>,
    timers: &mut Timers,
) {
    let Entry {
        index,
        bytes: frame,
        arrived,
        now,
        held_back,
    } = entry;
    if st.held.is_some() {
        st.keep_held(index, frame);
        return;
    }
    let nodes = &shared.nodes[wire];
    let verdict = st.ask_rule(&Frame::new(frame, &nodes[dir], &nodes[1 - dir], index));
    let fate = if verdict == Verdict::Pass && st.pipeline.is_transparent() {
        // Nothing to decide: due on arrival, it leaves from the receive
        // buffer (unless frames of its direction due before it wait).
        Fate::Delivered(
            Delivery {
                at: arrived,
                flip_bit: None,
            },
            None,
        )
    } else {
        st.pipeline.decide_frame(arrived, frame, verdict)
    };
    match fate {
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
                let late = held_back || d.at > arrived;
                let leaves_now = timers.may_leave_now((wire, dir), d.at, now);
                // A frame that waits is copied into the timer queue: it
                // must be due within the horizon, and fit the direction's
                // bytes there.
                if !leaves_now
                    && (d.at.saturating_sub(arrived) > DELAY_HORIZON
                        || timers.bytes(wire, dir) + frame.len() > DELAY_LIMIT_BYTES)
                {
                    st.stats.delay_dropped += 1;
                    continue;
                }
                let bytes = match d.flip_bit {
                    Some(bit) => {
                        st.stats.corrupted += 1;
                        let mut f = frame.to_vec();
                        f[bit / 8] ^= 1 << (bit % 8);
                        Cow::Owned(f)
                    }
                    None => Cow::Borrowed(frame),
                };
                if leaves_now {
                    now_out.push((bytes, late));
                } else {
                    timers.push(d.at, (wire, dir), bytes.into_owned(), late);
                }
            }
        }
    }
}
