//! A flag in a page of memory shared with the children this process forks:
//! one that a child sees set even when it was set after the fork.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag in an anonymous `MAP_SHARED` page of its own. A child forked
/// while it exists shares the page: it reads the flag as this process sets
/// it, not as it was at the fork.
#[derive(Debug)]
pub(crate) struct SharedFlag {
    flag: NonNull<AtomicBool>,
}

// SAFETY: the flag is an `AtomicBool` in a mapping that lives until the
// `SharedFlag` drops; it is only ever read and written atomically, from any
// thread.
unsafe impl Send for SharedFlag {}
// SAFETY: as above: `&SharedFlag` only gives atomic access to the flag.
unsafe impl Sync for SharedFlag {}

impl SharedFlag {
    /// A flag, not set, in a new shared page.
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: a new anonymous mapping, at an address the kernel picks,
        // of one page; nothing else refers to it.
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
        // The kernel fills an anonymous page with zeros: `false`.
        let flag = NonNull::new(page.cast::<AtomicBool>())
            .ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(SharedFlag { flag })
    }

    fn atomic(&self) -> &AtomicBool {
        // SAFETY: the page is mapped, readable, writable and page-aligned
        // until `self` drops; a zero byte is a valid `AtomicBool`, and the
        // byte is only accessed through this atomic.
        unsafe { self.flag.as_ref() }
    }

    /// Sets the flag; whether it was set already.
    pub(crate) fn set(&self) -> bool {
        self.atomic().swap(true, Ordering::SeqCst)
    }

    /// Whether the flag is set. Allocates nothing and takes no lock: a
    /// forked child may call it before exec.
    pub(crate) fn is_set(&self) -> bool {
        self.atomic().load(Ordering::SeqCst)
    }
}

impl Drop for SharedFlag {
    fn drop(&mut self) {
        // SAFETY: unmaps the page `new` mapped, which nothing refers to any
        // more (`&self` borrows have ended). A child keeps its own mapping.
        unsafe { libc::munmap(self.flag.as_ptr().cast(), page_size()) };
    }
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
}
