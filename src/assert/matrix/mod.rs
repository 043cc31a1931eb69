//! The connectivity matrix: every node pings every other node (Mininet's
//! `pingall`), with declared exceptions.

mod report;

pub use report::{Matrix, MatrixFailure};

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::probe::{PingOptions, PingReport};
use crate::vocab::Family;
use crate::Net;

/// What one pair of the matrix saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CellState {
    /// At least one echo reply came back (`ok`).
    Ok,
    /// No reply, or the ping could not run (`x`).
    Failed,
    /// A declared exception (`skip`); `answered` if it got a reply anyway,
    /// which the matrix reports as a note (the exception is not needed).
    Skipped {
        /// Whether a reply came back.
        answered: bool,
    },
    /// Not probed (`?`): every address of the family that the destination
    /// holds is held by another node too (legal on separate segments), so
    /// a reply would not tell which node answered. A failure of the check.
    Unknown,
}

/// One probed pair: `from` pinged `to`'s address `dst`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Cell {
    /// The source node.
    pub from: String,
    /// The destination node.
    pub to: String,
    /// The family of `dst`.
    pub family: Family,
    /// The address pinged: `to`'s first address of the family that no
    /// other node holds (for an [`Unknown`](CellState::Unknown) cell, its
    /// first address of the family, not pinged).
    pub dst: IpAddr,
    /// The outcome.
    pub state: CellState,
    /// The ping's report, or why it could not run (or, for an
    /// [`Unknown`](CellState::Unknown) cell, why it was not sent).
    pub report: Result<PingReport, String>,
}

impl Cell {
    /// One line on the outcome: `0 of 2 echo requests answered; ...`.
    pub fn summary(&self) -> String {
        match &self.report {
            Ok(r) => super::reach::ping_summary(r),
            Err(e) if self.state == CellState::Unknown => e.clone(),
            Err(e) => format!("the ping could not run: {e}"),
        }
    }
}

/// The address of `to` a pair of family `fam` pings: its first address of
/// the family that no other node holds; else its first address of the
/// family and why it is not pinged. `None` if it has none of the family.
fn target(net: &Net, to: &str, fam: Family) -> Option<Result<IpAddr, (IpAddr, String)>> {
    let dir = net[to].directory();
    Some(dir.own_addr(to, fam)?.map_err(|mine| {
        let why = format!(
            "not probed: every {fam} address of {to} is held by another node too ({})",
            dir.held_by_others(to, &mine)
        );
        (mine[0], why)
    }))
}

/// A connectivity check over the nodes of a network, made by
/// [`Net::connectivity`]; configure it, then [`check`](Self::check) or
/// [`run`](Self::run).
///
/// What it probes:
/// - the nodes with at least one address (a bridge's switch node has none
///   and is left out), or those given to [`nodes`](Self::nodes);
/// - for each family that at least two of them have, every ordered pair
///   (source, destination) of nodes with an address of that family: the
///   source pings the destination's **first address of the family that no
///   other node holds** (in topology order), with
///   [`Connectivity::default_ping`]'s settings unless
///   [`ping_options`](Self::ping_options) says otherwise;
/// - a pair is `ok` when at least one reply came back; a destination whose
///   every address of the family is held by another node too (separate
///   segments may reuse one) is not pinged, and its pairs are
///   [`Unknown`](CellState::Unknown), which fails the check;
/// - declared exceptions are probed too and shown as `skip`; one that got a
///   reply is listed as a *note* (the exception is not needed), which does
///   not fail the check.
///
/// The pings run in parallel (up to 32 at a time), so a matrix with
/// unreachable pairs takes about one ping timeout, not one per pair.
#[derive(Debug, Clone)]
#[must_use = "the matrix is probed by .check() or .run()"]
pub struct Connectivity<'a> {
    net: &'a Net,
    except: Vec<(String, String)>,
    nodes: Option<Vec<String>>,
    family: Option<Family>,
    opts: PingOptions,
}

impl Net {
    /// A connectivity matrix over all node pairs, like Mininet's `pingall`.
    ///
    /// ```
    /// use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new()
    ///     .bridge("sw", [("h1", "eth0", "198.51.100.1/24"), ("h2", "eth0", "198.51.100.2/24")])
    ///     .node("h3"))?;
    /// // h3 has no address: left out, as the switch node `sw`.
    /// let m = net.connectivity().check().expect("all pairs answer");
    /// assert_eq!(m.nodes, ["h1", "h2"]);
    /// println!("{m}");
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn connectivity(&self) -> Connectivity<'_> {
        Connectivity {
            net: self,
            except: Vec::new(),
            nodes: None,
            family: None,
            opts: Connectivity::default_ping(),
        }
    }
}

impl Connectivity<'_> {
    /// The ping of each pair by default: 2 requests 20 ms apart, each
    /// waiting up to 1 s (Mininet sends one with `-W1`; the second request
    /// rides out a lost first ARP).
    ///
    /// ```
    /// use netns_test::assert::Connectivity;
    /// assert_eq!(Connectivity::default_ping().count, 2);
    /// ```
    pub fn default_ping() -> PingOptions {
        PingOptions::new()
            .count(2)
            .interval(Duration::from_millis(20))
            .timeout(Duration::from_secs(1))
    }

    /// Declares that `a` and `b` need not reach each other, in both
    /// directions.
    ///
    /// ```
    /// use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new()
    ///     .link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24"))
    ///     .node("h3"))?;
    /// let m = net.connectivity().except("h1", "h2").check().unwrap();
    /// // The exception was not needed: a note, not a failure.
    /// assert_eq!(m.notes().len(), 2);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn except(mut self, a: impl Into<String>, b: impl Into<String>) -> Self {
        let (a, b) = (a.into(), b.into());
        self.except.push((b.clone(), a.clone()));
        self.except.push((a, b));
        self
    }

    /// Declares that `from` need not reach `to` (one direction only).
    ///
    /// ```
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24")))?;
    /// let m = net.connectivity().except_one_way("h1", "h2").check().unwrap();
    /// assert_eq!(m.notes().len(), 1);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn except_one_way(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.except.push((from.into(), to.into()));
        self
    }

    /// Restricts the matrix to these nodes (in this order; a name given
    /// twice counts once). Each must take part in a pair: one with no
    /// address (of the family, with [`family`](Self::family)), or none
    /// that another node of the matrix has a family of, is an error of the
    /// check, not a silent pass.
    ///
    /// ```
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().bridge("sw", [("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24"), ("h3", "e0", "198.51.100.3/24")]))?;
    /// let m = net.connectivity().nodes(["h3", "h1"]).check().unwrap();
    /// assert_eq!(m.cells.len(), 2);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn nodes<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.nodes = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Probes one family only; fewer than two nodes of the matrix with an
    /// address of it is an error of the check.
    ///
    /// ```
    /// # use netns_test::{Net, Topology, Family};
    /// # let net = Net::build(&Topology::new().link(("h1", "e0", ["198.51.100.1/24", "2001:db8::1/64"]), ("h2", "e0", ["198.51.100.2/24", "2001:db8::2/64"])))?;
    /// let m = net.connectivity().family(Family::V6).check().unwrap();
    /// assert_eq!(m.families, [Family::V6]);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn family(mut self, family: Family) -> Self {
        self.family = Some(family);
        self
    }

    /// The ping each pair sends (see [`default_ping`](Self::default_ping)).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use netns_test::{Net, Topology, probe::PingOptions};
    /// # let net = Net::build(&Topology::new().link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24")))?;
    /// let m = net.connectivity()
    ///     .ping_options(PingOptions::new().count(1).timeout(Duration::from_millis(300)))
    ///     .check()
    ///     .unwrap();
    /// assert!(m.is_ok());
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn ping_options(mut self, opts: PingOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Probes every pair; `Err` if a pair that is not an exception got no
    /// reply (or was not probed: [`CellState::Unknown`]), a name given to
    /// [`except`](Self::except) or [`nodes`](Self::nodes) is not a node of
    /// the network, a node given to [`nodes`](Self::nodes) or the family
    /// given to [`family`](Self::family) takes part in no pair, or there
    /// is no pair at all to probe (no node given to
    /// [`nodes`](Self::nodes), fewer than two nodes with an address, or
    /// none sharing a family): a check that probed nothing does not pass.
    /// Never panics.
    ///
    /// ```
    /// use netns_test::{Net, Route, Topology};
    /// let net = Net::build(&Topology::new()
    ///     .link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24"))
    ///     .link(("h2", "e1", "203.0.113.2/24"), ("h3", "e0", "203.0.113.3/24"))
    ///     .route("h1", Route::default_via("198.51.100.2"))
    ///     .route("h3", Route::default_via("203.0.113.2")))?;
    /// // Both reach h2 (whose first address is 198.51.100.2), but h2 does
    /// // not forward: h1 and h3 do not reach each other.
    /// let failure = net.connectivity().check().unwrap_err();
    /// assert_eq!(failure.matrix.failures().count(), 2);
    /// assert!(net.connectivity().except("h1", "h3").check().is_ok());
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn check(self) -> Result<Matrix, MatrixFailure> {
        let net = self.net;
        let matrix = self.run();
        if matrix.is_ok() {
            return Ok(matrix);
        }
        let mut names: Vec<&str> = Vec::new();
        for c in matrix.failures() {
            for n in [c.from.as_str(), c.to.as_str()] {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        let reports = names
            .iter()
            .map(|n| match net.node(n) {
                Ok(node) => node.report().map_err(|e| format!("node {n}: {e}")),
                Err(e) => Err(e.to_string()),
            })
            .collect();
        Err(MatrixFailure { matrix, reports })
    }

    /// Probes every pair and returns the matrix, whatever it shows (see
    /// [`Matrix::is_ok`]).
    ///
    /// ```
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().link(("h1", "e0", "198.51.100.1/24"), ("h2", "e0", "198.51.100.2/24")))?;
    /// let m = net.connectivity().run();
    /// assert_eq!((m.received(), m.sent()), (2, 2));
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn run(self) -> Matrix {
        let (nodes, families, errors) = self.members();
        // Every (from, to, family, dst) in table order, with why it is not
        // pinged, if it is not.
        let mut jobs = Vec::new();
        for &fam in &families {
            let targets: Vec<_> = nodes.iter().map(|to| target(self.net, to, fam)).collect();
            for from in &nodes {
                if self.net[from.as_str()].ip(fam).is_none() {
                    continue;
                }
                for (to, t) in nodes.iter().zip(&targets) {
                    if to == from {
                        continue;
                    }
                    match t {
                        Some(Ok(dst)) => jobs.push((from.clone(), to.clone(), fam, *dst, None)),
                        Some(Err((dst, why))) => {
                            jobs.push((from.clone(), to.clone(), fam, *dst, Some(why.clone())))
                        }
                        None => {}
                    }
                }
            }
        }
        let results: Vec<Mutex<Option<Result<PingReport, String>>>> = jobs
            .iter()
            .map(|j| Mutex::new(j.4.clone().map(Err)))
            .collect();
        let pings: Vec<usize> = (0..jobs.len()).filter(|&i| jobs[i].4.is_none()).collect();
        let next = AtomicUsize::new(0);
        let workers = pings.len().min(32);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = pings.get(n) else {
                        break;
                    };
                    let (from, _, _, dst, _) = &jobs[i];
                    let r = self.net[from.as_str()]
                        .ping(*dst)
                        .options(self.opts.clone())
                        .run()
                        .map_err(|e| e.to_string());
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                });
            }
        });
        let cells = jobs
            .into_iter()
            .zip(results)
            .map(|((from, to, family, dst, unprobed), r)| {
                let report = r
                    .into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .unwrap_or_else(|| Err("not run".into()));
                let answered = report.as_ref().is_ok_and(PingReport::is_reachable);
                let excepted = self.except.iter().any(|(a, b)| *a == from && *b == to);
                let state = match (excepted, answered) {
                    (true, answered) => CellState::Skipped { answered },
                    (false, true) => CellState::Ok,
                    (false, false) if unprobed.is_some() => CellState::Unknown,
                    (false, false) => CellState::Failed,
                };
                Cell {
                    from,
                    to,
                    family,
                    dst,
                    state,
                    report,
                }
            })
            .collect();
        Matrix {
            nodes,
            families,
            cells,
            errors,
        }
    }
}

impl Connectivity<'_> {
    /// The nodes and families of the matrix, and the problems of the check
    /// itself: unknown names, named nodes or a named family that would
    /// take part in no pair, and no pair at all.
    fn members(&self) -> (Vec<String>, Vec<Family>, Vec<String>) {
        let mut errors = Vec::new();
        let has = |n: &str, f: Family| self.net[n].ip(f).is_some();
        let candidates: Vec<String> = match &self.nodes {
            Some(list) => {
                let mut unique: Vec<String> = Vec::new();
                for n in list {
                    if unique.contains(n) {
                        continue;
                    }
                    if self.net.node(n).is_err() {
                        errors.push(format!("unknown node `{n}` given to .nodes()"));
                    }
                    unique.push(n.clone());
                }
                unique.retain(|n| self.net.node(n).is_ok());
                unique
            }
            None => self
                .net
                .nodes()
                .iter()
                .map(|n| n.name().to_string())
                .collect(),
        };
        for (a, b) in &self.except {
            for n in [a, b] {
                let msg = format!("unknown node `{n}` in an exception");
                if self.net.node(n).is_err() && !errors.contains(&msg) {
                    errors.push(msg);
                }
            }
        }
        let addressed = |n: &String| !self.net[n.as_str()].declared_addrs().is_empty();
        let nodes: Vec<String> = candidates
            .iter()
            .filter(|n| addressed(n))
            .cloned()
            .collect();
        let families: Vec<Family> = [Family::V4, Family::V6]
            .into_iter()
            .filter(|f| self.family.is_none_or(|only| only == *f))
            .filter(|f| nodes.iter().filter(|n| has(n, *f)).count() >= 2)
            .collect();
        // A node named in .nodes() must take part in a pair.
        let before = errors.len();
        if self.nodes.is_some() {
            for n in &candidates {
                if families.iter().any(|f| has(n, *f)) {
                    continue;
                }
                let why = match self.family {
                    _ if !addressed(n) => "has no address".to_string(),
                    Some(f) if !has(n, f) => format!("has no {f} address"),
                    Some(f) => format!("is the only node of the matrix with an {f} address"),
                    None => "shares no address family with another node of the matrix".into(),
                };
                errors.push(format!("node `{n}` given to .nodes() {why}"));
            }
        }
        // A family asked for must have a pair.
        if let Some(f) = self.family {
            if !families.contains(&f) && errors.len() == before {
                let with = nodes.iter().filter(|n| has(n, f)).count();
                errors.push(format!(
                    "{with} node(s) of the matrix have an {f} address: no {f} pair to probe"
                ));
            }
        }
        // A check that probes nothing proves nothing.
        if families.is_empty() && errors.len() == before {
            errors.push(match &self.nodes {
                Some(list) if list.is_empty() => {
                    "no node given to .nodes(): no pair to probe".to_string()
                }
                _ if nodes.len() < 2 => format!(
                    "{} node(s) of the matrix have an address: no pair to probe",
                    nodes.len()
                ),
                _ => "no two nodes of the matrix have an address of the same family: \
                      no pair to probe"
                    .to_string(),
            });
        }
        (nodes, families, errors)
    }
}
