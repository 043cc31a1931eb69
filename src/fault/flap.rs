//! A link flapping in the background: down and up again and again, from
//! a thread of its own, until its guard drops.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::link::link_of;
use super::{link_state, panic_text, FaultError, Link};
use crate::error::{Error, Result};
use crate::lab::faults::Undo;
use crate::lab::Net;

impl<'a> Link<'a> {
    /// Flaps the link in the background: down for `down_for`, up for
    /// `up_for`, again and again, until the returned guard is dropped (or
    /// [`Net::heal`], [`Link::up`], the lab's teardown); the link is left
    /// up then. A duration too long to add to the current time lasts until
    /// the flapping stops. Each way up, as [`Link::down`]'s, waits until
    /// the ends' IPv6 addresses are usable again; the up phase counts from
    /// then.
    ///
    /// Refused with [`FaultError::ZeroFlapPhase`] when either duration is
    /// zero, and as [`Link::down`] is: [`FaultError::LinkBusy`] while the
    /// link is down or flapping already, [`FaultError::TornDown`] once the
    /// network is torn down; nothing is changed then.
    pub fn flap(&self, down_for: Duration, up_for: Duration) -> Result<Flap<'a>> {
        if down_for.is_zero() || up_for.is_zero() {
            return Err(FaultError::ZeroFlapPhase {
                link: self.name(),
                down: down_for,
                up: up_for,
            }
            .into());
        }
        let reserved = self.reserve(format!(
            "link {} flapping (down {down_for:?}, up {up_for:?})",
            self.name()
        ))?;
        match self.start_flap(down_for, up_for) {
            Ok((undo, flips, errors)) => {
                let ev_flips = flips.clone();
                let id = self.net.faults.commit(
                    self.net,
                    reserved,
                    Box::new(move |_, _| {
                        format!("{} state changes", ev_flips.load(Ordering::Relaxed))
                    }),
                    undo,
                )?;
                Ok(Flap {
                    link: *self,
                    id,
                    flips,
                    errors,
                })
            }
            Err(e) => {
                self.net.faults.cancel(reserved);
                Err(e)
            }
        }
    }

    /// Starts the flap's thread; how to stop it, its transitions so far,
    /// and the error that stopped it.
    fn start_flap(&self, down_for: Duration, up_for: Duration) -> Result<FlapParts> {
        // Sockets of their own, opened in the two nodes: the thread owns them.
        let mut sa = link_state::open_socket(self.net, &self.veth.a)?;
        let mut sb = link_state::open_socket(self.net, &self.veth.b)?;
        link_state::keep_addresses(self.net, &self.veth.a)?;
        link_state::keep_addresses(self.net, &self.veth.b)?;
        let (a, b) = (self.veth.a.clone(), self.veth.b.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let flips = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(Mutex::new(None::<String>));
        let (t_stop, t_flips, t_errors) = (stop.clone(), flips.clone(), errors.clone());
        let t_lost = self.veth.lost_routes.clone();
        // The link's own count of changes (`Link::state_changes`).
        let t_changes = Arc::clone(&self.veth.state_changes);
        let thread = thread::Builder::new()
            .name(format!("netns-flap-{}", self.name()))
            .spawn(move || {
                let mut up = true;
                // As `Link::set` does, under the same lock.
                let mut set = |up: bool| -> Result<()> {
                    let mut lost = t_lost.lock().unwrap_or_else(|p| p.into_inner());
                    if !up {
                        link_state::save_routes(&mut sa, &a, &mut lost)?;
                        link_state::save_routes(&mut sb, &b, &mut lost)?;
                    }
                    let mut usable = Ok(());
                    if up {
                        usable = link_state::bring_up([&mut sa, &mut sb], [&a, &b])?;
                    } else {
                        sa.set_link_up(a.index, &a.ifname, false)?;
                        sb.set_link_up(b.index, &b.ifname, false)?;
                    }
                    if up {
                        let first = link_state::add_back(&mut sa, a.node, &mut lost);
                        let second = link_state::add_back(&mut sb, b.node, &mut lost);
                        first.and(second)?;
                    }
                    usable
                };
                while !t_stop.load(Ordering::Acquire) {
                    up = !up;
                    if let Err(e) = set(up) {
                        *t_errors.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                        break;
                    }
                    t_flips.fetch_add(1, Ordering::Relaxed);
                    t_changes.fetch_add(1, Ordering::Relaxed);
                    // `None`: too far to tell, until the flapping stops.
                    let until = Instant::now().checked_add(if up { up_for } else { down_for });
                    while !t_stop.load(Ordering::Acquire)
                        && until.is_none_or(|u| Instant::now() < u)
                    {
                        let left = until.map_or(Duration::MAX, |u| {
                            u.saturating_duration_since(Instant::now())
                        });
                        thread::sleep(left.min(Duration::from_millis(5)));
                    }
                }
                // Leave the link up, with its routes back (a change of its
                // state when it was down).
                match set(true) {
                    Ok(()) if !up => {
                        t_changes.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(()) => {}
                    Err(e) => {
                        let mut slot = t_errors.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert(e.to_string());
                    }
                }
            })
            .map_err(|source| Error::Spawn {
                op: format!("spawn the flap thread of link {}", self.name()),
                source,
            })?;
        let (u_errors, index) = (errors.clone(), self.index());
        let mut thread = Some(thread);
        let undo: Undo = Box::new(move |net: &Net| {
            stop.store(true, Ordering::Release);
            match thread.take() {
                Some(t) => end_flap(net, index, t.join(), &u_errors),
                // Tried before and failed: the thread is gone; the link
                // comes up, with its routes.
                None => link_of(net, index).set(true),
            }
        });
        Ok((undo, flips, errors))
    }
}

/// What [`Link::start_flap`] gives: how to stop the flap, its transitions
/// so far, the error that stopped it.
type FlapParts = (Undo, Arc<AtomicU64>, Arc<Mutex<Option<String>>>);

/// After the flap thread of veth `index` ended (`joined`): a thread that
/// panicked may have left the link down, so it is brought up and the panic
/// returned; else the error that stopped the flapping, or that it met as
/// it left the link up.
fn end_flap(
    net: &Net,
    index: usize,
    joined: thread::Result<()>,
    errors: &Mutex<Option<String>>,
) -> Result<()> {
    let link = link_of(net, index);
    if let Err(payload) = joined {
        let _ = link.set(true);
        return Err(FaultError::FlapPanicked {
            link: link.name(),
            message: panic_text(payload.as_ref()),
        }
        .into());
    }
    match errors.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(e) => Err(Error::Netlink {
            node: net.nodes()[link.veth.a.node].name().to_string(),
            op: format!("flap link {}", link.name()),
            source: std::io::Error::other(e),
        }),
        None => Ok(()),
    }
}

/// A link flapping in the background, made by [`Link::flap`]; dropping it
/// stops the flapping and leaves the link up.
#[derive(Debug)]
#[must_use = "the flapping stops when the guard drops"]
pub struct Flap<'a> {
    link: Link<'a>,
    id: u64,
    flips: Arc<AtomicU64>,
    errors: Arc<Mutex<Option<String>>>,
}

impl Flap<'_> {
    /// How many times the flap set the link down or up so far.
    pub fn transitions(&self) -> u64 {
        self.flips.load(Ordering::Relaxed)
    }

    /// The error that stopped the flapping early, if one did.
    pub fn error(&self) -> Option<String> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops flapping now and leaves the link up.
    pub fn stop(self) -> Result<()> {
        // Ended here; the drop that follows finds nothing left to undo.
        self.link.net.faults.end(self.link.net, self.id)
    }
}

impl Drop for Flap<'_> {
    fn drop(&mut self) {
        let _ = self.link.net.faults.end(self.link.net, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::lab::test_pair as pair;

    #[test]
    fn a_flap_thread_that_panicked_is_an_error_and_the_link_comes_up() {
        let net = pair();
        link_of(&net, 0).set(false).unwrap();
        let joined = thread::spawn(|| panic!("the flap thread fails")).join();
        let e = end_flap(&net, 0, joined, &Mutex::new(None)).unwrap_err();
        let expected = FaultError::FlapPanicked {
            link: "n1/eth0 -- n2/eth0".into(),
            message: "the flap thread fails".into(),
        };
        assert_eq!(FaultError::find(&e), Some(&expected), "{e}");
        assert!(link_of(&net, 0).is_up().unwrap());
    }
}
