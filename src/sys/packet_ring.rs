//! A packet socket on one interface with a TPACKET_V3 receive ring: what
//! capture reads frames from.
//!
//! The socket is `AF_PACKET`/`SOCK_RAW` bound to one interface for every
//! protocol (`ETH_P_ALL`), opened in the calling thread's network namespace
//! (open it inside the node: it stays there). It sees frames in both
//! directions; outgoing ones carry `PACKET_OUTGOING` (on loopback, where
//! each frame is seen leaving and then arriving, only the arrival is
//! kept, as libpcap does). Its ring is
//! [`RING_BLOCKS`] blocks of [`BLOCK_SIZE`] bytes mapped into the process:
//! the kernel fills a block with frames (nanosecond timestamps), hands it
//! over when it is full or [`RETIRE_MS`] after its first frame, and waits
//! for the block back before it reuses it. A frame that finds every block
//! full is dropped and counted ([`PacketRing::drops`]).
//!
//! Needs CAP_NET_RAW over the namespace, which the owner of a user
//! namespace has: it works rootless.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

/// Bytes per block: room for a frame of 64 KiB (the largest GSO frame a
/// veth passes) with its headers.
pub(crate) const BLOCK_SIZE: usize = 1 << 17;
/// Blocks per ring: 4 MiB of kernel memory per captured interface. At low
/// rates each block is handed over after [`RETIRE_MS`] whatever it holds,
/// so the ring absorbs `RING_BLOCKS * RETIRE_MS` (128 ms) of a reader's
/// delay; at high rates, 4 MiB of frames.
pub(crate) const RING_BLOCKS: usize = 32;
/// How long the kernel keeps a partly filled block before handing it over
/// (also about how long reading the capture waits for the last frames).
pub(crate) const RETIRE_MS: u32 = 4;
/// The frame size the ring request names (V3 packs frames of any size into
/// blocks; the kernel only checks the arithmetic).
const FRAME_SIZE: usize = 2048;

const ETH_P_ALL: u16 = 0x0003;
/// Offsets in `struct tpacket_block_desc` (`linux/if_packet.h`).
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
/// Offsets in `struct tpacket3_hdr`, and of the `sockaddr_ll` after it.
const PKT_NEXT: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_STATUS: usize = 20;
const PKT_MAC: usize = 24;
/// `hv1.tp_vlan_tci` and `hv1.tp_vlan_tpid`.
const PKT_VLAN_TCI: usize = 32;
const PKT_VLAN_TPID: usize = 36;
/// `TP_STATUS_VLAN_VALID` and `TP_STATUS_VLAN_TPID_VALID`: the frame's
/// outer VLAN tag was taken off by the device (veths offload it) and is in
/// the header instead of the data.
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
/// `ETH_P_8021Q`: the tag protocol when the kernel does not name one.
const ETH_P_8021Q: u16 = 0x8100;
/// Destination and source MAC addresses: where a tag goes back in.
const MACS_LEN: usize = 12;
const PKT_HDR_LEN: usize = 48; // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
const SLL_PKTTYPE: usize = PKT_HDR_LEN + 10;

/// One frame in the ring, borrowed until the block goes back.
#[derive(Debug)]
pub(crate) struct RawFrame<'a> {
    /// Nanoseconds since the Unix epoch.
    pub(crate) ts_ns: u64,
    /// The frame's length on the wire.
    pub(crate) len: u32,
    /// Sent by the interface (`sll_pkttype` is `PACKET_OUTGOING`), else
    /// received.
    pub(crate) outgoing: bool,
    /// The bytes captured, from the link-layer header on, without the
    /// offloaded tag.
    pub(crate) data: &'a [u8],
    /// The offloaded outer VLAN tag (protocol and TCI, network order), if
    /// the device took one off.
    pub(crate) vlan: Option<[u8; 4]>,
}

impl RawFrame<'_> {
    /// The frame as it was on the wire: with its VLAN tag back after the
    /// MAC addresses, as libpcap shows it.
    pub(crate) fn to_wire_bytes(&self) -> Vec<u8> {
        match self.vlan {
            Some(tag) if self.data.len() >= MACS_LEN => {
                let mut out = Vec::with_capacity(self.data.len() + tag.len());
                out.extend_from_slice(&self.data[..MACS_LEN]);
                out.extend_from_slice(&tag);
                out.extend_from_slice(&self.data[MACS_LEN..]);
                out
            }
            _ => self.data.to_vec(),
        }
    }

    /// The frame's length on the wire, its VLAN tag included.
    pub(crate) fn wire_len(&self) -> u32 {
        match self.vlan {
            Some(tag) if self.data.len() >= MACS_LEN => self.len + tag.len() as u32,
            _ => self.len,
        }
    }
}

/// The offloaded VLAN tag of the frame whose `tpacket3_hdr` is `hdr`.
fn vlan_tag(hdr: &[u8]) -> Option<[u8; 4]> {
    let status = u32_at(hdr, PKT_STATUS)?;
    if status & TP_STATUS_VLAN_VALID == 0 {
        return None;
    }
    let tci = u32_at(hdr, PKT_VLAN_TCI)? as u16;
    let tpid = match status & TP_STATUS_VLAN_TPID_VALID {
        0 => ETH_P_8021Q,
        _ => u16::from_ne_bytes(hdr.get(PKT_VLAN_TPID..PKT_VLAN_TPID + 2)?.try_into().ok()?),
    };
    let [p0, p1] = tpid.to_be_bytes();
    let [t0, t1] = tci.to_be_bytes();
    Some([p0, p1, t0, t1])
}

/// A packet socket with its mapped TPACKET_V3 ring. Dropping it unmaps the
/// ring and closes the socket.
#[derive(Debug)]
pub(crate) struct PacketRing {
    fd: OwnedFd,
    map: NonNull<u8>,
    /// The block the kernel hands over next.
    next: usize,
    /// Frames the kernel dropped so far (ring full), summed over reads of
    /// `PACKET_STATISTICS`, which resets its counters.
    drops: u64,
    /// Leave out outgoing frames: on loopback, every frame is seen leaving
    /// and then arriving, and (as libpcap does) only the arrival is kept.
    skip_outgoing: bool,
}

// SAFETY: the mapping belongs to this value alone (no copy of the pointer
// leaves it) and is only touched through `&mut self` or atomics; moving it
// to another thread is as safe as moving the fd.
unsafe impl Send for PacketRing {}

fn last_error(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn setsockopt<T>(fd: &OwnedFd, opt: libc::c_int, value: &T, what: &str) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed; the kernel
    // only reads it.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            opt,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(last_error(what));
    }
    Ok(())
}

/// What capture needs to know of an interface before it opens a socket
/// on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IfaceInfo {
    /// The interface index.
    pub(crate) index: u32,
    /// The device type, an `ARPHRD_*` value: how its frames begin.
    pub(crate) hatype: u16,
}

/// Interface `ifname` of the calling thread's network namespace; `None`
/// if it has no interface of that name.
pub(crate) fn lookup_here(ifname: &str) -> io::Result<Option<IfaceInfo>> {
    if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ || ifname.contains('\0') {
        return Ok(None);
    }
    // SAFETY: plain socket(2); the result is checked.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(last_error("socket(AF_INET)"));
    }
    // SAFETY: `raw` is a new descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: `struct ifreq` is plain data; all zeros is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(ifname.bytes()) {
        *d = s as libc::c_char;
    }
    if !ifreq_ioctl(&sock, libc::SIOCGIFINDEX, &mut req, "SIOCGIFINDEX")? {
        return Ok(None);
    }
    // SAFETY: SIOCGIFINDEX wrote the union's `ifru_ifindex`.
    let index = unsafe { req.ifr_ifru.ifru_ifindex } as u32;
    if !ifreq_ioctl(&sock, libc::SIOCGIFHWADDR, &mut req, "SIOCGIFHWADDR")? {
        return Ok(None);
    }
    // SAFETY: SIOCGIFHWADDR wrote the union's `ifru_hwaddr`.
    let hatype = unsafe { req.ifr_ifru.ifru_hwaddr.sa_family };
    Ok(Some(IfaceInfo { index, hatype }))
}

/// Runs `request`, an interface ioctl that reads the name in `req` and
/// writes its union; `false` if there is no interface of that name.
fn ifreq_ioctl(
    sock: &OwnedFd,
    request: libc::c_ulong,
    req: &mut libc::ifreq,
    what: &str,
) -> io::Result<bool> {
    // SAFETY: `req` is a live `struct ifreq`, whose union is as large as
    // any the kernel writes for these requests.
    if unsafe { libc::ioctl(sock.as_raw_fd(), request, req as *mut libc::ifreq) } == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ENODEV) {
        return Ok(false);
    }
    Err(io::Error::new(e.kind(), format!("{what}: {e}")))
}

impl PacketRing {
    /// Opens a ring on interface `iface` of the calling thread's network
    /// namespace. On loopback, the ring hands over only the incoming copy
    /// of each frame.
    pub(crate) fn open_here(iface: IfaceInfo) -> io::Result<PacketRing> {
        let ifindex = iface.index;
        // Protocol 0: the socket receives nothing until it is bound below,
        // after its ring exists, so no frame of another interface slips in.
        // SAFETY: plain socket(2); the result is checked.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(last_error("socket(AF_PACKET)"));
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let version: libc::c_int = 2; // TPACKET_V3
        setsockopt(
            &fd,
            libc::PACKET_VERSION,
            &version,
            "PACKET_VERSION TPACKET_V3",
        )?;
        let req = [
            BLOCK_SIZE as u32,                              // tp_block_size
            RING_BLOCKS as u32,                             // tp_block_nr
            FRAME_SIZE as u32,                              // tp_frame_size
            (BLOCK_SIZE / FRAME_SIZE * RING_BLOCKS) as u32, // tp_frame_nr
            RETIRE_MS,                                      // tp_retire_blk_tov
            0,                                              // tp_sizeof_priv
            0,                                              // tp_feature_req_word
        ];
        setsockopt(&fd, libc::PACKET_RX_RING, &req, "PACKET_RX_RING")?;
        let len = BLOCK_SIZE * RING_BLOCKS;
        // SAFETY: maps the ring the kernel just allocated for this socket;
        // the result is checked, and unmapped only in `Drop`.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(last_error("mmap of the packet ring"));
        }
        let ring = PacketRing {
            fd,
            map: NonNull::new(map.cast()).ok_or_else(|| last_error("mmap"))?,
            next: 0,
            drops: 0,
            skip_outgoing: iface.hatype == libc::ARPHRD_LOOPBACK,
        };
        // SAFETY: sockaddr_ll is plain data; all zeros is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed.
        let r = unsafe {
            libc::bind(
                ring.fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(last_error(&format!("bind to interface index {ifindex}")));
        }
        Ok(ring)
    }

    /// The status word of block `i`, shared with the kernel.
    fn status(&self, i: usize) -> &AtomicU32 {
        // SAFETY: block `i` (< RING_BLOCKS) lies inside the mapping, which
        // lives as long as `self`; its status word is 4-aligned (the
        // mapping is page-aligned, BLOCK_SIZE and BLOCK_STATUS are
        // multiples of 4), and the kernel and this process only access it
        // atomically (the kernel with smp_wmb/smp_rmb around plain stores).
        unsafe {
            &*self
                .map
                .as_ptr()
                .add(i * BLOCK_SIZE + BLOCK_STATUS)
                .cast::<AtomicU32>()
        }
    }

    /// Whether the block the kernel hands over next still is the kernel's
    /// and holds frames (so frames are in flight: wait for its retirement).
    pub(crate) fn has_pending(&self) -> bool {
        if self.status(self.next).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0 {
            return true;
        }
        // SAFETY: in the mapping (see `status`); a racy read of a counter
        // the kernel writes, used as a hint only.
        let num = unsafe {
            std::ptr::read_volatile(
                self.map
                    .as_ptr()
                    .add(self.next * BLOCK_SIZE + BLOCK_NUM_PKTS)
                    .cast::<u32>(),
            )
        };
        num > 0
    }

    /// Hands every frame of the blocks the kernel has handed over to `f`,
    /// in order, and gives the blocks back. Returns the number of frames.
    pub(crate) fn drain(&mut self, mut f: impl FnMut(RawFrame<'_>)) -> usize {
        let mut frames = 0;
        loop {
            let i = self.next;
            if self.status(i).load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
                return frames;
            }
            // SAFETY: the block is ours until its status goes back to
            // TP_STATUS_KERNEL (the Acquire load above orders our reads
            // after the kernel's writes); it lies inside the mapping.
            let block = unsafe {
                std::slice::from_raw_parts(self.map.as_ptr().add(i * BLOCK_SIZE), BLOCK_SIZE)
            };
            frames += read_block(block, self.skip_outgoing, &mut f);
            self.status(i)
                .store(libc::TP_STATUS_KERNEL, Ordering::Release);
            self.next = (i + 1) % RING_BLOCKS;
        }
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`), if any.
    pub(crate) fn take_error(&self) -> Option<io::Error> {
        let mut err: libc::c_int = 0;
        let mut len = std::mem::size_of_val(&err) as libc::socklen_t;
        // SAFETY: `err` has room for `len` bytes, which the kernel writes.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        (r == 0 && err != 0).then(|| io::Error::from_raw_os_error(err))
    }

    /// Frames the kernel dropped so far because the ring was full.
    pub(crate) fn drops(&mut self) -> u64 {
        let mut stats = [0u32; 3]; // tpacket_stats_v3
        let mut len = std::mem::size_of_val(&stats) as libc::socklen_t;
        // SAFETY: `stats` has room for `len` bytes, which the kernel writes.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                stats.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if r == 0 {
            self.drops += u64::from(stats[1]);
        }
        self.drops
    }
}

/// Wakes a thread blocked in [`wait`] (an eventfd).
#[derive(Debug)]
pub(crate) struct Waker(nix::sys::eventfd::EventFd);

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        use nix::sys::eventfd::{EfdFlags, EventFd};
        EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map(Waker)
            .map_err(crate::error::errno)
    }

    /// Makes the next (or the current) [`wait`] return.
    pub(crate) fn wake(&self) {
        let _ = self.0.write(1);
    }
}

/// Blocks until a ring has a block to hand over, `waker` was woken, or
/// `timeout` (`None`: no limit) passed; clears the waker, and the pending
/// error of every ring that has one.
///
/// When its interface goes down (or away), the kernel sets `ENETDOWN` on
/// every packet socket bound to it, and poll reports `POLLERR` until the
/// error is read: it is read here, and dropped (the socket receives again
/// once the interface is back up).
pub(crate) fn wait(
    rings: &[&PacketRing],
    waker: &Waker,
    timeout: Option<std::time::Duration>,
) -> io::Result<()> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds: Vec<PollFd<'_>> = rings
        .iter()
        .map(|r| PollFd::new(r.as_fd(), PollFlags::POLLIN))
        .collect();
    fds.push(PollFd::new(waker.0.as_fd(), PollFlags::POLLIN));
    let timeout = match timeout {
        None => PollTimeout::NONE,
        Some(d) => PollTimeout::try_from(d).unwrap_or(PollTimeout::MAX),
    };
    match poll(&mut fds, timeout) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(crate::error::errno(e)),
    }
    for (ring, fd) in rings.iter().zip(&fds) {
        if fd.revents().is_some_and(|r| r.contains(PollFlags::POLLERR)) {
            ring.take_error();
        }
    }
    let _ = waker.0.read();
    Ok(())
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads the frames of one block, checking every offset the kernel wrote
/// against the block's bounds, leaving out outgoing frames if
/// `skip_outgoing`. Returns the number of frames handed to `f`.
fn read_block(block: &[u8], skip_outgoing: bool, f: &mut impl FnMut(RawFrame<'_>)) -> usize {
    let num = u32_at(block, BLOCK_NUM_PKTS).unwrap_or(0);
    let mut off = u32_at(block, BLOCK_FIRST_PKT).unwrap_or(0) as usize;
    let mut read = 0;
    for _ in 0..num {
        let Some(hdr) = block.get(off..off + PKT_HDR_LEN + 12) else {
            break;
        };
        let field = |at| u32_at(hdr, at).unwrap_or(0);
        let mac = usize::from(u16::from_ne_bytes([hdr[PKT_MAC], hdr[PKT_MAC + 1]]));
        let snaplen = field(PKT_SNAPLEN) as usize;
        let Some(data) = block.get(off + mac..off + mac + snaplen) else {
            break;
        };
        let outgoing = hdr[SLL_PKTTYPE] == libc::PACKET_OUTGOING;
        if !(outgoing && skip_outgoing) {
            f(RawFrame {
                ts_ns: u64::from(field(PKT_SEC)) * 1_000_000_000 + u64::from(field(PKT_NSEC)),
                len: field(PKT_LEN),
                outgoing,
                data,
                vlan: vlan_tag(hdr),
            });
            read += 1;
        }
        let next = field(PKT_NEXT) as usize;
        if next == 0 {
            break;
        }
        off += next;
    }
    read
}

impl AsFd for PacketRing {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for PacketRing {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `open_here`, of that length; no
        // borrow of it outlives `&mut self`.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), BLOCK_SIZE * RING_BLOCKS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block as the kernel lays it out, with two frames.
    #[test]
    fn reads_a_block_and_stops_at_bad_offsets() {
        let mut block = vec![0u8; 4096];
        let put =
            |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        put(&mut block, BLOCK_NUM_PKTS, 2);
        put(&mut block, BLOCK_FIRST_PKT, 48);
        for (i, off) in [48usize, 48 + 160].into_iter().enumerate() {
            put(&mut block, off + PKT_NEXT, if i == 0 { 160 } else { 0 });
            put(&mut block, off + PKT_SEC, 7);
            put(&mut block, off + PKT_NSEC, 5);
            put(&mut block, off + PKT_SNAPLEN, 60);
            put(&mut block, off + PKT_LEN, 60 + i as u32);
            block[off + PKT_MAC..off + PKT_MAC + 2].copy_from_slice(&80u16.to_ne_bytes());
            block[off + SLL_PKTTYPE] = if i == 0 { 4 } else { 0 };
            block[off + 80] = 0xab + i as u8;
        }
        let mut seen = Vec::new();
        let n = read_block(&block, false, &mut |f: RawFrame<'_>| {
            seen.push((f.ts_ns, f.len, f.outgoing, f.data.len(), f.data[0]))
        });
        assert_eq!(n, 2);
        assert_eq!(
            seen,
            [
                (7_000_000_005, 60, true, 60, 0xab),
                (7_000_000_005, 61, false, 60, 0xac)
            ]
        );
        // On loopback the outgoing copy is left out.
        let mut incoming = Vec::new();
        let n = read_block(&block, true, &mut |f: RawFrame<'_>| {
            incoming.push(f.data[0])
        });
        assert_eq!((n, incoming), (1, vec![0xac]));
        // A frame whose data runs past the block is not read.
        put(&mut block, 48 + 160 + PKT_SNAPLEN, 1 << 20);
        assert_eq!(read_block(&block, false, &mut |_| {}), 1);
    }
}
