//! Packet capture in process: what crossed the wire, as packets to assert
//! on, tcpdump-style lines in failures, and pcapng files for Wireshark.
//!
//! Each captured interface gets a packet socket opened inside its node
//! (so it works rootless) with a TPACKET_V3 ring. Its frames are recorded
//! as [`LinkType::Ethernet`] (veth, bridge, VLAN, tap, loopback) or
//! [`LinkType::RawIp`] (tun); another device type is refused
//! ([`CaptureError::UnsupportedLinkType`]). One reader thread per
//! network drains the rings and keeps the newest frames of each interface,
//! up to [`DEFAULT_LIMIT`] bytes each (older ones are forgotten, and
//! counted in [`Capture::stats`]; an assertion whose answer they could
//! change fails and says so). Capture lasts until the network is torn
//! down, whatever happens to the [`Capture`] handles: teardown stops the
//! thread and closes the sockets.
//!
//! Turn it on:
//! - for a test: `#[netns_test(topology = f, capture)]`, or
//!   `NETNS_TEST_CAPTURE=1` for every test (`keep`: keep files of passing
//!   tests too); the file of a failed test is written to
//!   `target/netns-test/<binary>/<test>/capture.pcapng` and its path
//!   printed;
//! - on a live network: [`Net::capture`] (every interface),
//!   [`Node::capture`] (the node's), [`Node::capture_iface`] (one).
//!
//! ```
//! use netns_test::capture::{Filter, TcpFlags};
//! use netns_test::{Net, Topology};
//!
//! let net = Net::build(&Topology::new().link(
//!     ("h1", "eth0", "198.51.100.1/24"),
//!     ("h2", "eth0", "198.51.100.2/24"),
//! ))?;
//! let cap = net.capture()?;
//! net["h1"].ping("198.51.100.2").count(1).run()?;
//! for p in cap.packets() {
//!     println!("{p}"); // 12:00:00.000123 h1/eth0 Out IP 198.51.100.1 > ...
//! }
//! cap.assert_count(&Filter::echo_request().on("h2", "eth0").incoming(), 1);
//! cap.assert_never(&Filter::tcp().has_flags(TcpFlags::RST));
//! let file = std::env::temp_dir().join("netns-test-doc-ping.pcapng");
//! cap.save(&file)?; // open it in Wireshark
//! # std::fs::remove_file(&file).unwrap();
//! # Ok::<(), netns_test::Error>(())
//! ```
//!
//! Once capture is on, a failed `assert_reachable!` (and the other
//! assertion macros) lists the last packets of the nodes involved.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

mod assert;
mod error;
mod filter;
pub(crate) mod recorder;
#[cfg(test)]
mod vlan_tests;

pub use self::assert::{CaptureFailure, RECENT};
pub use crate::packet::decode::{
    Arp, Decoded, Direction, Icmp, IpHeader, LinkType, Packet, Tcp, TcpFlags, Transport, Udp,
};
pub use error::CaptureError;
pub use filter::{Filter, Protocol};
pub use recorder::DEFAULT_LIMIT;

use crate::error::{Error, Result};
use crate::lab::{Net, Node};
use recorder::{Recorder, Shown};

/// A handle on the capture of some interfaces of a network: their packets,
/// assertions on them, a pcapng file of them. Cheap to clone (a clone is
/// the same handle: a frame [`record`](Capture::record)ed through one
/// shows in both); the capture goes on until the network is torn down,
/// whether handles live or not.
#[derive(Debug, Clone)]
pub struct Capture {
    rec: Arc<Recorder>,
    /// The interfaces this handle shows, and from which frame on.
    shown: Arc<Mutex<Vec<Shown>>>,
}

/// What a capture kept of one interface, as [`Capture::stats`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceStats {
    /// `node/iface`.
    pub interface: String,
    /// Frames seen since capture began (`clear` does not reset it).
    pub seen: u64,
    /// Frames kept now that this handle shows (those since its last
    /// [`clear`](Capture::clear)).
    pub kept: usize,
    /// Frames forgotten to stay under the size limit.
    pub evicted: u64,
    /// Frames the kernel dropped because the ring was full (0 unless the
    /// reader fell behind).
    pub kernel_drops: u64,
}

impl Net {
    /// Captures every interface of every node (those the topology made; a
    /// node with none: its `lo`), until teardown. Interfaces already
    /// captured are not opened twice.
    ///
    /// ```
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().link(("h1", "eth0", "198.51.100.1/24"), ("h2", "eth0", "198.51.100.2/24")))?;
    /// let cap = net.capture()?;
    /// assert_eq!(cap.interfaces(), ["h1/eth0", "h2/eth0"]);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn capture(&self) -> Result<Capture> {
        let Some(first) = self.nodes().first() else {
            return Err(Error::UnknownNode("(the network has no node)".into()));
        };
        let wanted: Vec<(&Node, String)> = self
            .nodes()
            .iter()
            .flat_map(|node| node_ifaces(node).into_iter().map(move |i| (node, i)))
            .collect();
        capture_places(first, wanted)
    }

    /// The capture of every interface captured so far, if any is.
    pub fn captured(&self) -> Option<Capture> {
        self.nodes().first().and_then(captured_in)
    }
}

impl Node {
    /// Captures every interface of this node (those the topology made; if
    /// none, `lo`), until teardown.
    pub fn capture(&self) -> Result<Capture> {
        let wanted = node_ifaces(self).into_iter().map(|i| (self, i)).collect();
        capture_places(self, wanted)
    }

    /// Captures interface `iface` of this node (any interface, `lo` too),
    /// until teardown. An interface the node does not have is
    /// [`CaptureError::UnknownInterface`], found before anything is opened
    /// or started: a refused capture leaves no trace in
    /// [`Net::captured`].
    ///
    /// ```
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().node("n1"))?;
    /// let lo = net["n1"].capture_iface("lo")?;
    /// assert!(net["n1"].capture_iface("eth9").is_err()); // no such interface
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn capture_iface(&self, iface: &str) -> Result<Capture> {
        capture_places(self, vec![(self, iface.to_string())])
    }
}

/// The interfaces the topology made in `node`; `lo` if none.
fn node_ifaces(node: &Node) -> Vec<String> {
    let mut names = node.iface_names();
    if names.is_empty() {
        names.push("lo".into());
    }
    names
}

/// Captures `wanted`, interfaces of `first`'s network: opens a ring on
/// each that has none yet (all at once: each opening waits for the
/// kernel), and only once every one is open starts the recorder if
/// needed and hands them over, in order. On an error nothing is left: no
/// ring, no log, no recorder.
fn capture_places(first: &Node, wanted: Vec<(&Node, String)>) -> Result<Capture> {
    let running = recorder::of(first);
    let open = |node: &Node, iface: &str| -> Result<Option<recorder::Opened>> {
        if running
            .as_ref()
            .is_some_and(|r| r.ringed(node.name(), iface).is_some())
        {
            return Ok(None);
        }
        recorder::open_ring(node, iface).map(Some)
    };
    let rings: Vec<Option<recorder::Opened>> = match wanted.as_slice() {
        [(node, iface)] => vec![open(node, iface)?],
        _ => std::thread::scope(|s| {
            let handles: Vec<_> = wanted
                .iter()
                .map(|(node, iface)| {
                    let open = &open;
                    s.spawn(move || open(node, iface))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Result<Vec<_>>>()
        })?,
    };
    let rec = recorder::of_or_start(first)?;
    let ids: Vec<usize> = wanted
        .iter()
        .zip(rings)
        .map(|((node, iface), ring)| rec.adopt(node.name(), iface, ring))
        .collect();
    Ok(Capture::new(rec, ids))
}

/// Every interface captured in `node`'s network, if capture is on.
fn captured_in(node: &Node) -> Option<Capture> {
    let rec = recorder::of(node)?;
    let n = rec.logs().len();
    Some(Capture::new(rec, 0..n))
}

impl Capture {
    /// A handle on the logs `ids`, showing every frame they keep.
    fn new(rec: Arc<Recorder>, ids: impl IntoIterator<Item = usize>) -> Capture {
        let shown = ids
            .into_iter()
            .map(|log| Shown {
                log,
                from: 0,
                drops_at: 0,
            })
            .collect();
        Capture {
            rec,
            shown: Arc::new(Mutex::new(shown)),
        }
    }

    /// This handle's interfaces, locked.
    fn shown_mut(&self) -> std::sync::MutexGuard<'_, Vec<Shown>> {
        self.shown.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This handle's interfaces.
    fn shown(&self) -> Vec<Shown> {
        self.shown_mut().clone()
    }

    /// The captured interfaces, `node/iface`.
    pub fn interfaces(&self) -> Vec<String> {
        let shown = self.shown();
        let logs = self.rec.logs();
        shown.iter().map(|s| logs[s.log].place()).collect()
    }

    /// Every packet kept so far, oldest first, decoded. Waits first until
    /// every frame the kernel saw before the call is read (a few
    /// milliseconds).
    pub fn packets(&self) -> Vec<Packet> {
        self.rec.sync();
        self.rec.packets(&self.shown())
    }

    /// The packets that match `filter`, oldest first.
    pub fn matching(&self, filter: &Filter) -> Vec<Packet> {
        self.packets()
            .into_iter()
            .filter(|p| filter.matches(p))
            .collect()
    }

    /// How many packets match `filter`.
    pub fn count(&self, filter: &Filter) -> usize {
        self.matching(filter).len()
    }

    /// The last `n` packets, oldest first.
    pub fn last(&self, n: usize) -> Vec<Packet> {
        let mut all = self.packets();
        all.drain(..all.len().saturating_sub(n));
        all
    }

    /// From now on, shows only the packets captured after this call (what
    /// came before the part of the test to check, ARP say, is left out).
    /// Only this handle (and its clones) changes: other handles, and the
    /// file the harness keeps for a failed test, still have every packet.
    pub fn clear(&self) {
        self.rec.sync();
        let mut shown = self.shown_mut();
        let logs = self.rec.logs();
        for s in shown.iter_mut() {
            *s = logs[s.log].mark(s.log);
        }
    }

    /// Keeps at most `bytes` of frames per interface of this capture (the
    /// newest); the default is [`DEFAULT_LIMIT`].
    ///
    /// The limit belongs to the interface, not to this handle: every
    /// handle that covers the interface, `net.captured()` and the file the
    /// harness keeps for a failed test lose what it forgets, and their
    /// negative assertions then fail saying frames were forgotten.
    pub fn set_limit(&self, bytes: usize) {
        let shown = self.shown();
        let mut logs = self.rec.logs();
        for s in &shown {
            logs[s.log].limit = bytes;
        }
    }

    /// What was seen, kept, forgotten and dropped, per interface.
    pub fn stats(&self) -> Vec<IfaceStats> {
        self.rec.sync();
        let shown = self.shown();
        let logs = self.rec.logs();
        shown
            .iter()
            .map(|s| {
                let log = &logs[s.log];
                IfaceStats {
                    interface: log.place(),
                    seen: log.seen,
                    kept: log.frames_from(s.from).count(),
                    evicted: log.evicted,
                    kernel_drops: log.kernel_drops,
                }
            })
            .collect()
    }

    /// Writes the packets kept so far to a pcapng file at `path`, one
    /// interface block per `node/iface`; returns how many were written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<usize> {
        self.rec.sync();
        let path = path.as_ref();
        self.rec
            .write_pcapng(path, &self.shown())
            .map_err(|e| Error::Capture {
                place: self.interfaces().join(", "),
                op: format!("write {}", path.display()),
                source: e,
            })
    }

    /// Records a frame that did not reach the kernel, with a comment, so
    /// that it shows in the packets, the failure lines and the file (as a
    /// packet comment): for a frame the caller knows was dropped before the
    /// kernel saw it. The crate's wire does not call it: the frames a wire
    /// drops do not appear in captures (its `wire_stats()` counts them).
    /// `frame` begins as the interface's frames do: with its Ethernet
    /// header, or its IP header on a raw-IP interface (tun).
    ///
    /// The interface need not be captured by this handle, nor at all: it
    /// must be `lo`, one the topology made in `node`, or one captured. It
    /// joins this handle's interfaces then (from this frame on, if it was
    /// not among them). A node the network does not have is
    /// [`CaptureError::UnknownNode`], another interface
    /// [`CaptureError::UnknownInterface`]; nothing is recorded then.
    ///
    /// ```
    /// # use netns_test::{Net, Topology};
    /// # use netns_test::capture::{Direction, Filter};
    /// # let net = Net::build(&Topology::new().node("n1"))?;
    /// let cap = net["n1"].capture()?;
    /// let frame = [0u8; 60];
    /// cap.record("n1", "lo", Direction::Out, &frame, "dropped by the wire: loss 100%")?;
    /// assert_eq!(cap.packets().last().unwrap().comment.as_deref(),
    ///            Some("dropped by the wire: loss 100%"));
    /// assert!(cap.record("n9", "lo", Direction::Out, &frame, "typo").is_err());
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn record(
        &self,
        node: &str,
        iface: &str,
        direction: Direction,
        frame: &[u8],
        comment: &str,
    ) -> Result<()> {
        let mut shown = self.shown_mut();
        let recorded = self
            .rec
            .record(node, iface, direction, frame, Some(comment.to_string()))?;
        if !shown.iter().any(|s| s.log == recorded.log) {
            shown.push(recorded);
        }
        Ok(())
    }

    /// Whether the capture still runs (it stops at teardown).
    pub fn is_running(&self) -> bool {
        self.rec.running()
    }
}

/// The last `n` packets of the captured interfaces of `nodes`, as lines
/// (empty if capture is off), and the interfaces they come from.
pub(crate) fn recent_lines(node: &Node, nodes: &[String], n: usize) -> (Vec<String>, Vec<String>) {
    let Some(cap) = captured_in(node) else {
        return (Vec::new(), Vec::new());
    };
    let ids: Vec<usize> = {
        let logs = cap.rec.logs();
        cap.shown()
            .into_iter()
            .map(|s| s.log)
            .filter(|&i| nodes.contains(&logs[i].node))
            .collect()
    };
    let cap = Capture::new(cap.rec, ids);
    let lines = cap.last(n).iter().map(ToString::to_string).collect();
    (cap.interfaces(), lines)
}

/// Writes every capture of `net` to `path`; how many packets, or `None`
/// when capture is off.
pub(crate) fn save_all(net: &Net, path: &Path) -> Option<io::Result<usize>> {
    let cap = net.captured()?;
    cap.rec.sync();
    Some(cap.rec.write_pcapng(path, &cap.shown()))
}

/// Reads a pcapng file into packets: an interface named `node/iface` (as
/// captures write them) gives the packet's node and interface; another
/// name is taken as the interface, with an empty node. Each frame is
/// decoded as its interface's link type says; a frame on an interface of
/// a link type other than Ethernet or raw IP is an `InvalidData` error.
///
/// ```
/// # use netns_test::{Net, Topology};
/// # let net = Net::build(&Topology::new().link(("h1", "eth0", "198.51.100.1/24"), ("h2", "eth0", "198.51.100.2/24")))?;
/// # let cap = net.capture()?;
/// # net["h1"].ping("198.51.100.2").count(1).run()?;
/// # let file = std::env::temp_dir().join("netns-test-doc-read.pcapng");
/// # cap.save(&file)?;
/// // target/netns-test/<binary>/<test>/capture.pcapng, say:
/// let packets = netns_test::capture::read_pcapng(&file).expect("a pcapng file");
/// for p in &packets {
///     println!("{p}"); // 12:00:00.000123 h1/eth0 Out IP 198.51.100.1 > 198.51.100.2: ICMP echo request, ...
/// }
/// assert!(packets.iter().any(|p| p.node == "h2" && p.icmp().is_some_and(|i| i.is_echo_reply())));
/// # std::fs::remove_file(&file).unwrap();
/// # Ok::<(), netns_test::Error>(())
/// ```
pub fn read_pcapng(path: impl AsRef<Path>) -> io::Result<Vec<Packet>> {
    let bytes = std::fs::read(path)?;
    let file = crate::packet::pcapng::read(&bytes)?;
    file.frames
        .into_iter()
        .map(|f| {
            let name = &file.interfaces[f.iface];
            let code = file.links[f.iface];
            let link = LinkType::from_pcap_code(code).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "interface `{name}` has link type {code}, which is not decoded here \
                         (Ethernet, 1, and raw IP, 101, 228 and 229, are)"
                    ),
                )
            })?;
            let (node, iface) = name.split_once('/').unwrap_or(("", name));
            Ok(Packet::new(
                f.ts_ns,
                node,
                iface,
                f.direction.unwrap_or(Direction::In),
                link,
                f.orig_len as usize,
                f.data,
                f.comment,
            ))
        })
        .collect()
}
