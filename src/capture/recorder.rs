//! The captures of one network: a ring per captured interface, one reader
//! thread that drains them all, and a bounded log of frames per interface.
//!
//! The recorder is attached to the `Net` (see `lab/attach.rs`); teardown
//! stops the thread, joins it and closes every socket before the
//! namespaces go.

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::CaptureError;
use crate::error::{Error, Result};
use crate::lab::attach::Attachment;
use crate::lab::Node;
use crate::packet::decode::{Direction, LinkType, Packet};
use crate::packet::pcapng::{self, FrameOut};
use crate::sys::packet_ring::{self, PacketRing, Waker, RETIRE_MS};

/// How many bytes of frames each interface keeps by default (the newest;
/// older frames are forgotten, and counted).
pub const DEFAULT_LIMIT: usize = 8 << 20;
/// What a frame costs in the log besides its bytes.
const FRAME_OVERHEAD: usize = 48;
/// The longest a [`Recorder::sync`] waits when traffic never stops.
const MAX_SYNC: Duration = Duration::from_millis(200);
/// The reader thread's name.
pub(crate) const THREAD_NAME: &str = "nt-capture";

/// Locks `m`, through a poisoning (the data stays consistent: every
/// critical section is short and panic-free).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One frame kept in a log.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) ts_ns: u64,
    pub(crate) direction: Direction,
    pub(crate) len: u32,
    pub(crate) data: Vec<u8>,
    pub(crate) comment: Option<String>,
}

/// The frames of one interface, newest last.
#[derive(Debug)]
pub(crate) struct IfaceLog {
    pub(crate) node: String,
    pub(crate) iface: String,
    /// How its frames begin.
    pub(crate) link: LinkType,
    pub(crate) frames: VecDeque<Frame>,
    bytes: usize,
    pub(crate) limit: usize,
    /// Frames forgotten to stay under `limit`.
    pub(crate) evicted: u64,
    /// Frames the kernel dropped (ring full).
    pub(crate) kernel_drops: u64,
    /// Frames seen in all.
    pub(crate) seen: u64,
}

impl IfaceLog {
    fn push(&mut self, frame: Frame) {
        self.seen += 1;
        self.bytes += frame.data.len() + FRAME_OVERHEAD;
        self.frames.push_back(frame);
        while self.bytes > self.limit {
            let Some(old) = self.frames.pop_front() else {
                break;
            };
            self.bytes -= old.data.len() + FRAME_OVERHEAD;
            self.evicted += 1;
        }
    }

    pub(crate) fn place(&self) -> String {
        format!("{}/{}", self.node, self.iface)
    }

    /// The sequence number the next frame will get (frames are numbered
    /// from 0, in the order they came).
    pub(crate) fn next_seq(&self) -> u64 {
        self.seen
    }

    /// The sequence number of the oldest frame kept.
    fn first_seq(&self) -> u64 {
        self.seen - self.frames.len() as u64
    }

    /// The frames kept from sequence number `from` on, oldest first.
    pub(crate) fn frames_from(&self, from: u64) -> impl Iterator<Item = &Frame> {
        let skip = from.saturating_sub(self.first_seq());
        self.frames
            .iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
    }

    /// Where a handle that shows this log as `shown` starts now: after
    /// every frame seen so far.
    pub(crate) fn mark(&self, log: usize) -> Shown {
        Shown {
            log,
            from: self.next_seq(),
            drops_at: self.kernel_drops,
        }
    }

    /// What `shown` lost of this log: frames from its start on forgotten
    /// for the size limit, and frames the kernel dropped since it started.
    pub(crate) fn lost(&self, shown: &Shown) -> (u64, u64) {
        (
            self.first_seq().saturating_sub(shown.from),
            self.kernel_drops.saturating_sub(shown.drops_at),
        )
    }
}

/// One interface of a capture handle: its log, the first frame the handle
/// shows (by sequence number: 0 for all, more after a `clear`), and the
/// kernel's drop count when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shown {
    pub(crate) log: usize,
    pub(crate) from: u64,
    pub(crate) drops_at: u64,
}

#[derive(Debug)]
struct SyncState {
    /// Callers waiting in `sync`.
    waiters: usize,
    /// When the last drain pass started.
    last_pass: Option<Instant>,
    /// When the last pass that found no frame in flight started.
    last_clean: Option<Instant>,
    /// The reader thread ended.
    ended: bool,
}

/// What the reader thread shares with the handles.
#[derive(Debug)]
struct Shared {
    logs: Mutex<Vec<IfaceLog>>,
    /// Rings opened but not yet taken over by the reader: (log index, ring).
    incoming: Mutex<Vec<(usize, PacketRing)>>,
    waker: Waker,
    stop: AtomicBool,
    sync: Mutex<SyncState>,
    synced: Condvar,
}

/// The captures of one network.
#[derive(Debug)]
pub(crate) struct Recorder {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// (log index) of the interfaces with a ring.
    ringed: Mutex<Vec<usize>>,
    /// The network's nodes, each with the interfaces the topology made in
    /// it: where a frame may be recorded besides the captured interfaces.
    places: Vec<(String, Vec<String>)>,
}

impl Recorder {
    /// A recorder with no interface yet, its reader thread started, for a
    /// network of `places` (each node with the interfaces the topology made
    /// in it).
    pub(crate) fn start(places: Vec<(String, Vec<String>)>) -> Result<Recorder> {
        let shared = Arc::new(Shared {
            logs: Mutex::new(Vec::new()),
            incoming: Mutex::new(Vec::new()),
            waker: Waker::new().map_err(|e| Error::Capture {
                place: "the capture".into(),
                op: "eventfd".into(),
                source: e,
            })?,
            stop: AtomicBool::new(false),
            sync: Mutex::new(SyncState {
                waiters: 0,
                last_pass: None,
                last_clean: None,
                ended: false,
            }),
            synced: Condvar::new(),
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || read_loop(&for_thread))
            .map_err(|e| Error::Spawn {
                op: "start the capture's reader thread".into(),
                source: e,
            })?;
        Ok(Recorder {
            shared,
            thread: Mutex::new(Some(thread)),
            ringed: Mutex::new(Vec::new()),
            places,
        })
    }

    /// The log index of `node/iface`, made (without a ring, for frames of
    /// link type `link`) if needed.
    fn log_index(&self, node: &str, iface: &str, link: LinkType) -> usize {
        let mut logs = lock(&self.shared.logs);
        if let Some(i) = logs.iter().position(|l| l.node == node && l.iface == iface) {
            return i;
        }
        logs.push(IfaceLog {
            node: node.to_string(),
            iface: iface.to_string(),
            link,
            frames: VecDeque::new(),
            bytes: 0,
            limit: DEFAULT_LIMIT,
            evicted: 0,
            kernel_drops: 0,
            seen: 0,
        });
        logs.len() - 1
    }

    /// The log index of `node/iface`, if it has a ring.
    pub(crate) fn ringed(&self, node: &str, iface: &str) -> Option<usize> {
        let ringed = lock(&self.ringed);
        let logs = lock(&self.shared.logs);
        ringed
            .iter()
            .copied()
            .find(|&i| logs[i].node == node && logs[i].iface == iface)
    }

    /// Captures `iface` of `node` with `opened`, the ring [`open_ring`]
    /// opened on it (`None`: the interface has a ring already, as does one
    /// opened meanwhile by another thread: `opened` is dropped then).
    /// Makes its log if needed; returns the log index.
    pub(crate) fn adopt(&self, node: &str, iface: &str, opened: Option<Opened>) -> usize {
        let mut ringed = lock(&self.ringed);
        let link = opened.as_ref().map_or(LinkType::Ethernet, |o| o.link);
        let i = self.log_index(node, iface, link);
        if let Some(Opened { ring, .. }) = opened {
            if !ringed.contains(&i) {
                lock(&self.shared.incoming).push((i, ring));
                ringed.push(i);
                self.shared.waker.wake();
            }
        }
        i
    }

    /// Records a frame by hand (one dropped before the kernel saw it) on
    /// `iface` of `node`: a captured interface, `lo`,
    /// or one the topology made (refused otherwise); returns its log index
    /// and the frame's sequence number.
    pub(crate) fn record(
        &self,
        node: &str,
        iface: &str,
        direction: Direction,
        data: &[u8],
        comment: Option<String>,
    ) -> Result<Shown, CaptureError> {
        if self.ringed(node, iface).is_none() {
            let Some((_, made)) = self.places.iter().find(|(n, _)| n == node) else {
                return Err(CaptureError::UnknownNode {
                    node: node.to_string(),
                    iface: iface.to_string(),
                });
            };
            if iface != "lo" && !made.iter().any(|i| i == iface) {
                return Err(CaptureError::UnknownInterface {
                    node: node.to_string(),
                    iface: iface.to_string(),
                });
            }
        }
        let i = self.log_index(node, iface, LinkType::Ethernet);
        let ts_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut logs = lock(&self.shared.logs);
        let shown = logs[i].mark(i);
        logs[i].push(Frame {
            ts_ns,
            direction,
            len: data.len() as u32,
            data: data.to_vec(),
            comment,
        });
        Ok(shown)
    }

    /// Waits until every frame the kernel saw before the call is in the
    /// logs: the reader has drained a pass, begun after the call, that
    /// found no ring holding frames in flight (a partly filled block is
    /// handed over [`RETIRE_MS`] after its first frame). Under traffic that
    /// never stops, gives up after [`MAX_SYNC`].
    pub(crate) fn sync(&self) {
        let t0 = Instant::now();
        let mut st = lock(&self.shared.sync);
        st.waiters += 1;
        self.shared.waker.wake();
        loop {
            let done = st.ended
                || st.last_clean.is_some_and(|c| c >= t0)
                || st.last_pass.is_some_and(|p| p >= t0 + MAX_SYNC);
            if done {
                break;
            }
            // Wake the reader again: it may have gone back to sleep after a
            // pass that began before this call.
            self.shared.waker.wake();
            st = self
                .shared
                .synced
                .wait_timeout(st, Duration::from_millis(u64::from(RETIRE_MS)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        st.waiters -= 1;
    }

    /// The logs, locked.
    pub(crate) fn logs(&self) -> MutexGuard<'_, Vec<IfaceLog>> {
        lock(&self.shared.logs)
    }

    /// Decoded packets of the logs `shown`, oldest first.
    pub(crate) fn packets(&self, shown: &[Shown]) -> Vec<Packet> {
        packets_of(&self.logs(), shown)
    }

    /// Writes the logs `shown` to a pcapng file at `path`: an interface
    /// block per log, named `node/iface`, frames in time order.
    pub(crate) fn write_pcapng(&self, path: &Path, shown: &[Shown]) -> io::Result<usize> {
        let logs = self.logs();
        let names: Vec<(String, LinkType)> = shown
            .iter()
            .map(|s| (logs[s.log].place(), logs[s.log].link))
            .collect();
        let mut frames: Vec<(u32, &Frame)> = shown
            .iter()
            .enumerate()
            .flat_map(|(n, s)| logs[s.log].frames_from(s.from).map(move |f| (n as u32, f)))
            .collect();
        frames.sort_by_key(|(_, f)| f.ts_ns);
        let mut w = BufWriter::new(std::fs::File::create(path)?);
        pcapng::write_header(&mut w, &names)?;
        for (iface, f) in &frames {
            pcapng::write_frame(
                &mut w,
                &FrameOut {
                    iface: *iface,
                    ts_ns: f.ts_ns,
                    orig_len: f.len,
                    data: &f.data,
                    direction: f.direction,
                    comment: f.comment.as_deref(),
                },
            )?;
        }
        w.flush()?;
        Ok(frames.len())
    }

    /// Stops the reader thread, once every frame seen so far is read (see
    /// [`Recorder::sync`]), and joins it; the rings close with it. The logs
    /// stay.
    pub(crate) fn stop(&self) {
        if self.running() {
            self.sync();
        }
        self.shared.stop.store(true, Ordering::Release);
        self.shared.waker.wake();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
        // Rings opened after the thread's last look.
        lock(&self.shared.incoming).clear();
    }

    /// Whether the reader is still running.
    pub(crate) fn running(&self) -> bool {
        lock(&self.thread).is_some()
    }
}

impl Attachment for Recorder {
    fn tear_down(&self) {
        self.stop();
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Decoded packets of `logs` as `shown` shows them, oldest first.
pub(crate) fn packets_of(logs: &[IfaceLog], shown: &[Shown]) -> Vec<Packet> {
    let mut out: Vec<Packet> = shown
        .iter()
        .filter_map(|s| Some((logs.get(s.log)?, s.from)))
        .flat_map(|(l, from)| {
            l.frames_from(from).map(move |f| {
                Packet::new(
                    f.ts_ns,
                    &l.node,
                    &l.iface,
                    f.direction,
                    l.link,
                    f.len as usize,
                    f.data.clone(),
                    f.comment.clone(),
                )
            })
        })
        .collect();
    out.sort_by_key(Packet::timestamp_ns);
    out
}

/// The reader thread: drain every ring, tell waiting `sync` calls, sleep in
/// poll until a block is handed over, a ring is added, a `sync` asks or
/// the recorder stops.
fn read_loop(shared: &Shared) {
    let mut rings: Vec<(usize, PacketRing)> = Vec::new();
    loop {
        rings.append(&mut lock(&shared.incoming));
        let stopping = shared.stop.load(Ordering::Acquire);
        let pass = Instant::now();
        let mut clean = true;
        let waiters = lock(&shared.sync).waiters;
        {
            let mut logs = lock(&shared.logs);
            for (i, ring) in rings.iter_mut() {
                let log = &mut logs[*i];
                ring.drain(|f| {
                    log.push(Frame {
                        ts_ns: f.ts_ns,
                        direction: if f.outgoing {
                            Direction::Out
                        } else {
                            Direction::In
                        },
                        len: f.wire_len(),
                        data: f.to_wire_bytes(),
                        comment: None,
                    })
                });
                if ring.has_pending() {
                    clean = false;
                }
                if waiters > 0 || stopping {
                    log.kernel_drops = ring.drops();
                }
            }
        }
        {
            let mut st = lock(&shared.sync);
            st.last_pass = Some(pass);
            if clean {
                st.last_clean = Some(pass);
            }
            if stopping {
                st.ended = true;
            }
            shared.synced.notify_all();
        }
        if stopping {
            // Closing a ring waits for the kernel (`synchronize_net`):
            // close them all at once, so the waits overlap.
            std::thread::scope(|s| {
                for (_, ring) in rings.drain(..) {
                    // Named apart from the reader (a thread inherits its
                    // creator's name otherwise); closed inline if no
                    // thread can be had.
                    let spawned = std::thread::Builder::new()
                        .name("nt-ring-close".into())
                        .spawn_scoped(s, move || drop(ring));
                    drop(spawned);
                }
            });
            return;
        }
        let timeout = (waiters > 0).then(|| Duration::from_millis(u64::from(RETIRE_MS) / 2 + 1));
        let refs: Vec<&PacketRing> = rings.iter().map(|(_, r)| r).collect();
        if packet_ring::wait(&refs, &shared.waker, timeout).is_err() {
            // Should not happen; do not spin.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Opens a ring on interface `iface` of `node`, from inside the node;
/// changes nothing else (the recorder takes it over with
/// [`Recorder::adopt`]).
///
/// Opening a ring waits for the kernel (`synchronize_net`): rings of
/// different interfaces may be opened from several threads at once, and
/// their waits then overlap.
///
/// An interface the node does not have, or whose frames capture does not
/// record, is refused before the socket is opened.
pub(crate) fn open_ring(node: &Node, iface: &str) -> Result<Opened> {
    let err = |op: &str, e: io::Error| Error::Capture {
        place: format!("{}/{iface}", node.name()),
        op: op.to_string(),
        source: e,
    };
    node.with(|| {
        let info = packet_ring::lookup_here(iface)
            .map_err(|e| err("look up the interface", e))?
            .ok_or_else(|| CaptureError::UnknownInterface {
                node: node.name().to_string(),
                iface: iface.to_string(),
            })?;
        let link =
            LinkType::of_device(info.hatype).ok_or_else(|| CaptureError::UnsupportedLinkType {
                node: node.name().to_string(),
                iface: iface.to_string(),
                device_type: info.hatype,
            })?;
        let ring = PacketRing::open_here(info).map_err(|e| err("open a packet socket", e))?;
        Ok(Opened { link, ring })
    })?
}

/// A ring [`open_ring`] opened, with the link type of its frames.
#[derive(Debug)]
pub(crate) struct Opened {
    link: LinkType,
    ring: PacketRing,
}

/// The recorder of `node`'s network, if capture is on.
pub(crate) fn of(node: &Node) -> Option<Arc<Recorder>> {
    node.attachments().get::<Recorder>()
}

/// The recorder of `node`'s network, started if capture was off.
pub(crate) fn of_or_start(node: &Node) -> Result<Arc<Recorder>> {
    node.attachments()
        .get_or_insert(|| Recorder::start(node.directory().nodes().to_vec()))?
        .ok_or_else(|| Error::Capture {
            place: node.name().to_string(),
            op: "start a capture".into(),
            source: io::Error::other("the network was torn down"),
        })
}
