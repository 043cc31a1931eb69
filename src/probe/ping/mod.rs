//! ICMP echo (ping) over IPv4 and IPv6, with an iputils-style report.

mod options;
mod report;
#[cfg(test)]
mod tests;

use super::sock::{self, IcmpSocket};
use super::ProbeError;
use crate::packet::icmp::{self, Incoming, Quoted};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

pub use options::*;
pub use report::*;

/// Sends ICMP echo requests to `dst` from the calling thread's namespace and
/// reports the replies, like iputils `ping`.
///
/// The calling thread must be inside a namespace this process created (enter
/// a node first); otherwise [`ProbeError::ForeignNamespace`]. Requests go out
/// at `interval`; the run ends when every request is answered (by a reply or
/// an ICMP error), or has waited `timeout`, or at the `deadline`. Lost
/// requests are a result ([`PingReport::loss_percent`]), not an error.
///
/// ```no_run
/// use netns_test::probe::{self, PingOptions};
/// # let ns = netns_test::NetNs::new("lab")?;
/// let report = ns.run(|| probe::ping("198.51.100.2".parse().unwrap(), &PingOptions::new().count(3)))??;
/// assert_eq!(report.received, 3);
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ping(dst: IpAddr, opts: &PingOptions) -> Result<PingReport, ProbeError> {
    opts.validate(dst)?;
    let mut sock = IcmpSocket::open("ping", dst, opts.bind())?;
    if let Some(ttl) = opts.ttl {
        sock.set_ttl(ttl)
            .map_err(|e| ProbeError::io("ping: set the TTL", e))?;
    }
    if opts.broadcast {
        sock.allow_broadcast()
            .map_err(|e| ProbeError::io("ping: setsockopt SO_BROADCAST", e))?;
    }
    if opts.dont_fragment {
        sock.forbid_fragmentation()
            .map_err(|e| ProbeError::io("ping: forbid fragmentation", e))?;
    }
    let is_v6 = dst.is_ipv6();
    let ident = sock::next_ident();
    let nonce = sock::random_u64();
    let payload = icmp::echo_payload(nonce, opts.payload_size);
    let nonce_len = opts.payload_size.min(8);

    let count = opts.count as usize;
    let start = Instant::now();
    // The options are at most `MAX_WAIT`, so these sums cannot overflow.
    let deadline = opts.deadline.map(|d| start + d);
    let mut sent_at: Vec<Instant> = Vec::with_capacity(count);
    let mut answered: Vec<bool> = Vec::with_capacity(count);
    let mut got_reply: HashSet<u16> = HashSet::new();
    let mut replies = Vec::new();
    let mut errors = Vec::new();
    // When the next request leaves; `None` once none is left to send.
    let mut next_send = Some(start);
    let mut last_send = start;
    let mut drained = false;

    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        if let Some(due) = next_send.filter(|due| now >= *due) {
            let seq = (sent_at.len() + 1) as u16;
            let pkt = icmp::echo_request(is_v6, ident, seq, &payload);
            let t = Instant::now();
            let res = sock.send_to(&pkt, dst);
            sent_at.push(t);
            last_send = t;
            answered.push(false);
            if let Err(e) = res {
                // The kernel refuses a broadcast destination without
                // SO_BROADCAST with EACCES, as it refuses a `prohibit` route;
                // only the former is the caller's mistake.
                if e.raw_os_error() == Some(libc::EACCES) && !opts.broadcast && is_broadcast(dst) {
                    return Err(ProbeError::Broadcast { destination: dst });
                }
                answered[usize::from(seq) - 1] = true;
                errors.push(PingError {
                    seq,
                    from: None,
                    kind: PingErrorKind::Send {
                        errno: e.raw_os_error().unwrap_or(0),
                    },
                    at: t - start,
                });
            }
            next_send = if sent_at.len() < count {
                due.checked_add(opts.interval).map(|n| n.max(t))
            } else {
                None
            };
            continue;
        }
        let all_sent = next_send.is_none();
        // When the last unanswered request stops waiting.
        let expiry = sent_at
            .iter()
            .zip(&answered)
            .filter(|(_, a)| !**a)
            .map(|(t, _)| *t + opts.timeout)
            .max();
        // Past the last expiry, look once more without waiting: a thread
        // woken late (a loaded machine) must not miss a reply already queued.
        let expired = all_sent && expiry.is_none_or(|e| now >= e);
        if expired && drained {
            break;
        }
        let mut wake = if expired {
            now
        } else if all_sent {
            expiry.unwrap_or(now)
        } else {
            next_send.unwrap_or(now)
        };
        if let Some(d) = deadline {
            wake = wake.min(d);
        }
        let Some(rx) = sock.recv(wake)? else {
            drained = expired;
            continue;
        };
        match rx.msg {
            Incoming::EchoReply {
                ident: id,
                seq,
                payload: got,
                icmp_len,
            } => {
                let idx = usize::from(seq);
                if id != ident || idx == 0 || idx > sent_at.len() {
                    continue;
                }
                if got.len() < nonce_len || got[..nonce_len] != payload[..nonce_len] {
                    continue;
                }
                let duplicate = !got_reply.insert(seq);
                answered[idx - 1] = true;
                replies.push(EchoReply {
                    seq,
                    ttl: rx.ttl,
                    rtt: rx.at.saturating_duration_since(sent_at[idx - 1]),
                    from: rx.from,
                    bytes: icmp_len,
                    duplicate,
                    at: rx.at.saturating_duration_since(start),
                });
            }
            Incoming::Error {
                kind,
                quoted:
                    Quoted::Echo {
                        dst: qdst,
                        ident: id,
                        seq,
                    },
            } => {
                let idx = usize::from(seq);
                if id != ident || qdst != dst || idx == 0 || idx > sent_at.len() {
                    continue;
                }
                answered[idx - 1] = true;
                errors.push(PingError {
                    seq,
                    from: Some(rx.from),
                    kind: PingErrorKind::Icmp(kind),
                    at: rx.at.saturating_duration_since(start),
                });
            }
            Incoming::Error { .. } => {}
        }
    }

    let duplicates = replies.iter().filter(|r| r.duplicate).count() as u32;
    Ok(PingReport {
        destination: dst,
        payload_size: opts.payload_size,
        transmitted: sent_at.len() as u32,
        received: got_reply.len() as u32,
        duplicates,
        errors,
        replies,
        time: last_send - start,
    })
}

/// Whether `dst` is a broadcast address for the calling thread's namespace:
/// the limited broadcast 255.255.255.255, or the broadcast address of a
/// subnet on one of its interfaces (the kernel's `broadcast` routes: the
/// address an interface announces, and the last address of each prefix
/// shorter than /31).
fn is_broadcast(dst: IpAddr) -> bool {
    let IpAddr::V4(dst) = dst else {
        return false;
    };
    if dst == Ipv4Addr::BROADCAST {
        return true;
    }
    let v4 = |a: Option<nix::sys::socket::SockaddrStorage>| {
        a.and_then(|a| a.as_sockaddr_in().map(|s| s.ip()))
    };
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return false;
    };
    addrs.into_iter().any(|ifa| {
        if v4(ifa.broadcast) == Some(dst) {
            return true;
        }
        match (v4(ifa.address), v4(ifa.netmask)) {
            (Some(addr), Some(mask)) => {
                let mask = u32::from(mask);
                mask.count_ones() < 31 && u32::from(addr) | !mask == u32::from(dst)
            }
            _ => false,
        }
    })
}
