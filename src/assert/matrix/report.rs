//! The matrix a check returns, its table, and the failure that prints it.

use super::{Cell, CellState};
use crate::inspect::NodeReport;
use crate::vocab::Family;
use std::fmt;

/// The outcome of a connectivity check: one cell per probed pair.
///
/// `Display` prints one table per family (rows: sources, columns:
/// destinations; `ok` answered, `x` failed, `skip` a declared exception,
/// `?` not probed because every address of the family the destination
/// holds is another node's too, `--` not probed: the node itself, or no
/// address of the family), then the
/// failed pairs with what their ping saw, the notes (exceptions that were
/// not needed), and Mininet's summary line:
///
/// ```text
/// *** Ping: testing reachability (IPv4)
///       h1    h2    h3
/// h1    --    ok    skip
/// h2    ok    --    x
/// h3    skip  ok    --
/// failed:
///   h2 -> h3 (203.0.113.3): 0 of 2 echo requests answered, no ICMP error came back
/// *** Results: 25% dropped (3/4 received)
/// ```
///
/// The summary counts pairs, skips excluded: a pair is received when at
/// least one of its echo requests was answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Matrix {
    /// The nodes of the matrix (with at least one address), in order.
    pub nodes: Vec<String>,
    /// The families probed.
    pub families: Vec<Family>,
    /// The probed pairs, by family, then source, then destination.
    pub cells: Vec<Cell>,
    /// Problems with the check itself (an unknown node name, no pair to
    /// probe).
    pub errors: Vec<String>,
}

impl Matrix {
    /// The cell of a pair, if probed.
    ///
    /// ```
    /// # use netns_test::{Net, Topology, Family, assert::CellState};
    /// # let net = Net::build(&Topology::new().link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24")))?;
    /// let m = net.connectivity().run();
    /// assert_eq!(m.cell("h1", "h2", Family::V4).unwrap().state, CellState::Ok);
    /// assert!(m.cell("h1", "h2", Family::V6).is_none());
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn cell(&self, from: &str, to: &str, family: Family) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.from == from && c.to == to && c.family == family)
    }

    /// The nodes that take part in a probed pair (as source or
    /// destination), in matrix order: [`nodes`](Self::nodes) less those
    /// left out for lack of a partner of the same family.
    ///
    /// ```
    /// # use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new()
    ///     .link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24"))
    ///     .link(("h3", "e0", "2001:db8::3/64"), ("h1", "e1")))?;
    /// let m = net.connectivity().check().unwrap();
    /// assert_eq!((m.nodes.len(), m.probed_nodes()), (3, vec!["h1", "h2"]));
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn probed_nodes(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .map(String::as_str)
            .filter(|n| self.cells.iter().any(|c| c.from == *n || c.to == *n))
            .collect()
    }

    /// The failed cells (not exceptions): no reply, or not probed
    /// ([`CellState::Unknown`]).
    pub fn failures(&self) -> impl Iterator<Item = &Cell> {
        self.cells
            .iter()
            .filter(|c| matches!(c.state, CellState::Failed | CellState::Unknown))
    }

    /// One line per exception that got a reply anyway.
    pub fn notes(&self) -> Vec<String> {
        self.cells
            .iter()
            .filter(|c| c.state == CellState::Skipped { answered: true })
            .map(|c| {
                format!(
                    "{} -> {} ({}) answered, but is declared an exception",
                    c.from, c.to, c.dst
                )
            })
            .collect()
    }

    /// Pairs probed, exceptions excluded ([`CellState::Unknown`] ones
    /// count too, as not received).
    pub fn sent(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| !matches!(c.state, CellState::Skipped { .. }))
            .count()
    }

    /// Pairs that got a reply, exceptions excluded.
    pub fn received(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.state == CellState::Ok)
            .count()
    }

    /// Mininet's `dropped` percentage (rounded down), 0 with nothing sent.
    pub fn dropped_percent(&self) -> usize {
        let sent = self.sent();
        (100 * (sent - self.received()))
            .checked_div(sent)
            .unwrap_or(0)
    }

    /// Whether every pair that is not an exception answered and the check
    /// itself had no problem.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && self.failures().next().is_none()
    }
}

impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .nodes
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0)
            .max(4)
            + 2;
        for &fam in &self.families {
            writeln!(f, "*** Ping: testing reachability ({fam})")?;
            let members: Vec<&String> = self
                .nodes
                .iter()
                .filter(|n| {
                    self.cells
                        .iter()
                        .any(|c| c.family == fam && (c.from == **n || c.to == **n))
                })
                .collect();
            let mut header = " ".repeat(width);
            for n in &members {
                header.push_str(&format!("{n:width$}"));
            }
            writeln!(f, "{}", header.trim_end())?;
            for from in &members {
                let mut row = format!("{from:width$}");
                for to in &members {
                    let text = match self.cell(from, to, fam).map(|c| c.state) {
                        None => "--",
                        Some(CellState::Ok) => "ok",
                        Some(CellState::Failed) => "x",
                        Some(CellState::Unknown) => "?",
                        Some(CellState::Skipped { .. }) => "skip",
                    };
                    row.push_str(&format!("{text:width$}"));
                }
                writeln!(f, "{}", row.trim_end())?;
            }
        }
        if self.failures().next().is_some() {
            writeln!(f, "failed:")?;
            for c in self.failures() {
                writeln!(f, "  {} -> {} ({}): {}", c.from, c.to, c.dst, c.summary())?;
            }
        }
        let notes = self.notes();
        if !notes.is_empty() {
            writeln!(f, "notes:")?;
            for n in notes {
                writeln!(f, "  {n}")?;
            }
        }
        if !self.errors.is_empty() {
            writeln!(f, "errors:")?;
            for e in &self.errors {
                writeln!(f, "  {e}")?;
            }
        }
        write!(
            f,
            "*** Results: {}% dropped ({}/{} received)",
            self.dropped_percent(),
            self.received(),
            self.sent()
        )
    }
}

/// A connectivity check that failed: the matrix and the report of every
/// node of a failed pair. `Display` is the matrix, each failed pair's ping
/// report, then the node reports.
///
/// ```
/// use netns_test::{Net, Topology};
/// let net = Net::build(&Topology::new()
///     .link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24"))
///     .link(("h2", "e1", "203.0.113.2/24"), ("h3", "e0", "203.0.113.3/24")))?;
/// let failure = net.connectivity().check().unwrap_err();
/// let text = failure.to_string();
/// assert!(text.contains("h1 -> h3 (203.0.113.3): 0 of 2 echo requests answered"));
/// assert!(text.contains("node h3:\n  $ ip address show"));
/// # Ok::<(), netns_test::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MatrixFailure {
    /// The matrix.
    pub matrix: Matrix,
    /// The report of each node of a failed pair (or why it could not be had).
    pub reports: Vec<Result<NodeReport, String>>,
}

impl fmt::Display for MatrixFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.matrix)?;
        for c in self.matrix.failures() {
            writeln!(f, "ping from {} to {} ({}):", c.from, c.to, c.dst)?;
            match &c.report {
                Ok(r) => {
                    for line in format!("{r}").lines() {
                        if line.is_empty() {
                            writeln!(f)?;
                        } else {
                            writeln!(f, "  {line}")?;
                        }
                    }
                }
                Err(_) => writeln!(f, "  {}", c.summary())?,
            }
        }
        for r in &self.reports {
            match r {
                Ok(report) => write!(f, "{report}")?,
                Err(e) => writeln!(f, "{e}")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for MatrixFailure {}
