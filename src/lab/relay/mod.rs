//! The relay of a lab's wires: one thread per lab (not per wire) waits on
//! every port (a packet socket in the wire hub) with epoll, runs each frame
//! through its direction's rule and model, and sends it out of the other
//! end's port at once or when the timerfd says it is due.
//!
//! A link handle changes a direction's model, rule or hold state under that
//! direction's lock, which the relay takes for every frame, so a change
//! applies from the next frame on; releasing held frames writes them from
//! the caller's thread under the same lock, so they reach the far end
//! before any later frame of that direction.

mod run;
mod state;
mod timers;

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(crate) use state::{DirState, SharedRule};

use crate::error::{Error, Result};
use crate::impairment::{Impairment, Pipeline};
use crate::sys::netns::NetNs;
use crate::sys::packet_port::send_frame;
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

/// What the relay thread and the link handles share.
#[derive(Debug)]
pub(crate) struct Shared {
    wires: Vec<WireEnds>,
    /// Two per wire: `2 * wire` is a to b, `2 * wire + 1` b to a.
    dirs: Vec<Mutex<DirState>>,
    epoch: Instant,
    /// The wall clock at `epoch`, to place the kernel's receive times.
    epoch_wall: std::time::Duration,
    stop: AtomicBool,
    poller: Poller,
    /// The hub namespace, held while the relay runs.
    _hub: NetNs,
}

impl Shared {
    /// The relay's clock: time since it started.
    pub(crate) fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// A kernel receive time (since the Unix epoch) on the relay's clock,
    /// never later than now.
    pub(crate) fn at_wall(&self, wall: Option<std::time::Duration>) -> Duration {
        let now = self.now();
        wall.and_then(|w| w.checked_sub(self.epoch_wall))
            .map_or(now, |t| t.min(now))
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
    thread: Mutex<Option<JoinHandle<()>>>,
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
        let relay_err = |op: &str| {
            let op = op.to_string();
            move |source| Error::Wire {
                place: "relay".into(),
                op,
                source,
            }
        };
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
        let shared = Arc::new(Shared {
            wires,
            dirs,
            epoch: Instant::now(),
            epoch_wall: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default(),
            stop: AtomicBool::new(false),
            poller,
            _hub: hub,
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("netns-wire".into())
            .spawn(move || run::relay(&for_thread))
            .map_err(|source| Error::Spawn {
                op: "starting the wire relay thread".into(),
                source,
            })?;
        Ok(Relay {
            shared,
            thread: Mutex::new(Some(thread)),
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

    /// Puts back the model the lab was built with.
    pub(crate) fn restore_base(&self, wire: usize, dir: usize) {
        let mut st = self.direction(wire, dir);
        let base = st.base.clone();
        st.pipeline.set_model(base);
    }

    /// Starts holding the frames that enter that direction.
    pub(crate) fn hold(&self, wire: usize, dir: usize) {
        let mut st = self.direction(wire, dir);
        if st.held.is_none() {
            st.held = Some(Default::default());
        }
    }

    /// Ends the hold: delivers the held frames in order (or, with
    /// `deliver` false, drops them); how many.
    pub(crate) fn end_hold(&self, wire: usize, dir: usize, deliver: bool) -> usize {
        let mut st = self.direction(wire, dir);
        let Some(held) = st.held.take() else {
            return 0;
        };
        let n = held.len();
        if !deliver {
            st.stats.discarded += n as u64;
            return n;
        }
        let to = &self.shared.wires[wire].ports[1 - dir];
        for frame in held {
            if send_frame(to, &frame).is_ok() {
                st.count_passed(frame.len(), true);
            }
        }
        n
    }

    /// Stops the thread; the ports and the hub close when the relay goes.
    pub(crate) fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.poller.wake();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}
