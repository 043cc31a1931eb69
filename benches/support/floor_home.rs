//! Where a floor cycle runs: on the calling thread, moved back to its own
//! namespace afterwards, or on a fresh thread that exits.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Runs `body` on a fresh thread named `name`, which exits afterwards (a
/// floor body leaves its thread inside a namespace of its own).
pub(crate) fn on_fresh_thread<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map_err(|e| format!("spawn: {e}"))?
        .join()
        .map_err(|_| "floor thread panicked".to_string())?
}

/// [`on_fresh_thread`], with the CPU time the thread spent in `body` (user
/// and system, `getrusage(RUSAGE_THREAD)`): the cost of one test to the
/// machine, without the thread's own start and exit, and without the
/// kernel's work afterwards on other threads (freeing the namespaces).
pub(crate) fn on_fresh_thread_cpu<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<(T, std::time::Duration), String> {
    on_fresh_thread(name, move || {
        let before = thread_cpu();
        let out = body()?;
        Ok((out, thread_cpu().saturating_sub(before)))
    })
}

/// The CPU time (user and system) the calling thread has used.
pub(crate) fn thread_cpu() -> std::time::Duration {
    // SAFETY: an all-zero `rusage` is a valid value, which getrusage
    // overwrites; the pointer is to memory we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_THREAD with a valid out-pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } != 0 {
        return std::time::Duration::ZERO;
    }
    let time =
        |t: libc::timeval| std::time::Duration::new(t.tv_sec as u64, (t.tv_usec * 1000) as u32);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The calling thread's namespace, which [`Home`]'s drop moves it back to.
struct Home {
    fd: OwnedFd,
}

impl Home {
    fn save() -> Result<Home, String> {
        let path: &CStr = c"/proc/thread-self/ns/net";
        // SAFETY: `path` is a valid NUL-terminated string; the returned fd is
        // checked and then owned exclusively by the OwnedFd.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(format!("open own netns: {}", io::Error::last_os_error()));
        }
        // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Home { fd })
    }
}

impl Drop for Home {
    /// Moves the thread back, or aborts: a bench thread must never run on
    /// inside a lab's namespace.
    fn drop(&mut self) {
        // SAFETY: setns only changes the calling thread's namespace
        // membership; `self.fd` is a valid namespace fd.
        // Success means the thread moved: `setns` moves it or fails, as
        // the library relies on too.
        if unsafe { libc::setns(self.fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            eprintln!("raw floor: cannot move the thread back to its namespace; aborting");
            std::process::abort();
        }
    }
}

pub(crate) fn fd_inode(fd: RawFd) -> io::Result<u64> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is a valid open fd and `st` is a valid out-pointer.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.st_ino)
}

/// Runs `body` on the calling thread, which then moves back to the
/// namespace it started in (also when `body` fails or panics).
pub(crate) fn returning_home<T>(body: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let _home = Home::save()?;
    body()
}
