//! Things an upper layer attaches to a live network (the captures of
//! `capture/`, say): kept by type, found again from the `Net` or any of its
//! nodes, and told to stop at teardown, before the namespaces go. The lab
//! knows nothing of what they are, as with the fault book.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

use crate::error::Result;

/// What the lab asks of an attachment.
pub(crate) trait Attachment: Any + Send + Sync {
    /// Stops it: threads joined, sockets closed. Called once, first thing
    /// at teardown (or when it is detached).
    fn tear_down(&self);
}

type Slot = (TypeId, Arc<dyn Any + Send + Sync>, Arc<dyn Attachment>);

/// The attachments of one network, shared by the `Net` and its nodes.
#[derive(Default)]
pub(crate) struct Attachments {
    slots: Mutex<Vec<Slot>>,
    /// Set by teardown: nothing attaches after it.
    closed: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Attachments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.lock().unwrap_or_else(|p| p.into_inner()).len();
        write!(f, "Attachments({n})")
    }
}

impl Attachments {
    /// The attachment of type `T`, if there is one.
    pub(crate) fn get<T: Attachment>(&self) -> Option<Arc<T>> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .iter()
            .find(|(id, _, _)| *id == TypeId::of::<T>())
            .and_then(|(_, any, _)| Arc::clone(any).downcast::<T>().ok())
    }

    /// The attachment of type `T`, made by `make` if there is none yet;
    /// `None` once the network was torn down.
    pub(crate) fn get_or_insert<T: Attachment>(
        &self,
        make: impl FnOnce() -> Result<T>,
    ) -> Result<Option<Arc<T>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(None);
        }
        if let Some((_, any, _)) = slots.iter().find(|(id, _, _)| *id == TypeId::of::<T>()) {
            return Ok(Arc::clone(any).downcast::<T>().ok());
        }
        let made = Arc::new(make()?);
        slots.push((TypeId::of::<T>(), made.clone(), made.clone()));
        Ok(Some(made))
    }

    /// Tears every attachment down, newest first, and refuses new ones.
    pub(crate) fn tear_down_all(&self) {
        let slots = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            self.closed
                .store(true, std::sync::atomic::Ordering::Release);
            std::mem::take(&mut *slots)
        };
        for (_, _, a) in slots.into_iter().rev() {
            a.tear_down();
        }
    }
}
