//! Closing every fd of a forked child but a few, with async-signal-safe
//! system calls only: `close_range`, and where it fails (ENOSYS before
//! Linux 5.9, EPERM under a seccomp profile that predates it) the fds
//! listed in `/proc/self/fd`, or, without `/proc`, every fd below the
//! open-file limit.

use std::os::raw::c_int;

/// Room for the `/proc/self/fd` entries one `getdents64` returns.
const DIRENT_BUF: usize = 4096;

/// The buffer `getdents64` fills: 8-byte aligned, as the records are.
#[repr(C, align(8))]
struct DirentBuf([u8; DIRENT_BUF]);

/// Closes every fd from 3 up but those in `keep`.
///
/// # Safety
/// Async-signal-safe; call only in a forked child that owns its fds and
/// uses none of those it closes afterwards.
pub(crate) unsafe fn close_from_3_except(keep: [c_int; 2]) {
    let (a, b) = (keep[0].min(keep[1]) as u32, keep[0].max(keep[1]) as u32);
    let mut refused = false;
    for (from, to) in [
        (3, a.wrapping_sub(1)),
        (a + 1, b.wrapping_sub(1)),
        (b + 1, u32::MAX),
    ] {
        // SAFETY: close_range(2) is a system call on this process's own
        // fd table; the caller owns every fd in the range.
        if from <= to && unsafe { libc::syscall(libc::SYS_close_range, from, to, 0u32) } != 0 {
            refused = true;
        }
    }
    if refused {
        // SAFETY: the caller's contract, passed on.
        unsafe {
            if !close_listed(keep) {
                close_below_limit(keep);
            }
        }
    }
}

/// Closes the fds from 3 up that `/proc/self/fd` lists, but those in
/// `keep`; false when the directory cannot be read.
///
/// # Safety
/// As [`close_from_3_except`].
unsafe fn close_listed(keep: [c_int; 2]) -> bool {
    // SAFETY: open(2) of a NUL-terminated literal path.
    let dir = unsafe {
        libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if dir < 0 {
        return false;
    }
    let mut buf = DirentBuf([0; DIRENT_BUF]);
    loop {
        // SAFETY: getdents64(2) writes at most `DIRENT_BUF` bytes into
        // `buf`, which lives across the call.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, dir, buf.0.as_mut_ptr(), DIRENT_BUF) };
        if n <= 0 {
            // SAFETY: `dir` is the fd opened above.
            unsafe { libc::close(dir) };
            return n == 0;
        }
        // `/proc/self/fd` lists fds in increasing order and resumes after
        // the last one listed, so closing them as they come skips none.
        for fd in listed_fds(&buf.0[..n as usize]) {
            if fd >= 3 && fd != dir && !keep.contains(&fd) {
                // SAFETY: close(2) of an fd the caller owns and gave up.
                unsafe { libc::close(fd) };
            }
        }
    }
}

/// The fd numbers named by the `linux_dirent64` records in `records`
/// (`.` and `..` name none).
fn listed_fds(records: &[u8]) -> impl Iterator<Item = c_int> + '_ {
    // Record layout: d_ino (8), d_off (8), d_reclen (2), d_type (1), then
    // the NUL-terminated name.
    const RECLEN: usize = 16;
    const NAME: usize = 19;
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let rec = records.get(at..)?;
        let reclen = usize::from(u16::from_ne_bytes([
            *rec.get(RECLEN)?,
            *rec.get(RECLEN + 1)?,
        ]));
        if reclen == 0 {
            return None;
        }
        at += reclen;
        let name = rec.get(NAME..reclen)?;
        if let Some(fd) = parse_fd(name) {
            return Some(fd);
        }
    })
}

/// The decimal number a NUL-terminated name spells, if it is one.
fn parse_fd(name: &[u8]) -> Option<c_int> {
    let digits = name.split(|&c| c == 0).next()?;
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0, |n: c_int, &c| {
        if c.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(c_int::from(c - b'0'))
        } else {
            None
        }
    })
}

/// Closes every fd from 3 up to the soft open-file limit, but those in
/// `keep`.
///
/// # Safety
/// As [`close_from_3_except`].
unsafe fn close_below_limit(keep: [c_int; 2]) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit64(2) of this process (pid 0) reads the limit into
    // `limit`, which lives across the call; no new limit is passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_prlimit64,
            0,
            libc::RLIMIT_NOFILE,
            std::ptr::null::<libc::rlimit>(),
            &mut limit as *mut libc::rlimit,
        )
    };
    // No fd is above `fs.nr_open`, 2^20 unless an administrator raised
    // it; a soft limit of 10^9 (some containers) would take minutes.
    let nr_open = 1 << 20;
    let end = if r == 0 {
        c_int::try_from(limit.rlim_cur).map_or(nr_open, |n| n.min(nr_open))
    } else {
        nr_open
    };
    for fd in 3..end {
        if !keep.contains(&fd) {
            // SAFETY: close(2) of an fd the caller owns and gave up (or of
            // none: EBADF).
            unsafe { libc::close(fd) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `linux_dirent64` record for `name`, padded to 8 bytes.
    fn record(name: &str) -> Vec<u8> {
        let len = (19 + name.len() + 1).next_multiple_of(8);
        let mut r = vec![0u8; len];
        r[16..18].copy_from_slice(&(len as u16).to_ne_bytes());
        r[19..19 + name.len()].copy_from_slice(name.as_bytes());
        r
    }

    #[test]
    fn the_listed_fds_are_read_from_dirent_records() {
        let mut records = Vec::new();
        for name in [".", "..", "0", "7", "12345", "x1"] {
            records.extend(record(name));
        }
        assert_eq!(listed_fds(&records).collect::<Vec<_>>(), [0, 7, 12345]);
        // A record cut short ends the list.
        assert_eq!(
            listed_fds(&records[..records.len() - 30]).collect::<Vec<_>>(),
            [0, 7]
        );
    }

    #[test]
    fn fd_names_are_decimal_numbers_only() {
        assert_eq!(parse_fd(b"42\0\0\0"), Some(42));
        assert_eq!(parse_fd(b"\0"), None);
        assert_eq!(parse_fd(b"4a\0"), None);
        assert_eq!(parse_fd(b"99999999999\0"), None);
    }
}
