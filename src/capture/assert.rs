//! Assertions on what crossed the wire: a packet matching a filter seen N
//! times, never seen, seen before another.

// A failure carries its evidence (packet lines); it is made once, when a
// test is about to fail.
#![allow(clippy::result_large_err)]

use std::fmt;

use super::{Capture, Filter};
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

    /// Checks that exactly `n` packets captured so far match `filter`;
    /// returns them.
    pub fn check_count(&self, filter: &Filter, n: usize) -> Result<Vec<Packet>, CaptureFailure> {
        let all = self.packets();
        let matched: Vec<&Packet> = all.iter().filter(|p| filter.matches(p)).collect();
        if matched.len() == n {
            return Ok(matched.into_iter().cloned().collect());
        }
        let reason = format!(
            "expected {n} packet(s) matching `{filter}`, saw {}",
            matched.len()
        );
        Err(self.failure(&all, reason, &matched))
    }

    /// Checks that no packet captured so far matches `filter`.
    pub fn check_never(&self, filter: &Filter) -> Result<(), CaptureFailure> {
        let all = self.packets();
        let matched: Vec<&Packet> = all.iter().filter(|p| filter.matches(p)).collect();
        if matched.is_empty() {
            return Ok(());
        }
        let reason = format!(
            "expected no packet matching `{filter}`, saw {}",
            matched.len()
        );
        Err(self.failure(&all, reason, &matched))
    }

    /// Checks that each filter's first matching packet comes after the
    /// previous filter's (every filter must match); returns those packets.
    pub fn check_order(&self, filters: &[&Filter]) -> Result<Vec<Packet>, CaptureFailure> {
        let all = self.packets();
        let mut firsts: Vec<(usize, &Packet)> = Vec::new();
        for (k, filter) in filters.iter().enumerate() {
            let Some((i, p)) = all.iter().enumerate().find(|(_, p)| filter.matches(p)) else {
                let reason = format!(
                    "no packet matches `{filter}` (filter {} of {})",
                    k + 1,
                    filters.len()
                );
                let seen: Vec<&Packet> = firsts.iter().map(|(_, p)| *p).collect();
                return Err(self.failure(&all, reason, &seen));
            };
            if let Some(&(prev, _)) = firsts.last() {
                if i <= prev {
                    let reason = format!(
                        "the first packet matching `{filter}` came before the first matching `{}`",
                        filters[k - 1]
                    );
                    let seen: Vec<&Packet> = firsts.iter().map(|(_, p)| *p).chain([p]).collect();
                    return Err(self.failure(&all, reason, &seen));
                }
            }
            firsts.push((i, p));
        }
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
    /// ones captured) otherwise.
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
    /// [`CaptureFailure`] otherwise.
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
