//! A flag in memory shared with the children this process forks: one that
//! a child sees set even when it was set after the fork.
//!
//! The flags live in slots of anonymous `MAP_SHARED` pages that the process
//! keeps for its whole life (a forked child may still read a slot), so a
//! flag costs no `mmap` or `munmap` of its own: with another thread of the
//! process running, the `munmap` of a page of its own cost about 18 µs
//! (the other CPU's TLB is flushed by an interrupt), 2 % of a two-host test.
//! A slot holds a counter, not a bit: a flag is set when its slot's counter
//! has moved on from the value it had when the flag took the slot, and a
//! dropped flag moves it on before giving the slot back, so a child of an
//! old flag never sees the next owner's counter as "not set".

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A flag in a slot of a shared page. A child forked while it exists shares
/// the page: it reads the flag as this process sets it, not as it was at the
/// fork.
#[derive(Debug)]
pub(crate) struct SharedFlag {
    slot: NonNull<AtomicU64>,
    /// The slot's counter while the flag is not set.
    unset: u64,
    index: usize,
}

// SAFETY: the slot is an `AtomicU64` in a mapping that is never unmapped;
// it is only ever read and written atomically, from any thread.
unsafe impl Send for SharedFlag {}
// SAFETY: as above: `&SharedFlag` only gives atomic access to the slot.
unsafe impl Sync for SharedFlag {}

/// The shared pages and the slots not in use.
struct Pool {
    /// Each page's address, as an integer (the pages are never unmapped).
    pages: Vec<usize>,
    free: Vec<usize>,
    /// Slots handed out so far, the free ones included.
    used: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    pages: Vec::new(),
    free: Vec::new(),
    used: 0,
});

impl Pool {
    /// A slot not in use, mapping a new page when every slot is taken.
    fn take(&mut self) -> io::Result<(usize, NonNull<AtomicU64>)> {
        let per_page = slots_per_page();
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                if self.used == self.pages.len() * per_page {
                    self.pages.push(map_page()?);
                }
                self.used += 1;
                self.used - 1
            }
        };
        let page = self.pages[index / per_page] as *mut AtomicU64;
        // SAFETY: `index % per_page` is inside the page, which is mapped
        // for the process's life.
        let slot = unsafe { page.add(index % per_page) };
        let slot = NonNull::new(slot).ok_or_else(|| io::Error::other("null slot"))?;
        Ok((index, slot))
    }
}

impl SharedFlag {
    /// A flag, not set, in a shared slot.
    pub(crate) fn new() -> io::Result<Self> {
        let (index, slot) = POOL.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        let mut flag = SharedFlag {
            slot,
            unset: 0,
            index,
        };
        flag.unset = flag.atomic().load(Ordering::SeqCst);
        Ok(flag)
    }

    fn atomic(&self) -> &AtomicU64 {
        // SAFETY: the slot is mapped, readable, writable and aligned for the
        // process's life; zeros are a valid `AtomicU64`, and the slot is only
        // accessed through this atomic.
        unsafe { self.slot.as_ref() }
    }

    /// Sets the flag; whether it was set already.
    pub(crate) fn set(&self) -> bool {
        let next = self.unset.wrapping_add(1);
        self.atomic()
            .compare_exchange(self.unset, next, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
    }

    /// Whether the flag is set. Allocates nothing and takes no lock: a
    /// forked child may call it before exec.
    pub(crate) fn is_set(&self) -> bool {
        self.atomic().load(Ordering::SeqCst) != self.unset
    }
}

impl Drop for SharedFlag {
    fn drop(&mut self) {
        self.set();
        let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
        pool.free.push(self.index);
    }
}

/// Slots of one page.
fn slots_per_page() -> usize {
    page_size() / std::mem::size_of::<AtomicU64>()
}

/// A new page, zeroed by the kernel, shared with children forked after this.
fn map_page() -> io::Result<usize> {
    // SAFETY: a new anonymous mapping, at an address the kernel picks, of
    // one page; nothing else refers to it.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            page_size(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(page as usize)
}

/// The size of a page.
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forked_child_sees_the_flag_set_after_the_fork() {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        use std::sync::Arc;
        let flag = Arc::new(SharedFlag::new().unwrap());
        assert!(!flag.is_set());
        let (forked_r, forked_w) = nix::unistd::pipe().unwrap();
        let w = forked_w.as_raw_fd();
        let mut child = std::process::Command::new("true");
        let seen = Arc::clone(&flag);
        // SAFETY: the hook runs in the forked child before exec and makes
        // only async-signal-safe calls (write, poll) and atomic loads.
        unsafe {
            child.pre_exec(move || {
                libc::write(w, [0u8].as_ptr().cast(), 1);
                for _ in 0..5000 {
                    if seen.is_set() {
                        return Ok(());
                    }
                    libc::poll(std::ptr::null_mut(), 0, 1);
                }
                Err(io::Error::from_raw_os_error(libc::ETIMEDOUT))
            });
        }
        let spawner = std::thread::spawn(move || child.status());
        // Once the child is forked.
        nix::unistd::read(&forked_r, &mut [0u8]).unwrap();
        assert!(!flag.set());
        assert!(flag.set());
        let status = spawner.join().unwrap();
        assert!(status.unwrap().success(), "the child never saw the flag");
        drop(forked_w);
    }

    #[test]
    fn a_dropped_flag_reads_as_set_through_its_old_slot_whoever_takes_it_next() {
        let old = SharedFlag::new().unwrap();
        let (slot, unset) = (old.slot, old.unset);
        drop(old);
        // What a child forked while `old` lived reads.
        // SAFETY: the slot's page is mapped for the process's life.
        let now = unsafe { slot.as_ref() }.load(Ordering::SeqCst);
        assert_ne!(now, unset, "a child of the dropped flag would see it unset");
        let next: Vec<SharedFlag> = (0..4).map(|_| SharedFlag::new().unwrap()).collect();
        assert!(next.iter().all(|f| !f.is_set()), "a new flag starts unset");
    }

    #[test]
    fn flags_alive_at_once_have_slots_of_their_own_past_one_page() {
        let flags: Vec<SharedFlag> = (0..slots_per_page() + 3)
            .map(|_| SharedFlag::new().unwrap())
            .collect();
        let slots: std::collections::HashSet<usize> =
            flags.iter().map(|f| f.slot.as_ptr() as usize).collect();
        assert_eq!(slots.len(), flags.len());
        assert!(!flags[1].set());
        assert!(flags[1].is_set());
        let others_set = flags.iter().filter(|f| f.is_set()).count();
        assert_eq!(others_set, 1, "setting one flag set another");
    }
}
