//! Socket options that neither std, socket2 nor nix set on Linux: the
//! kernel-side type filters of raw ICMP sockets (`ICMP_FILTER`,
//! `ICMP6_FILTER`), so a probe only wakes for the messages it reads, and
//! path-MTU discovery in "do" mode (the don't-fragment bit).

use std::io;
use std::os::fd::AsRawFd;

/// `SOL_RAW` and `ICMP_FILTER` of `<linux/icmp.h>`.
const SOL_RAW: libc::c_int = 255;
const ICMP_FILTER: libc::c_int = 1;
/// `ICMP6_FILTER` of `<netinet/icmp6.h>` (level `IPPROTO_ICMPV6`).
const ICMP6_FILTER: libc::c_int = 1;

/// Lets only ICMPv4 messages of the types in `pass` reach `sock`.
pub(crate) fn pass_only_v4(sock: &impl AsRawFd, pass: &[u8]) -> io::Result<()> {
    // A set bit blocks the type; types above 31 are always passed.
    let filt: u32 = !pass
        .iter()
        .filter(|t| **t < 32)
        .fold(0u32, |m, t| m | (1u32 << t));
    // SAFETY: `filt` is a live `struct icmp_filter` (one u32) and the
    // length passed is its size; the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            SOL_RAW,
            ICMP_FILTER,
            (&filt as *const u32).cast(),
            std::mem::size_of::<u32>() as libc::socklen_t,
        )
    };
    check(rc)
}

/// Lets only ICMPv6 messages of the types in `pass` reach `sock`.
pub(crate) fn pass_only_v6(sock: &impl AsRawFd, pass: &[u8]) -> io::Result<()> {
    // A set bit blocks the type.
    let mut filt = [u32::MAX; 8];
    for t in pass {
        filt[usize::from(t >> 5)] &= !(1u32 << (t & 31));
    }
    // SAFETY: `filt` is a live `struct icmp6_filter` (eight u32) and the
    // length passed is its size; the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_ICMPV6,
            ICMP6_FILTER,
            filt.as_ptr().cast(),
            std::mem::size_of_val(&filt) as libc::socklen_t,
        )
    };
    check(rc)
}

/// Sets `IP_MTU_DISCOVER` (or `IPV6_MTU_DISCOVER`) to `PMTUDISC_DO`: the
/// kernel never fragments what `sock` sends, and a datagram above the path
/// MTU fails with `EMSGSIZE` (iputils `ping -M do`).
pub(crate) fn forbid_fragmentation(sock: &impl AsRawFd, is_v6: bool) -> io::Result<()> {
    let (level, name, value) = if is_v6 {
        (
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DO,
        )
    } else {
        (
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_DO,
        )
    };
    // SAFETY: `value` is a live c_int and the length passed is its size;
    // the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    check(rc)
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
