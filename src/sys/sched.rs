//! The calling thread's scheduling: a short time slice for threads whose
//! wake-ups must be punctual.

use std::time::Duration;

/// Asks the kernel's fair scheduler (EEVDF, Linux 6.12 and later) to give
/// the calling thread time slices of `slice` (the kernel clamps it to
/// 0.1-100 ms). A thread with a shorter slice than the one running gets an
/// earlier virtual deadline when it wakes, and so preempts it: under CPU
/// contention it runs within about its slice of waking instead of after the
/// running thread's slice. This needs no privilege and changes neither the
/// thread's policy nor its weight (it gets no larger share of the CPU); a
/// thread whose policy is not a fair one (real-time, idle) is left alone.
/// Older kernels ignore the slice or refuse the call; either way the thread
/// keeps its default scheduling, so the result is only informative.
pub(crate) fn prefer_short_slice(slice: Duration) -> bool {
    // SAFETY: `sched_getscheduler(2)` of the calling thread (0) takes no
    // pointer.
    let policy = unsafe { nix::libc::sched_getscheduler(0) } & !nix::libc::SCHED_RESET_ON_FORK;
    // Only the fair policies have a slice; a thread the user made real-time
    // or idle keeps what it has.
    if policy != nix::libc::SCHED_OTHER && policy != nix::libc::SCHED_BATCH {
        return false;
    }
    let attr = nix::libc::sched_attr {
        size: std::mem::size_of::<nix::libc::sched_attr>() as u32,
        sched_policy: policy as u32,
        sched_flags: 0,
        sched_nice: current_nice(),
        sched_priority: 0,
        sched_runtime: u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX),
        sched_deadline: 0,
        sched_period: 0,
    };
    // SAFETY: `sched_setattr(2)` with pid 0 (the calling thread), a pointer
    // to a fully initialised `sched_attr` whose `size` field is its own size,
    // and flags 0; the kernel only reads the struct during the call.
    let rc = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_sched_setattr,
            0,
            &attr as *const nix::libc::sched_attr,
            0,
        )
    };
    rc == 0
}

/// The calling thread's nice value, kept when the slice is set.
fn current_nice() -> i32 {
    // `getpriority` can return -1 as a valid value; errno tells, but a
    // failure here only means the default (0) is kept.
    nix::errno::Errno::clear();
    // SAFETY: `getpriority(2)` for PRIO_PROCESS of the calling thread (0)
    // takes no pointer.
    let v = unsafe { nix::libc::getpriority(nix::libc::PRIO_PROCESS, 0) };
    if v == -1 && nix::errno::Errno::last_raw() != 0 {
        0
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slice the kernel reports for the calling thread, where its
    /// scheduler debug fields are shown.
    fn reported_slice() -> Option<u64> {
        let text = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
        let line = text.lines().find(|l| l.starts_with("se.slice"))?;
        line.split(':').nth(1)?.trim().parse().ok()
    }

    #[test]
    fn the_slice_set_is_the_slice_the_kernel_reports() {
        std::thread::spawn(|| {
            if prefer_short_slice(Duration::from_micros(300)) {
                if let Some(ns) = reported_slice() {
                    assert_eq!(ns, 300_000);
                }
            }
            let clamped = prefer_short_slice(Duration::from_micros(10));
            if clamped {
                if let Some(ns) = reported_slice() {
                    assert_eq!(ns, 100_000, "the kernel clamps to 0.1 ms");
                }
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_batch_thread_stays_batch() {
        std::thread::spawn(|| {
            let param = nix::libc::sched_param { sched_priority: 0 };
            // SAFETY: `sched_setscheduler(2)` of the calling thread (0) with
            // a pointer to a live `sched_param`, read during the call only.
            let rc = unsafe { nix::libc::sched_setscheduler(0, nix::libc::SCHED_BATCH, &param) };
            assert_eq!(rc, 0, "switching to SCHED_BATCH needs no privilege");
            prefer_short_slice(Duration::from_micros(300));
            // SAFETY: as in `prefer_short_slice`.
            let policy = unsafe { nix::libc::sched_getscheduler(0) };
            assert_eq!(
                policy & !nix::libc::SCHED_RESET_ON_FORK,
                nix::libc::SCHED_BATCH
            );
        })
        .join()
        .unwrap();
    }
}
