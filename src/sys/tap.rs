//! TAP devices: `/dev/net/tun` opened from a thread inside a node, so the
//! device is made in that node's namespace with the capabilities of the
//! namespace's user namespace (this works rootless). The device lives as
//! long as its file descriptor: closing it, or the process dying, removes
//! it.

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

/// `_IOW('T', 202, int)`.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
/// `_IOW('T', 218, unsigned int)`: the ifindex the next `TUNSETIFF` gives
/// the device.
const TUNSETIFINDEX: libc::c_ulong = 0x4004_54da;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

/// `struct ifreq` as `TUNSETIFF` reads it: the name, then the flags.
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Creates TAP device `name` with ifindex `index` in the calling thread's
/// namespace; the returned fd reads the frames the node sends through it
/// and writes frames the node receives. Non-blocking, close-on-exec.
pub(crate) fn create_tap(name: &str, index: u32) -> io::Result<OwnedFd> {
    if name.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: a NUL-terminated literal path; the result is checked.
    let raw = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let index = libc::c_uint::from(index);
    // SAFETY: TUNSETIFINDEX reads one unsigned int from the pointer, which
    // points to a live local.
    if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFINDEX, &index) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: IFF_TAP | IFF_NO_PI,
        _pad: [0; 22],
    };
    req.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: TUNSETIFF reads and writes a `struct ifreq`, which `IfReq`
    // lays out (40 bytes) and which lives across the call.
    if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Reads one frame into `buf`; `None` when none is waiting.
pub(crate) fn read_frame(fd: impl AsFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match nix::unistd::read(fd, buf) {
        Ok(n) => Ok(Some(n)),
        Err(nix::errno::Errno::EAGAIN) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes one frame; the node receives it on the device.
pub(crate) fn write_frame(fd: impl AsFd, frame: &[u8]) -> io::Result<()> {
    nix::unistd::write(fd, frame)
        .map(|_| ())
        .map_err(Into::into)
}
