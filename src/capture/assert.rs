//! Assertions on what crossed the wire: a packet matching a filter seen N
//! times, never seen, seen before another.

// A failure carries its evidence (packet lines); it is made once, when a
// test is about to fail.
#![allow(clippy::result_large_err)]

use std::fmt;

use super::{recorder, Capture, Filter};
use crate::packet::decode::Packet;

/// How many packets of the capture a failure lists at most.
pub const RECENT: usize = 20;

/// A capture assertion that did not hold: what was expected, the packets
/// that matched, and the last packets of the interfaces captured.
/// `Display` is the panic message of the `assert_*` methods of [`Capture`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureFailure {
    /// What was expected and what was seen, in one line.
    pub reason: String,
    /// The packets that matched the filter(s), tcpdump-style (at most
    /// [`RECENT`], the last ones).
    pub matched: Vec<String>,
    /// The interfaces of the capture, `node/iface`.
    pub interfaces: Vec<String>,
    /// The last [`RECENT`] packets of those interfaces, tcpdump-style.
    pub recent: Vec<String>,
}

impl fmt::Display for CaptureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "capture assertion failed: {}", self.reason)?;
        if !self.matched.is_empty() {
            writeln!(f, "matching packets:")?;
            for l in &self.matched {
                writeln!(f, "  {l}")?;
            }
        }
        writeln!(
            f,
            "last {} packets on {}:",
            self.recent.len(),
            self.interfaces.join(", ")
        )?;
        for l in &self.recent {
            writeln!(f, "  {l}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CaptureFailure {}

fn tail(packets: &[Packet]) -> Vec<String> {
    let from = packets.len().saturating_sub(RECENT);
    packets[from..].iter().map(ToString::to_string).collect()
}

/// One interface of a capture, as an assertion judges it: where it is,
/// and what the handle lost of it.
struct Covered {
    node: String,
    iface: String,
    /// Frames forgotten for the size limit since the handle began (or its
    /// last `clear`).
    evicted: u64,
    /// Frames the kernel dropped meanwhile.
    dropped: u64,
}

impl Covered {
    fn place(&self) -> String {
        format!("{}/{}", self.node, self.iface)
    }
}

/// What an assertion reads of a capture, at one moment: the packets and
/// the interfaces.
struct Evidence {
    all: Vec<Packet>,
    covered: Vec<Covered>,
}

impl Evidence {
    /// The interfaces a packet matching `filter` can come from.
    fn covered_by<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a Covered> {
        let (node, iface) = filter.place();
        self.covered
            .iter()
            .filter(move |c| node.is_none_or(|n| n == c.node) && iface.is_none_or(|i| i == c.iface))
    }

    /// What was lost on the interfaces `filters` can match, in words; `None`
    /// if nothing was.
    fn losses(&self, filters: &[&Filter]) -> Option<String> {
        self.lost_on(filters).map(|words| {
            format!(
                "frames were lost since the capture began (or since its last clear()), {words}; \
                 raise the limit (set_limit) or clear() just before the part to check"
            )
        })
    }

    /// Per interface `filters` can match, what was lost there; `None` if
    /// nothing was.
    fn lost_on(&self, filters: &[&Filter]) -> Option<String> {
        let mut lost: Vec<&Covered> = Vec::new();
        for f in filters {
            for c in self.covered_by(f) {
                if c.evicted + c.dropped > 0 && !lost.iter().any(|l| l.place() == c.place()) {
                    lost.push(c);
                }
            }
        }
        let words: Vec<String> = lost
            .iter()
            .map(|c| {
                let mut parts = Vec::new();
                if c.evicted > 0 {
                    parts.push(format!("{} forgotten for the size limit", c.evicted));
                }
                if c.dropped > 0 {
                    parts.push(format!("{} dropped by the kernel", c.dropped));
                }
                format!("{}: {}", c.place(), parts.join(", "))
            })
            .collect();
        (!words.is_empty()).then(|| words.join("; "))
    }
}

impl Capture {
    fn failure(&self, all: &[Packet], reason: String, matched: &[&Packet]) -> CaptureFailure {
        let from = matched.len().saturating_sub(RECENT);
        CaptureFailure {
            reason,
            matched: matched[from..].iter().map(ToString::to_string).collect(),
            interfaces: self.interfaces(),
            recent: tail(all),
        }
    }

    /// Whether a packet matching `filter` can come from an interface of
    /// this capture (the filter names no place, or one it covers).
    pub(crate) fn covers(&self, filter: &Filter) -> bool {
        self.evidence().covered_by(filter).next().is_some()
    }

    /// The interfaces of this capture, each with what was lost there since
    /// the handle began (or its last `clear`), for the interfaces `filters`
    /// can match; `None` if nothing was lost there.
    pub(crate) fn lost_on(&self, filters: &[&Filter]) -> Option<String> {
        self.evidence().lost_on(filters)
    }

    /// The packets of this handle and what it lost of each interface, read
    /// at once, once every frame seen so far is read.
    fn evidence(&self) -> Evidence {
        self.rec.sync();
        let shown = self.shown();
        let logs = self.rec.logs();
        let all = recorder::packets_of(&logs, &shown);
        let covered = shown
            .iter()
            .map(|s| {
                let log = &logs[s.log];
                let (evicted, dropped) = log.lost(s);
                Covered {
                    node: log.node.clone(),
                    iface: log.iface.clone(),
                    evicted,
                    dropped,
                }
            })
            .collect();
        Evidence { all, covered }
    }

    /// Reads the evidence for `filters`; a failure if one of them names a
    /// node or an interface this capture does not cover (a typo, or a place
    /// captured by another handle), where it could never match.
    fn evidence_for(&self, filters: &[&Filter]) -> Result<Evidence, CaptureFailure> {
        let ev = self.evidence();
        for f in filters {
            if ev.covered_by(f).next().is_none() {
                let place = match f.place() {
                    (Some(n), Some(i)) => format!("{n}/{i}"),
                    (Some(n), None) => format!("node {n}"),
                    _ => "no place".into(),
                };
                let captured: Vec<String> = ev.covered.iter().map(Covered::place).collect();
                let reason = format!(
                    "`{f}` names {place}, which this capture does not cover (it captures {})",
                    captured.join(", ")
                );
                return Err(self.failure(&ev.all, reason, &[]));
            }
        }
        Ok(ev)
    }

    /// A failure for `reason`, with what was lost on the interfaces
    /// `filters` can match, if anything was.
    fn failure_with_losses(
        &self,
        ev: &Evidence,
        filters: &[&Filter],
        reason: String,
        matched: &[&Packet],
    ) -> CaptureFailure {
        let reason = match ev.losses(filters) {
            Some(lost) => format!("{reason} ({lost})"),
            None => reason,
        };
        self.failure(&ev.all, reason, matched)
    }

    /// A failure if frames `filters` can match were lost: a count, an
    /// absence or an order cannot be told then.
    fn complete(&self, ev: &Evidence, filters: &[&Filter]) -> Result<(), CaptureFailure> {
        match ev.losses(filters) {
            None => Ok(()),
            Some(lost) => {
                let what: Vec<String> = filters.iter().map(|f| format!("`{f}`")).collect();
                let reason = format!("cannot judge {}: {lost}", what.join(", "));
                Err(self.failure(&ev.all, reason, &[]))
            }
        }
    }

    /// Checks that exactly `n` packets captured so far match `filter`;
    /// returns them.
    ///
    /// Fails, whatever the count, when `filter` names a node or an
    /// interface this capture does not cover, or when frames it could
    /// match were lost (forgotten for the size limit or dropped by the
    /// kernel) since the capture began or its last [`clear`](Capture::clear):
    /// the count cannot be told then. The same holds for
    /// [`check_never`](Capture::check_never) and
    /// [`check_order`](Capture::check_order).
    pub fn check_count(&self, filter: &Filter, n: usize) -> Result<Vec<Packet>, CaptureFailure> {
        let ev = self.evidence_for(&[filter])?;
        let matched: Vec<&Packet> = ev.all.iter().filter(|p| filter.matches(p)).collect();
        if matched.len() != n {
            let reason = format!(
                "expected {n} packet(s) matching `{filter}`, saw {}",
                matched.len()
            );
            return Err(self.failure_with_losses(&ev, &[filter], reason, &matched));
        }
        self.complete(&ev, &[filter])?;
        Ok(matched.into_iter().cloned().collect())
    }

    /// Checks that no packet captured so far matches `filter` (and that
    /// none could have been lost: see [`check_count`](Capture::check_count)).
    pub fn check_never(&self, filter: &Filter) -> Result<(), CaptureFailure> {
        let ev = self.evidence_for(&[filter])?;
        let matched: Vec<&Packet> = ev.all.iter().filter(|p| filter.matches(p)).collect();
        if !matched.is_empty() {
            let reason = format!(
                "expected no packet matching `{filter}`, saw {}",
                matched.len()
            );
            return Err(self.failure(&ev.all, reason, &matched));
        }
        self.complete(&ev, &[filter])
    }

    /// Checks that each filter's first matching packet comes after the
    /// previous filter's (every filter must match); returns those packets.
    /// A first match may have been lost: see
    /// [`check_count`](Capture::check_count).
    pub fn check_order(&self, filters: &[&Filter]) -> Result<Vec<Packet>, CaptureFailure> {
        let ev = self.evidence_for(filters)?;
        let all = &ev.all;
        let mut firsts: Vec<(usize, &Packet)> = Vec::new();
        for (k, filter) in filters.iter().enumerate() {
            let Some((i, p)) = all.iter().enumerate().find(|(_, p)| filter.matches(p)) else {
                let reason = format!(
                    "no packet matches `{filter}` (filter {} of {})",
                    k + 1,
                    filters.len()
                );
                let seen: Vec<&Packet> = firsts.iter().map(|(_, p)| *p).collect();
                return Err(self.failure_with_losses(&ev, filters, reason, &seen));
            };
            if let Some(&(prev, _)) = firsts.last() {
                if i <= prev {
                    let reason = format!(
                        "the first packet matching `{filter}` came before the first matching `{}`",
                        filters[k - 1]
                    );
                    let seen: Vec<&Packet> = firsts.iter().map(|(_, p)| *p).chain([p]).collect();
                    return Err(self.failure_with_losses(&ev, filters, reason, &seen));
                }
            }
            firsts.push((i, p));
        }
        self.complete(&ev, filters)?;
        Ok(firsts.into_iter().map(|(_, p)| p.clone()).collect())
    }

    /// [`check_order`](Capture::check_order) of two filters: a packet
    /// matching `first` was seen, and before any matching `then`.
    pub fn check_before(
        &self,
        first: &Filter,
        then: &Filter,
    ) -> Result<(Packet, Packet), CaptureFailure> {
        let mut v = self.check_order(&[first, then])?;
        let b = v.pop().expect("two packets");
        let a = v.pop().expect("two packets");
        Ok((a, b))
    }

    /// Asserts that exactly `n` packets match `filter`; returns them. Panics
    /// with a [`CaptureFailure`] (the packets that matched, then the last
    /// ones captured) otherwise, or when the count cannot be told (see
    /// [`check_count`](Capture::check_count)).
    ///
    /// ```
    /// use netns_test::capture::Filter;
    /// # let net = netns_test::Net::build(&netns_test::Topology::new().link(
    /// #     ("h1", "eth0", "198.51.100.1/24"), ("h2", "eth0", "198.51.100.2/24")))?;
    /// let cap = net.capture()?;
    /// net["h1"].ping("198.51.100.2").count(1).run()?;
    /// cap.assert_count(&Filter::echo_request().on("h2", "eth0"), 1);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    #[track_caller]
    pub fn assert_count(&self, filter: &Filter, n: usize) -> Vec<Packet> {
        self.check_count(filter, n)
            .unwrap_or_else(|f| panic!("{f}"))
    }

    /// Asserts that no packet matches `filter`; panics with a
    /// [`CaptureFailure`] otherwise, or when `filter` names a place this
    /// capture does not cover, or frames it could match were lost (see
    /// [`check_count`](Capture::check_count)).
    #[track_caller]
    pub fn assert_never(&self, filter: &Filter) {
        self.check_never(filter).unwrap_or_else(|f| panic!("{f}"))
    }

    /// Asserts that packets matching each filter were seen, in this order
    /// (by each filter's first match); panics with a [`CaptureFailure`]
    /// otherwise.
    #[track_caller]
    pub fn assert_order(&self, filters: &[&Filter]) -> Vec<Packet> {
        self.check_order(filters).unwrap_or_else(|f| panic!("{f}"))
    }

    /// Asserts that a packet matching `first` was seen before any matching
    /// `then` (and that both were seen).
    #[track_caller]
    pub fn assert_before(&self, first: &Filter, then: &Filter) -> (Packet, Packet) {
        self.check_before(first, then)
            .unwrap_or_else(|f| panic!("{f}"))
    }
}
