//! The book of faults active on a network: what each is, since when, how
//! to show what it did, and how to undo it. The fault layer writes it; the
//! lab only keeps it, so that `Net::heal` and teardown can end every fault.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::net::Net;
use crate::error::Result;
use crate::fault::FaultError;

/// How a fault shows what it did so far (packets dropped, state changes),
/// answering by the deadline it is given (a fault whose evidence must wait,
/// for a wire's rule that runs, says it is busy instead).
pub(crate) type Evidence = Box<dyn Fn(&Net, Instant) -> String + Send + Sync>;

/// An [`Evidence`] as the book keeps it.
type SharedEvidence = Arc<dyn Fn(&Net, Instant) -> String + Send + Sync>;

/// How long [`FaultBook::list`] gives the faults' evidence in all.
pub(crate) const EVIDENCE_WAIT: Duration = crate::wire::REPORT_WAIT;
/// How a fault is undone. Called again by the next `Net::heal` when it
/// failed, so it undoes what is left, and what it undid before is no
/// error the second time.
pub(crate) type Undo = Box<dyn FnMut(&Net) -> Result<()> + Send>;

struct Entry {
    id: u64,
    /// What the fault acts on (`link 3`), so that undoing it by other means
    /// (`Link::up`) can end it too.
    key: String,
    description: String,
    since: Instant,
    /// `None` while the fault is reserved and not yet started. Shared, so
    /// that [`FaultBook::list`] calls it without the book's lock.
    evidence: Option<SharedEvidence>,
    /// `None` while the fault is reserved and not yet started.
    undo: Option<Undo>,
    /// The error of the last try to undo it, which left it in the book.
    undo_failed: Option<String>,
}

/// The active faults of one network.
#[derive(Default)]
pub(crate) struct FaultBook {
    next: AtomicU64,
    active: Mutex<Vec<Entry>>,
    /// Set by teardown, under the lock of `active`: [`FaultBook::reserve`]
    /// and [`FaultBook::commit`] refuse new faults from then on.
    closed: AtomicBool,
}

/// Why [`FaultBook::reserve`] refused a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The network was torn down.
    Closed,
    /// Another fault holds the key; its description.
    Busy(String),
}

/// A fault reserved by [`FaultBook::reserve`], to start with
/// [`FaultBook::commit`] or give up with [`FaultBook::cancel`].
#[derive(Debug)]
pub(crate) struct Reservation {
    id: u64,
    description: String,
}

impl Reservation {
    /// The id the fault will have.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// What the fault is.
    pub(crate) fn description(&self) -> &str {
        &self.description
    }
}

impl std::fmt::Debug for FaultBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_list()
            .entries(active.iter().map(|e| &e.description))
            .finish()
    }
}

/// A fault active on a network, as [`Net::active_faults`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveFault {
    /// What the fault is: `link n1/eth0 -- n2/eth0 down`, `partition {a} | {b}`.
    pub description: String,
    /// How long it has been active.
    pub active_for: Duration,
    /// What it did so far: packets dropped, link state changes; for a
    /// fault whose undo failed (it stays active, and the next
    /// [`Net::heal`] tries again), `; undo failed: ` and the error.
    pub evidence: String,
}

impl std::fmt::Display for ActiveFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (for {:.1?}; {})",
            self.description, self.active_for, self.evidence
        )
    }
}

impl FaultBook {
    /// A fresh fault id, for a fault that needs it before it starts.
    pub(crate) fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Records an active fault; its id, to end it with [`FaultBook::end`].
    ///
    /// Unlike [`FaultBook::reserve`], it refuses nothing: a fault recorded
    /// after teardown is undone when the `Net` drops.
    pub(crate) fn start(
        &self,
        key: String,
        description: String,
        evidence: Evidence,
        undo: Undo,
    ) -> u64 {
        self.start_with_id(self.next_id(), key, description, evidence, undo)
    }

    /// Records an active fault under an id from [`FaultBook::next_id`].
    pub(crate) fn start_with_id(
        &self,
        id: u64,
        key: String,
        description: String,
        evidence: Evidence,
        undo: Undo,
    ) -> u64 {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Entry {
                id,
                key,
                description,
                since: Instant::now(),
                evidence: Some(Arc::from(evidence)),
                undo: Some(undo),
                undo_failed: None,
            });
        id
    }

    /// Reserves `key` for a fault about to be made, before anything is
    /// changed: refused once the network is torn down, or while another
    /// fault (or reservation) holds the key. Without a key, the fault is
    /// keyed by its id, which no other holds.
    pub(crate) fn reserve(
        &self,
        key: Option<String>,
        description: String,
    ) -> std::result::Result<Reservation, Refused> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if self.closed.load(Ordering::Acquire) {
            return Err(Refused::Closed);
        }
        if let Some(e) = active.iter().find(|e| Some(&e.key) == key.as_ref()) {
            return Err(Refused::Busy(e.description.clone()));
        }
        let id = self.next_id();
        active.push(Entry {
            id,
            key: key.unwrap_or_else(|| format!("fault {id}")),
            description: description.clone(),
            since: Instant::now(),
            evidence: None,
            undo: None,
            undo_failed: None,
        });
        Ok(Reservation { id, description })
    }

    /// [`FaultBook::reserve`] without a key: refused only with
    /// [`FaultError::TornDown`], once the network is torn down.
    pub(crate) fn reserve_unique(&self, description: String) -> Result<Reservation> {
        self.reserve(None, description.clone())
            .map_err(|_| FaultError::TornDown { fault: description }.into())
    }

    /// Starts the reserved fault, made since, with how to show and undo it.
    ///
    /// When the reservation was ended meanwhile (by `Net::heal`, by
    /// `Link::up`, by teardown), the fault is undone now: the undo's
    /// result, or [`FaultError::TornDown`] once the network is torn down.
    pub(crate) fn commit(
        &self,
        net: &Net,
        r: Reservation,
        evidence: Evidence,
        mut undo: Undo,
    ) -> Result<u64> {
        {
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(e) = active.iter_mut().find(|e| e.id == r.id) {
                e.since = Instant::now();
                e.evidence = Some(Arc::from(evidence));
                e.undo = Some(undo);
                return Ok(r.id);
            }
        }
        let undone = undo(net);
        if self.closed.load(Ordering::Acquire) {
            return Err(FaultError::TornDown {
                fault: r.description,
            }
            .into());
        }
        undone.map(|()| r.id)
    }

    /// Gives up a reservation: the fault was not made.
    pub(crate) fn cancel(&self, r: Reservation) {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|e| e.id != r.id);
    }

    /// Ends every active fault and refuses new ones from now on: for
    /// teardown. A fault whose undo fails is forgotten all the same (its
    /// namespaces go with the network).
    pub(crate) fn close(&self, net: &Net) -> Result<()> {
        let entries = {
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            self.closed.store(true, Ordering::Release);
            std::mem::take(&mut *active)
        };
        let (first, _failed) = undo_all(net, entries);
        first
    }

    /// Ends fault `id`: undoes it and forgets it. Nothing if it already
    /// ended (by `Net::heal`, say). When the undo fails, the fault stays
    /// (see [`FaultBook::undo`]).
    pub(crate) fn end(&self, net: &Net, id: u64) -> Result<()> {
        let entry = {
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            let Some(i) = active.iter().position(|e| e.id == id) else {
                return Ok(());
            };
            active.remove(i)
        };
        self.undo(net, vec![entry])
    }

    /// Undoes `entries`, taken out of the book, newest first; the first
    /// error, after trying them all. A fault whose undo fails goes back in
    /// the book, with the error: [`FaultBook::list`] shows it, it keeps its
    /// key (a link stays busy), and the next `Net::heal` (or its guard)
    /// tries to undo it again.
    fn undo(&self, net: &Net, entries: Vec<Entry>) -> Result<()> {
        let (first, failed) = undo_all(net, entries);
        if !failed.is_empty() {
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            for e in failed {
                // Back in its place: the book is in the order of the ids.
                let at = active.partition_point(|a| a.id < e.id);
                active.insert(at, e);
            }
        }
        first
    }

    /// Forgets fault `id` without undoing it: whether it was still active
    /// (not ended yet by `Net::heal`, say), for its owner to undo it.
    pub(crate) fn forget(&self, id: u64) -> bool {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        let before = active.len();
        active.retain(|e| e.id != id);
        active.len() < before
    }

    /// Forgets every active fault on `key` without undoing it (its effect
    /// was undone by other means).
    pub(crate) fn forget_keyed(&self, key: &str) {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|e| e.key != key);
    }

    /// Ends every active fault on `key`, newest first; the first error,
    /// after trying them all.
    pub(crate) fn end_keyed(&self, net: &Net, key: &str) -> Result<()> {
        let entries: Vec<_> = {
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            let (mine, others) = std::mem::take(&mut *active)
                .into_iter()
                .partition(|e| e.key == key);
            *active = others;
            mine
        };
        self.undo(net, entries)
    }

    /// Ends every active fault, newest first; the first error, after trying
    /// them all.
    pub(crate) fn end_all(&self, net: &Net) -> Result<()> {
        let entries = std::mem::take(&mut *self.active.lock().unwrap_or_else(|p| p.into_inner()));
        self.undo(net, entries)
    }

    /// The active faults, oldest first (not those only reserved). A fault
    /// whose undo failed says so after its evidence.
    ///
    /// The evidence is gathered after the book's lock is released, so that
    /// a fault whose evidence waits (a wire's direction while its rule
    /// runs) holds up neither `Net::heal`, nor teardown, nor another fault
    /// starting or ending; together the faults' evidence waits at most
    /// [`EVIDENCE_WAIT`].
    pub(crate) fn list(&self, net: &Net) -> Vec<ActiveFault> {
        let started: Vec<_> = self
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|e| {
                let evidence = e.evidence.clone()?;
                Some((
                    e.description.clone(),
                    e.since,
                    evidence,
                    e.undo_failed.clone(),
                ))
            })
            .collect();
        let deadline = Instant::now() + EVIDENCE_WAIT;
        started
            .into_iter()
            .map(|(description, since, evidence, failed)| {
                let mut evidence = evidence(net, deadline);
                if let Some(e) = failed {
                    evidence.push_str(&format!("; undo failed: {e}"));
                }
                ActiveFault {
                    description,
                    active_for: since.elapsed(),
                    evidence,
                }
            })
            .collect()
    }
}

/// Undoes `entries`, newest first: the first error, after trying them
/// all, and the entries whose undo failed, each with its error. A reserved
/// entry, not started, has nothing to undo.
fn undo_all(net: &Net, entries: Vec<Entry>) -> (Result<()>, Vec<Entry>) {
    let mut first = Ok(());
    let mut failed = Vec::new();
    for mut e in entries.into_iter().rev() {
        let Some(undo) = e.undo.as_mut() else {
            continue;
        };
        if let Err(err) = undo(net) {
            e.undo_failed = Some(err.to_string());
            failed.push(e);
            if first.is_ok() {
                first = Err(err);
            }
        }
    }
    (first, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::test_pair as pair;

    #[test]
    fn a_fault_whose_undo_fails_stays_in_order_and_the_next_heal_tries_again() {
        let net = pair();
        let book = &net.faults;
        let tries = Arc::new(AtomicU64::new(0));
        let t = Arc::clone(&tries);
        let quiet = || -> Evidence { Box::new(|_, _| "quiet".into()) };
        book.start("a".into(), "first".into(), quiet(), Box::new(|_| Ok(())));
        let id = book.start(
            "b".into(),
            "second".into(),
            quiet(),
            Box::new(move |_| match t.fetch_add(1, Ordering::Relaxed) {
                0 => Err(crate::Error::Fault(FaultError::TornDown {
                    fault: "second".into(),
                })),
                _ => Ok(()),
            }),
        );
        book.start("c".into(), "third".into(), quiet(), Box::new(|_| Ok(())));
        assert!(book.end(&net, id).is_err());
        let listed = book.list(&net);
        let names: Vec<_> = listed.iter().map(|f| f.description.as_str()).collect();
        assert_eq!(names, ["first", "second", "third"]);
        assert!(
            listed[1].evidence.starts_with("quiet; undo failed: "),
            "{listed:?}"
        );
        // Its key is still held.
        assert!(matches!(
            book.reserve(Some("b".into()), "again".into()),
            Err(Refused::Busy(d)) if d == "second"
        ));
        book.end_all(&net).unwrap();
        assert_eq!(tries.load(Ordering::Relaxed), 2);
        assert!(book.list(&net).is_empty());
    }
}
