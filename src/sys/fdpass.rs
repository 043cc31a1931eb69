//! Passing file descriptors over a Unix stream socket (`SCM_RIGHTS`): how
//! `netns-test exec` hands its terminal to a program that the process
//! holding a lab starts in a node.

use std::io::{self, IoSlice};
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

/// Sends `data` and the descriptors `fds` in one message.
pub(crate) fn send_with_fds(sock: &UnixStream, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let iov = [IoSlice::new(data)];
    let cmsg = [ControlMessage::ScmRights(fds)];
    let sent = sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)
        .map_err(crate::error::errno)?;
    if sent != data.len() {
        return Err(io::Error::other("the message was sent in part"));
    }
    Ok(())
}

/// The most descriptors one message may carry (`SCM_MAX_FD`); the kernel
/// refuses to send more, and one read of a stream socket takes those of
/// one message at most.
const SCM_MAX_FD: usize = 253;

/// `CMSG_ALIGN`: where control messages and their data start.
const fn cmsg_align(len: usize) -> usize {
    (len + size_of::<usize>() - 1) & !(size_of::<usize>() - 1)
}

/// The length of a control message's header, padding included.
const HEADER: usize = cmsg_align(size_of::<libc::cmsghdr>());

/// Room for the control messages of one read: one of [`SCM_MAX_FD`]
/// descriptors (`CMSG_SPACE`), so that descriptors never cut it short.
#[repr(C, align(8))]
struct Control([u8; HEADER + cmsg_align(SCM_MAX_FD * size_of::<RawFd>())]);

/// Receives one message into `buf` and the descriptors that came with it,
/// owned. When the control messages did not fit (`MSG_CTRUNC`), an error,
/// and the descriptors that did come are closed.
pub(crate) fn recv_with_fds(
    sock: &UnixStream,
    buf: &mut [u8],
) -> io::Result<(usize, Vec<OwnedFd>)> {
    let mut control = Control([0; size_of::<Control>()]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `msghdr` is integers and raw pointers (and padding on some
    // C libraries), for which all zeros is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = control.0.len() as _;
    // SAFETY: `msg` points at one iovec over `buf` (writable for
    // `buf.len()` bytes) and at `control` (writable for `msg_controllen`
    // bytes, aligned for `cmsghdr`); all three outlive the call, and the
    // kernel writes nothing else.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let filled = (msg.msg_controllen as usize).min(control.0.len());
    let fds = rights(&control.0[..filled]);
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(io::Error::other(format!(
            "control messages cut short ({} descriptors came, now closed)",
            fds.len()
        )));
    }
    Ok((n as usize, fds))
}

/// The descriptors of the `SCM_RIGHTS` messages among the control messages
/// `control` that `recvmsg(2)` wrote.
fn rights(control: &[u8]) -> Vec<OwnedFd> {
    let mut fds = Vec::new();
    let mut at = 0;
    while at + HEADER <= control.len() {
        // SAFETY: `control[at..]` has at least `HEADER` bytes, as many as
        // a `cmsghdr` or more; a `cmsghdr` is integers, valid for any bits;
        // the read is unaligned.
        let head = unsafe {
            control[at..]
                .as_ptr()
                .cast::<libc::cmsghdr>()
                .read_unaligned()
        };
        // A `size_t` in glibc, a `socklen_t` in musl.
        #[allow(clippy::unnecessary_cast)]
        let len = head.cmsg_len as usize;
        if len < HEADER || len > control.len() - at {
            break;
        }
        if head.cmsg_level == libc::SOL_SOCKET && head.cmsg_type == libc::SCM_RIGHTS {
            for raw in control[at + HEADER..at + len].chunks_exact(size_of::<RawFd>()) {
                let fd = RawFd::from_ne_bytes(raw.try_into().expect("chunks of an fd's size"));
                // SAFETY: the kernel installed `fd` in this process for
                // this message (its length counts only the descriptors
                // installed); nothing else owns it.
                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
        at += cmsg_align(len);
    }
    fds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_descriptors_a_message_may_carry_come_whole() {
        let (a, b) = UnixStream::pair().unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        let fds = vec![null.as_raw_fd(); SCM_MAX_FD];
        send_with_fds(&a, b"x", &fds).unwrap();
        let mut buf = [0u8; 4];
        let (n, got) = recv_with_fds(&b, &mut buf).unwrap();
        assert_eq!((n, got.len()), (1, SCM_MAX_FD));
    }
}
