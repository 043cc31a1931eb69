//! The relay of a lab's wires: one thread per lab (not per wire) waits on
//! every port (a packet socket in the wire hub) with epoll, runs each frame
//! through its direction's rule and model, and sends it out of the other
//! end's port at once or when the timerfd says it is due.
//!
//! A link handle changes a direction's model, rule or hold state under that
//! direction's lock, which the relay takes for every frame, so a change
//! applies from the next frame on; releasing held frames hands them back
//! to the relay under the same lock, and the relay runs them through the
//! rule and the model before any later frame of that direction.
//!
//! Stopping the relay waits [`THREAD_GRACE`] for its thread, then leaves
//! it behind (a rule that blocks keeps it): it owns its own references to
//! what it uses, which close when it returns.

mod run;
mod state;
#[cfg(test)]
mod tests;
mod timers;

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(crate) use state::{DirState, SharedRule};

use super::hub::{hub_mtus, set_hub_mtus, HUB};
use super::node_thread::{FinishOnDrop, Finished};
use super::teardown::THREAD_GRACE;
use crate::error::{Error, Result};
use crate::impairment::{Impairment, Pipeline};
use crate::sys::netlink::sync::RouteSocket;
use crate::sys::netns::NetNs;
use crate::sys::poller::Poller;
use crate::vocab::Rng;

/// The two ports of one wire and the nodes at their far ends.
#[derive(Debug)]
pub(crate) struct WireEnds {
    /// The packet sockets on the hub's ends of end a's veth, then end b's:
    /// port `e` receives what node `e` sends and sends to node `e`.
    pub(crate) ports: [OwnedFd; 2],
    /// The nodes of end a and end b.
    pub(crate) nodes: [String; 2],
}

/// What the relay thread and the link handles share: each direction's
/// state and the relay's clock.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The nodes of end a and end b of each wire.
    nodes: Vec<[String; 2]>,
    /// Two per wire: `2 * wire` is a to b, `2 * wire + 1` b to a.
    dirs: Vec<Mutex<DirState>>,
    /// The start of the relay's clock (a monotonic one).
    epoch: Instant,
    stop: AtomicBool,
    /// Set when a direction has released frames for the relay to run (see
    /// [`Relay::end_hold`]).
    released: AtomicBool,
}

/// The relay's descriptors: the ports, the epoll set with its timer and
/// waker, the hub namespace and a netlink socket in it. They close together
/// when the relay stops (the last `Arc` goes with the relay's thread and
/// [`Relay::stop`]).
#[derive(Debug)]
pub(crate) struct Io {
    /// Each wire's ports, end a's then end b's (see [`WireEnds::ports`]).
    ports: Vec<[OwnedFd; 2]>,
    poller: Poller,
    /// The hub namespace, held while the relay runs.
    hub: NetNs,
    /// A netlink socket opened in the hub on first use (to set the MTU of
    /// its ends).
    hub_sock: Mutex<Option<RouteSocket>>,
}

impl Shared {
    /// The relay's clock: time since it started.
    pub(crate) fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn lock(&self, wire: usize, dir: usize) -> MutexGuard<'_, DirState> {
        self.dirs[2 * wire + dir]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// The running relay of one lab.
#[derive(Debug)]
pub(crate) struct Relay {
    shared: Arc<Shared>,
    /// The descriptors, until the relay stops.
    io: Mutex<Option<Arc<Io>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Set when the thread has returned (or unwound).
    finished: Arc<Finished>,
    /// Set when [`Relay::stop`] left the thread behind: it may hold a
    /// direction's lock for ever.
    detached: AtomicBool,
    /// The relay thread's id: a hold ended from a rule, on that thread,
    /// does not wait for it.
    thread_id: std::thread::ThreadId,
}

impl Relay {
    /// Starts relaying `wires`, with `models[w]` = (a to b, b to a) for
    /// wire `w`; each direction draws from its own part of `seed`.
    pub(crate) fn start(
        hub: NetNs,
        wires: Vec<WireEnds>,
        models: Vec<[Impairment; 2]>,
        seed: u64,
    ) -> Result<Relay> {
        let poller = Poller::new().map_err(relay_err("creating its epoll set and timerfd"))?;
        for (w, ends) in wires.iter().enumerate() {
            for (end, fd) in ends.ports.iter().enumerate() {
                use std::os::fd::AsFd;
                poller
                    .add(fd.as_fd(), (2 * w + end) as u64)
                    .map_err(relay_err("watching a port"))?;
            }
        }
        let dirs = models
            .into_iter()
            .enumerate()
            .flat_map(|(w, pair)| {
                pair.into_iter().enumerate().map(move |(d, model)| {
                    let rng = Rng::split(seed, (2 * w + d) as u64);
                    Mutex::new(DirState::new(Pipeline::new(model, rng)))
                })
            })
            .collect();
        let (nodes, ports) = wires.into_iter().map(|w| (w.nodes, w.ports)).unzip();
        let shared = Arc::new(Shared {
            nodes,
            dirs,
            epoch: Instant::now(),
            stop: AtomicBool::new(false),
            released: AtomicBool::new(false),
        });
        let io = Arc::new(Io {
            ports,
            poller,
            hub,
            hub_sock: Mutex::new(None),
        });
        let (for_thread, io_for_thread) = (Arc::clone(&shared), Arc::clone(&io));
        let finished = Arc::new(Finished::default());
        let done = FinishOnDrop(Arc::clone(&finished));
        let thread = std::thread::Builder::new()
            .name("netns-wire".into())
            .spawn(move || {
                run::relay(&for_thread, &io_for_thread);
                // Its references go before it says it finished.
                drop((for_thread, io_for_thread));
                drop(done);
            })
            .map_err(|source| Error::Spawn {
                op: "starting the wire relay thread".into(),
                source,
            })?;
        Ok(Relay {
            shared,
            io: Mutex::new(Some(io)),
            thread_id: thread.thread().id(),
            thread: Mutex::new(Some(thread)),
            finished,
            detached: AtomicBool::new(false),
        })
    }

    /// Direction `dir` of wire `wire`, locked: the relay waits until the
    /// guard drops.
    pub(crate) fn direction(&self, wire: usize, dir: usize) -> MutexGuard<'_, DirState> {
        self.shared.lock(wire, dir)
    }

    /// Uses `model` on that direction from the next frame on.
    pub(crate) fn set_model(&self, wire: usize, dir: usize, model: Impairment) {
        self.direction(wire, dir).pipeline.set_model(model);
    }

    /// Direction `dir` of wire `wire`, locked, if its lock comes free by
    /// `deadline`: the relay holds it while the direction's rule runs, and
    /// a rule may block.
    pub(crate) fn direction_by(
        &self,
        wire: usize,
        dir: usize,
        deadline: Instant,
    ) -> Option<MutexGuard<'_, DirState>> {
        loop {
            match self.shared.dirs[2 * wire + dir].try_lock() {
                Ok(st) => return Some(st),
                Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
                Err(TryLockError::WouldBlock) if Instant::now() >= deadline => return None,
                Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Direction `dir` of wire `wire`, locked, unless the relay's thread
    /// was left behind still holding its lock: then `None` rather than
    /// waiting for ever (what ending a fault in a teardown needs).
    fn direction_unless_stuck(&self, wire: usize, dir: usize) -> Option<MutexGuard<'_, DirState>> {
        if !self.detached.load(Ordering::Acquire) {
            return Some(self.direction(wire, dir));
        }
        match self.shared.dirs[2 * wire + dir].try_lock() {
            Ok(st) => Some(st),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Puts back the model the lab was built with (nothing, once the relay
    /// thread was left behind holding that direction).
    pub(crate) fn restore_base(&self, wire: usize, dir: usize) {
        let Some(mut st) = self.direction_unless_stuck(wire, dir) else {
            return;
        };
        let base = st.base.clone();
        st.pipeline.set_model(base);
    }

    /// Starts a hold of that direction: its frames queue until the last of
    /// its holds ends. Frames an earlier hold released that the relay has
    /// not run yet are the first it holds (counted as held once).
    pub(crate) fn hold(&self, wire: usize, dir: usize) {
        let mut st = self.direction(wire, dir);
        st.holders += 1;
        if st.held.is_none() {
            let released = std::mem::take(&mut st.released);
            st.held_bytes = released.iter().map(|(_, f)| f.len()).sum();
            st.held = Some(released);
        }
    }

    /// Ends one hold of that direction; how many held frames it released
    /// (or, with `deliver` false, dropped).
    ///
    /// While another hold holds the direction, the frames stay held when
    /// `deliver` is true (none released), and are dropped now, counted as
    /// discarded, when it is false: the direction stays held. The last hold
    /// to end releases the held frames (or drops them). Once the relay has
    /// stopped, the held frames are dropped (and nothing is done once its
    /// thread was left behind holding that direction).
    ///
    /// Released frames go back to the relay, which runs them in order
    /// through the direction's rule and model as frames arriving now, before
    /// any frame that enters after them; this returns once it has (see
    /// [`Relay::wait_released`]).
    pub(crate) fn end_hold(&self, wire: usize, dir: usize, deliver: bool) -> usize {
        let Some(mut st) = self.direction_unless_stuck(wire, dir) else {
            return 0;
        };
        st.holders = st.holders.saturating_sub(1);
        if st.holders > 0 {
            if deliver {
                return 0;
            }
            let n = st.take_held().len();
            st.stats.discarded += n as u64;
            return n;
        }
        if st.held.is_none() {
            return 0;
        }
        let held = st.take_held();
        st.held = None;
        let n = held.len();
        let io = self.io.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(io) = io.filter(|_| deliver && n > 0) else {
            st.stats.discarded += n as u64;
            return n;
        };
        st.released.extend(held);
        drop(st);
        self.shared.released.store(true, Ordering::Release);
        io.poller.wake();
        self.wait_released(wire, dir);
        n
    }

    /// Waits until the relay has taken the frames released in that
    /// direction; it runs them under the direction's lock, so by then they
    /// have been through the rule and the model, and those due at once
    /// have left. Should its thread be gone first, they are dropped,
    /// counted as discarded. A rule that blocks may keep the relay longer
    /// than [`THREAD_GRACE`]: the wait ends then, the frames still queued
    /// for it.
    fn wait_released(&self, wire: usize, dir: usize) {
        if std::thread::current().id() == self.thread_id {
            // A rule ended the hold: the relay runs the frames once the
            // rule returns.
            return;
        }
        let deadline = Instant::now() + THREAD_GRACE;
        loop {
            let Some(mut st) = self.direction_by(wire, dir, deadline) else {
                return;
            };
            if st.released.is_empty() {
                return;
            }
            if self.finished.is_done() || self.detached.load(Ordering::Acquire) {
                let n = std::mem::take(&mut st.released).len();
                st.stats.discarded += n as u64;
                return;
            }
            drop(st);
            if Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    /// Drops, counted as discarded, the released frames the relay's thread
    /// returned before running (a release that stopped waiting for a rule).
    fn discard_released(&self) {
        for m in &self.shared.dirs {
            let mut st = m.lock().unwrap_or_else(|p| p.into_inner());
            let n = std::mem::take(&mut st.released).len();
            st.stats.discarded += n as u64;
        }
    }

    /// The MTUs of the hub's two ends of wire `wire`, end a's then end
    /// b's.
    pub(crate) fn hub_mtus(&self, wire: usize) -> Result<[u32; 2]> {
        self.with_hub_sock("reading the MTU of its ends", |s| hub_mtus(s, wire))
    }

    /// Sets the MTUs of the hub's two ends of wire `wire`, end a's then
    /// end b's.
    pub(crate) fn set_hub_mtus(&self, wire: usize, mtus: [u32; 2]) -> Result<()> {
        self.with_hub_sock("setting the MTU of its ends", |s| {
            set_hub_mtus(s, wire, mtus)
        })
    }

    /// Runs `f` with a netlink socket of the hub, opened there on first
    /// use; an error naming `op` once the relay has stopped.
    fn with_hub_sock<T>(
        &self,
        op: &str,
        f: impl FnOnce(&mut RouteSocket) -> Result<T>,
    ) -> Result<T> {
        let io = self.io.lock().unwrap_or_else(|p| p.into_inner());
        let Some(io) = io.as_ref() else {
            return Err(relay_err(op)(std::io::Error::other(
                "the relay has stopped (the lab is torn down)",
            )));
        };
        let mut sock = io.hub_sock.lock().unwrap_or_else(|p| p.into_inner());
        if sock.is_none() {
            *sock = Some(io.hub.run(|| RouteSocket::open_here(HUB))??);
        }
        f(sock.as_mut().expect("opened above"))
    }

    /// Stops the thread, then closes the ports, the epoll set and the hub:
    /// the hub namespace is freed, with the wires' veths, even while the
    /// `Net` itself is still borrowed (a timed-out test's body). After
    /// that, held frames can no longer be delivered and the hub's MTU no
    /// longer set.
    ///
    /// The thread gets [`THREAD_GRACE`] to return. One that does not (its
    /// rule blocks) is left behind, detached, and says so on stderr; it
    /// holds its own references to the descriptors, which close when it
    /// returns, and perhaps a direction's lock, which the faults ended
    /// after this no longer wait for.
    pub(crate) fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(io) = self.io.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            io.poller.wake();
        }
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            if self.finished.wait_until(Instant::now() + THREAD_GRACE) {
                let _ = t.join();
                self.discard_released();
            } else {
                self.detached.store(true, Ordering::Release);
                eprintln!(
                    "netns-test: the wire relay thread did not stop within {THREAD_GRACE:?} \
                     (a rule that blocks?); leaving it detached (it keeps the wire hub \
                     open until it returns)"
                );
            }
        }
        // The last reference, unless the thread was left behind: it keeps
        // its own until it returns.
        let io = self.io.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(io);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An error of the relay while doing `op`.
fn relay_err(op: &str) -> impl Fn(std::io::Error) -> Error {
    let op = op.to_string();
    move |source| Error::Wire {
        place: "relay".into(),
        op: op.clone(),
        source,
    }
}
