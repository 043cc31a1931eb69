//! One thread waiting on many fds and one high-resolution deadline: epoll,
//! a timerfd (nanosecond deadlines, not a 1 ms wheel) and an eventfd that
//! other threads use to wake it.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

/// The token of the timer's events.
pub(crate) const TIMER: u64 = u64::MAX - 1;
/// The token of a wake-up.
pub(crate) const WAKE: u64 = u64::MAX;

/// An epoll set with its timer and its waker.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: Epoll,
    timer: TimerFd,
    waker: EventFd,
}

impl Poller {
    /// A poller with nothing registered but its timer and waker.
    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        let waker = EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)?;
        epoll.add(&timer, EpollEvent::new(EpollFlags::EPOLLIN, TIMER))?;
        epoll.add(&waker, EpollEvent::new(EpollFlags::EPOLLIN, WAKE))?;
        Ok(Poller {
            epoll,
            timer,
            waker,
        })
    }

    /// Watches `fd` for input, reported with `token`.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        self.epoll
            .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, token))
            .map_err(Into::into)
    }

    /// Fires the timer in `after` (at least a nanosecond: zero would disarm it).
    pub(crate) fn arm(&self, after: Duration) -> io::Result<()> {
        let after = after.max(Duration::from_nanos(1));
        self.timer
            .set(
                Expiration::OneShot(TimeSpec::from_duration(after)),
                TimerSetTimeFlags::empty(),
            )
            .map_err(Into::into)
    }

    /// Wakes the thread in [`Poller::wait`] (from any thread).
    pub(crate) fn wake(&self) {
        let _ = self.waker.write(1);
    }

    /// Waits for events (or, with `block` false, only looks); fills
    /// `tokens` with the ready ones. The timer and the waker are drained
    /// before they are reported.
    pub(crate) fn wait(&self, tokens: &mut Vec<u64>, block: bool) -> io::Result<()> {
        let mut events = [EpollEvent::empty(); 64];
        let timeout = if block {
            EpollTimeout::NONE
        } else {
            EpollTimeout::ZERO
        };
        let n = loop {
            match self.epoll.wait(&mut events, timeout) {
                Ok(n) => break n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        tokens.clear();
        for ev in &events[..n] {
            match ev.data() {
                TIMER => {
                    let _ = self.timer.wait();
                }
                WAKE => {
                    let _ = self.waker.read();
                }
                _ => {}
            }
            tokens.push(ev.data());
        }
        Ok(())
    }
}
