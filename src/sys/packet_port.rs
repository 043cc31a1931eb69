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
    // Each frame carries the time the kernel received it, so a frame's
    // delay counts from when its node sent it, not from when the relay
    // woke up to read it.
    setsockopt(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one)?;
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

/// Room for one `SCM_TIMESTAMPNS` control message (`CMSG_SPACE` of a
/// `timespec`, with room to spare).
const CONTROL: usize = 64;

/// Frames received in one `recvmmsg`, each in a slot of its own, with the
/// time the kernel received each.
pub(crate) struct RecvBatch {
    data: Vec<u8>,
    slot: usize,
    lens: Vec<usize>,
    control: Vec<u64>,
    stamps: Vec<Option<std::time::Duration>>,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("slots", &self.lens.capacity())
            .field("slot", &self.slot)
            .finish()
    }
}

impl RecvBatch {
    /// Room for `slots` frames of up to `slot` bytes.
    pub(crate) fn new(slots: usize, slot: usize) -> Self {
        RecvBatch {
            data: vec![0; slots * slot],
            slot,
            lens: Vec::with_capacity(slots),
            control: vec![0; slots * CONTROL / 8],
            stamps: Vec::with_capacity(slots),
        }
    }

    /// Receives the frames waiting on `fd`, as many as there are slots;
    /// how many (0 when none is waiting).
    pub(crate) fn recv(&mut self, fd: impl AsFd) -> io::Result<usize> {
        let slots = self.data.len() / self.slot;
        let mut iovs: Vec<libc::iovec> = self
            .data
            .chunks_mut(self.slot)
            .map(|c| libc::iovec {
                iov_base: c.as_mut_ptr().cast(),
                iov_len: c.len(),
            })
            .collect();
        // SAFETY: all-zero is a valid `mmsghdr` (null name, no control).
        let mut msgs: Vec<libc::mmsghdr> =
            (0..slots).map(|_| unsafe { std::mem::zeroed() }).collect();
        let controls = self.control.chunks_mut(CONTROL / 8);
        for ((m, iov), ctl) in msgs.iter_mut().zip(iovs.iter_mut()).zip(controls) {
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            m.msg_hdr.msg_control = ctl.as_mut_ptr().cast();
            m.msg_hdr.msg_controllen = CONTROL;
        }
        // SAFETY: `msgs` holds `slots` headers, each pointing to one iovec
        // over its own part of `self.data` and to its own 8-byte aligned
        // part of `self.control`; all live across the call.
        let n = unsafe {
            libc::recvmmsg(
                fd.as_fd().as_raw_fd(),
                msgs.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        self.lens.clear();
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(0)
            } else {
                Err(e)
            };
        }
        self.lens
            .extend(msgs[..n as usize].iter().map(|m| m.msg_len as usize));
        self.stamps.clear();
        self.stamps
            .extend(msgs[..n as usize].iter().map(|m| timestamp(&m.msg_hdr)));
        Ok(n as usize)
    }

    /// When the kernel received frame `i` of the last `recv`, as time since
    /// the Unix epoch.
    pub(crate) fn received_at(&self, i: usize) -> Option<std::time::Duration> {
        self.stamps[i]
    }

    /// Frame `i` of the last `recv`.
    pub(crate) fn frame(&self, i: usize) -> &[u8] {
        let start = i * self.slot;
        &self.data[start..start + self.lens[i]]
    }
}

/// The `SCM_TIMESTAMPNS` of a received message, if it has one.
fn timestamp(hdr: &libc::msghdr) -> Option<std::time::Duration> {
    // SAFETY: `hdr` is a header the kernel filled in; the CMSG macros walk
    // its control buffer within `msg_controllen`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(hdr);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                return Some(std::time::Duration::new(
                    ts.tv_sec as u64,
                    ts.tv_nsec as u32,
                ));
            }
            c = libc::CMSG_NXTHDR(hdr, c);
        }
        None
    }
}

/// Sends `frames` out of `fd`'s interface in as few `sendmmsg` calls as it
/// takes; how many were sent (a frame the interface refuses, with the link
/// down say, is skipped).
pub(crate) fn send_frames(fd: impl AsFd, frames: &[&[u8]]) -> usize {
    let mut iovs: Vec<libc::iovec> = frames
        .iter()
        .map(|f| libc::iovec {
            iov_base: f.as_ptr() as *mut libc::c_void,
            iov_len: f.len(),
        })
        .collect();
    // SAFETY: all-zero is a valid `mmsghdr` (null name, no control).
    let mut msgs: Vec<libc::mmsghdr> = (0..frames.len())
        .map(|_| unsafe { std::mem::zeroed() })
        .collect();
    for (m, iov) in msgs.iter_mut().zip(iovs.iter_mut()) {
        m.msg_hdr.msg_iov = iov;
        m.msg_hdr.msg_iovlen = 1;
    }
    let (mut sent, mut ok) = (0, 0);
    while sent < msgs.len() {
        // SAFETY: the headers from `sent` on each point to one iovec over a
        // frame borrowed for the whole call; the kernel only reads them.
        let n = unsafe {
            libc::sendmmsg(
                fd.as_fd().as_raw_fd(),
                msgs[sent..].as_mut_ptr(),
                (msgs.len() - sent) as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if n <= 0 {
            // A frame the interface refuses: skip it, send the rest.
            sent += 1;
            continue;
        }
        sent += n as usize;
        ok += n as usize;
    }
    ok
}
