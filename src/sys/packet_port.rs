//! The relay's ports: a packet socket bound to one interface of the lab's
//! wire hub namespace. It receives every frame that arrives on the
//! interface (what the node at the other end of its veth pair sent), never
//! the frames it sends itself, and sends frames out of the interface to
//! that node. Opened from a thread inside the hub, with the capabilities of
//! the hub's user namespace (so it works rootless, where `/dev/net/tun` may
//! not be open to the user).

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

/// The receive buffer asked for: frames wait here while the relay is busy
/// (as root it is forced; otherwise the kernel caps it at
/// `net.core.rmem_max`).
const RECEIVE_BUFFER: libc::c_int = 4 << 20;

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, opt: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A non-blocking packet socket on interface `ifindex` of the calling
/// thread's namespace.
pub(crate) fn open_port(ifindex: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked. Protocol 0: nothing is
    // received until the bind below names the interface.
    let raw = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let one: libc::c_int = 1;
    setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one)?;
    setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &one)?;
    if setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RECEIVE_BUFFER).is_err() {
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &RECEIVE_BUFFER)?;
    }
    // SAFETY: all-zero is a valid `sockaddr_ll`.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex as i32;
    // SAFETY: `addr` is a live `sockaddr_ll` of the size passed.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Receives one frame into `buf`; `None` when none is waiting.
pub(crate) fn recv_frame(fd: impl AsFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match nix::sys::socket::recv(
        fd.as_fd().as_raw_fd(),
        buf,
        nix::sys::socket::MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(n) => Ok(Some(n)),
        Err(nix::errno::Errno::EAGAIN) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Sends one frame out of the port's interface.
pub(crate) fn send_frame(fd: impl AsFd, frame: &[u8]) -> io::Result<()> {
    nix::sys::socket::send(
        fd.as_fd().as_raw_fd(),
        frame,
        nix::sys::socket::MsgFlags::MSG_DONTWAIT,
    )
    .map(|_| ())
    .map_err(Into::into)
}
