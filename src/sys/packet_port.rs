//! The relay's ports: a packet socket bound to one interface of the lab's
//! wire hub namespace. It receives every frame that arrives on the
//! interface (what the node at the other end of its veth pair sent), never
//! the frames it sends itself, and sends frames out of the interface to
//! that node. Opened from a thread inside the hub, with the capabilities of
//! the hub's user namespace (so it works rootless, where `/dev/net/tun` may
//! not be open to the user).
//!
//! A veth takes the outer 802.1Q tag of a frame it receives off the data
//! into the packet's metadata, before any packet socket sees it; a port
//! asks for that metadata (`PACKET_AUXDATA`) and puts the tag back after
//! the MAC addresses, so a frame crosses a wire with its tag, as it
//! crosses a veth pair.

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
    // Each frame carries its offloaded VLAN tag, if it had one.
    setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_AUXDATA, &one)?;
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

/// Room for the control messages of one frame: its `SCM_TIMESTAMPNS` and
/// its `PACKET_AUXDATA`.
// SAFETY: CMSG_SPACE only computes a length.
const CONTROL: usize = unsafe {
    libc::CMSG_SPACE(std::mem::size_of::<libc::timespec>() as libc::c_uint)
        + libc::CMSG_SPACE(std::mem::size_of::<libc::tpacket_auxdata>() as libc::c_uint)
}
.next_multiple_of(8) as usize;

/// The length of an 802.1Q tag (protocol and TCI).
const TAG: usize = 4;
/// Destination and source MAC addresses: where a tag goes back in.
const MACS: usize = 12;
/// `ETH_P_8021Q`: the tag protocol when the kernel does not name one.
const ETH_P_8021Q: u16 = 0x8100;

/// Frames received in one `recvmmsg`, each in a slot of its own, with the
/// time the kernel received each and its offloaded VLAN tag put back.
///
/// Each frame is received [`TAG`] bytes into its slot; a frame that came
/// with a tag in its metadata then has its MAC addresses moved to the
/// front of the slot and the tag written after them.
pub(crate) struct RecvBatch {
    data: Vec<u8>,
    slot: usize,
    /// Where each frame starts in its slot, and its length.
    frames: Vec<(usize, usize)>,
    control: Vec<u64>,
    stamps: Vec<Option<std::time::Duration>>,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("slots", &self.frames.capacity())
            .field("slot", &self.slot)
            .finish()
    }
}

impl RecvBatch {
    /// Room for `slots` frames of up to `slot` bytes, each with its VLAN
    /// tag (so the kernel hands over frames of up to `slot - 4` bytes).
    pub(crate) fn new(slots: usize, slot: usize) -> Self {
        assert!(slot > TAG, "a slot of {slot} bytes");
        RecvBatch {
            data: vec![0; slots * slot],
            slot,
            frames: Vec::with_capacity(slots),
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
                iov_base: c[TAG..].as_mut_ptr().cast(),
                iov_len: c.len() - TAG,
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
        self.frames.clear();
        self.stamps.clear();
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(0)
            } else {
                Err(e)
            };
        }
        for (i, m) in msgs[..n as usize].iter().enumerate() {
            let (stamp, tag) = control_data(&m.msg_hdr);
            self.stamps.push(stamp);
            let slot = &mut self.data[i * self.slot..(i + 1) * self.slot];
            let frame = put_back_tag(slot, m.msg_len as usize, tag);
            self.frames.push(frame);
        }
        Ok(n as usize)
    }

    /// When the kernel received frame `i` of the last `recv`, as time since
    /// the Unix epoch.
    pub(crate) fn received_at(&self, i: usize) -> Option<std::time::Duration> {
        self.stamps[i]
    }

    /// Frame `i` of the last `recv`.
    pub(crate) fn frame(&self, i: usize) -> &[u8] {
        let (start, len) = self.frames[i];
        let at = i * self.slot + start;
        &self.data[at..at + len]
    }
}

/// In `slot`, which holds a frame of `len` bytes from [`TAG`] on: puts
/// `tag` back after the frame's MAC addresses (moving them to the front of
/// the slot). Where the frame starts in the slot, and its length.
fn put_back_tag(slot: &mut [u8], len: usize, tag: Option<[u8; TAG]>) -> (usize, usize) {
    match tag {
        Some(tag) if len >= MACS => {
            slot.copy_within(TAG..TAG + MACS, 0);
            slot[MACS..MACS + TAG].copy_from_slice(&tag);
            (0, len + TAG)
        }
        _ => (TAG, len),
    }
}

/// The `SCM_TIMESTAMPNS` of a received message and the VLAN tag its
/// `PACKET_AUXDATA` says the device took off (protocol and TCI, network
/// order), each if it has one.
fn control_data(hdr: &libc::msghdr) -> (Option<std::time::Duration>, Option<[u8; TAG]>) {
    let (mut stamp, mut tag) = (None, None);
    // SAFETY: `hdr` is a header the kernel filled in; the CMSG macros walk
    // its control buffer within `msg_controllen`, and each payload read is
    // of the type its level and type say it holds.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(hdr);
        while !c.is_null() {
            match ((*c).cmsg_level, (*c).cmsg_type) {
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                    stamp = Some(std::time::Duration::new(
                        ts.tv_sec as u64,
                        ts.tv_nsec as u32,
                    ));
                }
                (libc::SOL_PACKET, libc::PACKET_AUXDATA) => {
                    let aux = std::ptr::read_unaligned(
                        libc::CMSG_DATA(c).cast::<libc::tpacket_auxdata>(),
                    );
                    tag = vlan_tag(&aux);
                }
                _ => {}
            }
            c = libc::CMSG_NXTHDR(hdr, c);
        }
    }
    (stamp, tag)
}

/// The tag the device took off a frame, from its auxiliary data.
fn vlan_tag(aux: &libc::tpacket_auxdata) -> Option<[u8; TAG]> {
    if aux.tp_status & libc::TP_STATUS_VLAN_VALID == 0 {
        return None;
    }
    let tpid = if aux.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
        aux.tp_vlan_tpid
    } else {
        ETH_P_8021Q
    };
    let [p0, p1] = tpid.to_be_bytes();
    let [t0, t1] = aux.tp_vlan_tci.to_be_bytes();
    Some([p0, p1, t0, t1])
}

/// Sends `frames` out of `fd`'s interface in as few `sendmmsg` calls as it
/// takes; which were sent (a frame the interface refuses, with the link
/// down say, is skipped).
pub(crate) fn send_frames(fd: impl AsFd, frames: &[&[u8]]) -> Vec<bool> {
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
    let mut sent = 0;
    let mut ok = vec![false; msgs.len()];
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
        ok[sent..sent + n as usize].fill(true);
        sent += n as usize;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aux(status: u32, tci: u16, tpid: u16) -> libc::tpacket_auxdata {
        libc::tpacket_auxdata {
            tp_status: status,
            tp_len: 0,
            tp_snaplen: 0,
            tp_mac: 0,
            tp_net: 0,
            tp_vlan_tci: tci,
            tp_vlan_tpid: tpid,
        }
    }

    #[test]
    fn the_tag_comes_from_the_auxiliary_data() {
        use libc::{TP_STATUS_VLAN_TPID_VALID as TPID, TP_STATUS_VLAN_VALID as VLAN};
        assert_eq!(vlan_tag(&aux(0, 0x6064, 0x8100)), None);
        assert_eq!(vlan_tag(&aux(VLAN, 0x6064, 0)), Some([0x81, 0, 0x60, 0x64]));
        assert_eq!(
            vlan_tag(&aux(VLAN | TPID, 0x0005, 0x88a8)),
            Some([0x88, 0xa8, 0, 5])
        );
    }

    #[test]
    fn the_tag_goes_back_after_the_mac_addresses() {
        let frame: Vec<u8> = (1..=20).collect();
        let mut slot = vec![0u8; TAG + frame.len()];
        slot[TAG..].copy_from_slice(&frame);
        let (start, len) = put_back_tag(&mut slot, frame.len(), Some([0x81, 0, 0, 7]));
        let mut want = frame[..MACS].to_vec();
        want.extend([0x81, 0, 0, 7]);
        want.extend(&frame[MACS..]);
        assert_eq!(&slot[start..start + len], want);
        // Untagged, or too short to hold the addresses: as received.
        let mut slot = vec![0u8; TAG + frame.len()];
        slot[TAG..].copy_from_slice(&frame);
        let (start, len) = put_back_tag(&mut slot, frame.len(), None);
        assert_eq!(&slot[start..start + len], frame);
        let (start, len) = put_back_tag(&mut slot, 6, Some([0x81, 0, 0, 7]));
        assert_eq!(&slot[start..start + len], &frame[..6]);
    }

    /// A frame the interface refuses in the middle of a batch is the one
    /// reported unsent; those after it are sent.
    #[test]
    fn send_frames_says_which_frames_went() {
        let net = crate::Net::build(&crate::Topology::new().link(
            ("n1", "eth0", "198.51.100.1/24"),
            ("n2", "eth0", "198.51.100.2/24"),
        ))
        .unwrap();
        let frame = |len: usize| {
            let mut f = vec![0xff; 6];
            f.extend([0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5]);
            f.resize(len, 0);
            f
        };
        let (small, big) = (frame(60), frame(3000));
        let sent = net["n1"]
            .run(move || {
                let index = nix::net::if_::if_nametoindex("eth0")?;
                let port = open_port(index)?;
                Ok::<_, io::Error>(send_frames(&port, &[&small, &big, &small]))
            })
            .unwrap()
            .unwrap();
        assert_eq!(sent, [true, false, true]);
    }
}
