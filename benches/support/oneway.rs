//! One-way trips timed by the kernel at both ends.
//!
//! The sender's UDP socket asks for software transmit timestamps
//! (`SO_TIMESTAMPING` with `SOF_TIMESTAMPING_TX_SOFTWARE`): the kernel
//! stamps the datagram when n1's device hands it on and returns the stamp
//! on the socket's error queue. The receiver's socket asks for software
//! receive timestamps: the kernel stamps the frame when it enters n2's
//! stack. The difference is the time the frame spent between the two
//! nodes, which is what a wire's delay acts on; when either process
//! thread gets the CPU afterwards does not count.

use std::io::IoSliceMut;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netns_test::Net;

use super::bind_in;
use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage, TimestampingFlag,
};
use nix::sys::time::TimeSpec;

/// Binds the two sockets inside n2 and n1 and turns their timestamps on.
fn sockets(net: &Net) -> Result<(UdpSocket, UdpSocket), String> {
    let rx = bind_in(net, "n2", "198.51.100.2:9")?;
    let tx = bind_in(net, "n1", "198.51.100.1:0")?;
    rx.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let rx_flags = TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
        | TimestampingFlag::SOF_TIMESTAMPING_RX_SOFTWARE;
    setsockopt(&rx, sockopt::Timestamping, &rx_flags).map_err(|e| e.to_string())?;
    let tx_flags = TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
        | TimestampingFlag::SOF_TIMESTAMPING_TX_SOFTWARE
        | TimestampingFlag::SOF_TIMESTAMPING_OPT_TSONLY;
    setsockopt(&tx, sockopt::Timestamping, &tx_flags).map_err(|e| e.to_string())?;
    Ok((rx, tx))
}

/// The software timestamp among a message's control messages.
fn stamp(mut cmsgs: impl Iterator<Item = ControlMessageOwned>) -> Option<TimeSpec> {
    cmsgs.find_map(|c| match c {
        ControlMessageOwned::ScmTimestampsns(t) => Some(t.system),
        _ => None,
    })
}

fn nanos(t: TimeSpec) -> u64 {
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// The transmit stamp of the datagram just sent, from the error queue.
fn tx_stamp(tx: &UdpSocket) -> Result<TimeSpec, String> {
    let mut cmsg = nix::cmsg_space!(
        nix::sys::socket::Timestamps,
        nix::libc::sock_extended_err,
        nix::libc::sockaddr_in
    );
    let mut buf = [0u8; 64];
    for _ in 0..200_000 {
        let mut iov = [IoSliceMut::new(&mut buf)];
        match recvmsg::<SockaddrStorage>(
            tx.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(msg) => {
                let cmsgs = msg.cmsgs().map_err(|e| e.to_string())?;
                if let Some(t) = stamp(cmsgs) {
                    return Ok(t);
                }
            }
            Err(nix::errno::Errno::EAGAIN) => std::thread::yield_now(),
            Err(e) => return Err(format!("reading the transmit stamp: {e}")),
        }
    }
    Err("no transmit timestamp came back".into())
}

/// The receive stamp of the next datagram.
fn rx_stamp(rx: &UdpSocket) -> Result<TimeSpec, String> {
    let mut cmsg = nix::cmsg_space!(nix::sys::socket::Timestamps);
    let mut buf = [0u8; 64];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg =
        recvmsg::<SockaddrStorage>(rx.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::empty())
            .map_err(|e| format!("a datagram was lost ({e})"))?;
    let cmsgs = msg.cmsgs().map_err(|e| e.to_string())?;
    stamp(cmsgs).ok_or_else(|| "no receive timestamp".to_string())
}

/// `n` one-way trips n1 → n2 of 64-byte datagrams, one at a time, each
/// from n1's transmit stamp to n2's receive stamp.
pub(crate) fn trips(net: &Net, n: usize) -> Result<Vec<Duration>, String> {
    let (rx, tx) = sockets(net)?;
    let mut out = Vec::with_capacity(n);
    let buf = [0u8; 64];
    for i in 0..n + 10 {
        tx.send_to(&buf, "198.51.100.2:9")
            .map_err(|e| e.to_string())?;
        let sent = tx_stamp(&tx)?;
        let got = rx_stamp(&rx)?;
        if i >= 10 {
            let d = nanos(got)
                .checked_sub(nanos(sent))
                .map(Duration::from_nanos)
                .ok_or("a receive stamp before its transmit stamp")?;
            out.push(d);
        }
    }
    Ok(out)
}
